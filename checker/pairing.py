"""Pairs invocation and completion records into `Op`s under one format's conventions.

No I/O. Readers feed records in file order; each convention says what ``fail``, ``info`` and a
read of nil mean in its source format:

- ``knossos`` (Jepsen ``history.edn``): a ``fail`` had no effect and is dropped; an op that
  never completes (or completes with ``info``) may take effect at any time after its
  invocation, or never; an ``ok`` read of nil matches any state; the completion's value
  replaces the invocation's, as Knossos does.
- ``porcupine`` (Jepsen etcd logs as Porcupine reads them): an ``ok`` read of nil means the
  register was empty; ``fail cas [from to]`` ran and found a value other than ``from``;
  any other ``fail`` (a timed-out read, for instance) and every ``info`` leave the outcome
  unknown.
- ``zynamo`` (this project's JSON Lines, docs/history.md): ``fail`` had no effect, ``info``
  and a missing completion are unknown, a read of null means the key had no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.ops import ANY, HistoryError, Op

CONVENTIONS = ("knossos", "porcupine", "zynamo")
READ_FUNCTIONS = frozenset({"read", "get"})


@dataclass(slots=True)
class _Pending:
    process: Any
    f: str
    key: Any
    value: Any
    call: int
    line: int
    slot: int


class Pairer:
    """Collects records (in file order) and returns the paired operations."""

    def __init__(self, path: str, convention: str) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"unknown convention {convention!r}")
        self._path = path
        self._convention = convention
        self._pending: dict[Any, _Pending] = {}
        self._slots: list[Op | _Pending | None] = []  # one per invocation, in order
        self._slot_of: dict[Any, int] = {}
        self._position = 0
        self._canonical: dict[Any, Any] = {}

    def invoke(self, process: Any, f: str, key: Any, value: Any, line: int) -> None:
        """An invocation record."""
        previous = self._slot_of.get(process)
        if previous is not None:
            # The process invoked again without completing: its earlier op never completes.
            self._finish_unknown(previous)
        slot = len(self._slots)
        # One object per distinct function, key and process, not one per record: a long
        # history holds millions of them.
        canonical = self._canonical
        f = canonical.setdefault((str, f), f)
        try:
            # keyed by type too: 1, 1.0 and True are equal but print differently
            key = canonical.setdefault((key.__class__, key), key)
            process = canonical.setdefault((process.__class__, process), process)
        except TypeError:
            pass  # unhashable: kept as it is
        pending = _Pending(process, f, key, _freeze(value), self._position, line, slot)
        self._slot_of[process] = slot
        self._slots.append(pending)
        self._position += 1

    def complete(self, process: Any, kind: str, f: str, value: Any, line: int) -> None:
        """A completion record: kind is ok, fail or info."""
        slot = self._slot_of.pop(process, None)
        if slot is None:
            if kind == "info":  # Jepsen allows an info with no invocation; it says nothing
                return
            raise HistoryError(
                self._path, line, f"{kind} completion from process {process} with no invocation"
            )
        pending = self._slots[slot]
        assert isinstance(pending, _Pending)
        if f != pending.f:
            raise HistoryError(
                self._path,
                line,
                f"completion :f {f} does not match the invocation's :f {pending.f} "
                f"(line {pending.line})",
            )
        self._slots[slot] = self._complete(pending, kind, _freeze(value), line)
        self._position += 1

    def ops(self) -> list[Op]:
        """Every operation, in invocation order; unfinished invocations never complete."""
        for slot in list(self._slot_of.values()):
            self._finish_unknown(slot)
        self._slot_of.clear()
        result: list[Op] = []
        for item in self._slots:
            assert isinstance(item, Op)
            result.append(item)
        return result

    def _finish_unknown(self, slot: int) -> None:
        pending = self._slots[slot]
        assert isinstance(pending, _Pending)
        self._slots[slot] = self._op(pending, pending.value, ANY, "info", None, None)

    def _op(
        self,
        pending: _Pending,
        value: Any,
        output: Any,
        kind: str,
        ret: int | None,
        ret_line: int | None,
    ) -> Op:
        f = pending.f
        return Op(
            pending.slot,
            pending.process,
            f,
            pending.key,
            None if f in READ_FUNCTIONS else value,
            output,
            kind,
            pending.call,
            ret,
            pending.line,
            ret_line,
        )

    def _complete(self, pending: _Pending, kind: str, value: Any, line: int) -> Op:
        convention = self._convention
        is_read = pending.f in READ_FUNCTIONS
        position = self._position
        if kind == "ok":
            if is_read:
                output = ANY if (value is None and convention == "knossos") else value
                return self._op(pending, None, output, "ok", position, line)
            # Knossos takes the completion's value; an ok without one keeps the invocation's.
            arg = value if (convention == "knossos" and value is not None) else pending.value
            self._check_cas(pending, arg, line)
            output = True if pending.f == "cas" else None
            return self._op(pending, arg, output, "ok", position, line)
        if kind == "fail":
            if convention == "porcupine":
                if pending.f == "cas" and _is_pair(value):
                    # etcd's compare failed: an observation that the value was not `from`
                    return self._op(pending, pending.value, False, "ok", position, line)
                return self._op(pending, pending.value, ANY, "info", None, line)
            return self._op(pending, pending.value, ANY, "fail", position, line)
        if kind == "info":
            self._check_cas(pending, pending.value, line)
            return self._op(pending, pending.value, ANY, "info", None, line)
        raise HistoryError(self._path, line, f"unknown completion type {kind!r}")

    def _check_cas(self, pending: _Pending, value: Any, line: int) -> None:
        if pending.f == "cas" and not _is_pair(value):
            raise HistoryError(self._path, line, f"a cas needs a value [from to], got {value!r}")


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2


_ATOMS = frozenset({int, str, float, bool, type(None)})


def _freeze(value: Any) -> Any:
    """Make a value hashable: lists become tuples, sets frozensets, dicts sorted item tuples."""
    if value.__class__ in _ATOMS:
        return value
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((k, _freeze(v)) for k, v in value.items()), key=repr))
    return value
