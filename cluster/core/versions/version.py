"""The versions a state holds, one class per versioning, and their JSON form.

- ``DvvVersion``: a value with its dot (the event that wrote it) and the causal past its writer
  had seen (dotted version vectors, Preguiça et al. 2012);
- ``VclockVersion``: a value with its vector clock of ``(node, counter, timestamp_ms)`` entries
  (DeCandia et al. 2007, §4.4);
- ``LwwVersion``: a value with the coordinator's wall-clock timestamp and name.

A version holds its value as canonical JSON (``"null"`` is a tombstone). Each computes its
canonical text (``sort_key``) once: it orders siblings, breaks ties, and is spliced, never
re-encoded, into a state's text and digest; it remembers its decoded value when that value is
immutable. ``_version_from_json`` reads one entry of a stored or received state, telling the
kinds apart by their keys (``dot``/``past``, ``clock``, ``ts``/``node``); the ``_new_*``
builders skip the frozen ``__init__`` on the hot paths. Pure values: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, ClassVar

from cluster.core.versions.encoding import (
    _decode_value,
    _encode_value,
    _is_count,
    _is_name,
    _is_sorted_count_map,
    _new_instance,
)

_TOMBSTONE_JSON = "null"
# Values of these exact types are immutable, so a version may hand out the same object each
# time it is asked for its value; containers are decoded afresh, as callers may change them.
_IMMUTABLE_VALUE_TYPES = frozenset({str, int, float, bool, type(None)})
_NOT_DECODED: Any = object()  # marks a version that has not remembered its value


def _join(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """The least upper bound of two version vectors."""
    joined = dict(a)
    for node, counter in b.items():
        joined[node] = max(joined.get(node, 0), counter)
    return joined


class _Derived:
    """What a version derives from its fields, computed at most once, when first needed (a
    version is immutable). Plain class attributes, not dataclass fields: equality, hashing and
    ``repr`` ignore them, and an instance stores one only once it is computed."""

    # The canonical JSON text of ``to_json()``, spliced from the fields (see ``sort_key``).
    _key: str | None = None
    # The decoded value, once known, when it is immutable (see ``_remember_value``).
    _decoded: Any = _NOT_DECODED
    # VclockVersion: ``{node: counter}``, for comparing clocks; never handed out.
    _counters: dict[str, int] | None = None


@dataclass(frozen=True)
class _Version(_Derived):
    value_json: str  # canonical JSON of the value; "null" is a tombstone

    @property
    def value(self) -> Any:
        """The value (``None`` for a tombstone); a list or an object comes as a fresh copy,
        which the caller may change."""
        decoded = self._decoded
        if decoded is not _NOT_DECODED:
            return decoded
        decoded = _decode_value(self.value_json)
        _remember_value(self, decoded)
        return decoded

    @property
    def is_tombstone(self) -> bool:
        return self.value_json == _TOMBSTONE_JSON

    def to_json(self) -> dict[str, object]:
        raise NotImplementedError

    @property
    def sort_key(self) -> str:
        """The canonical JSON text of ``to_json()``: it orders siblings and breaks ties."""
        key = self._key
        if key is None:
            key = self._canonical_text()
            object.__setattr__(self, "_key", key)
        return key

    def _canonical_text(self) -> str:
        raise NotImplementedError


def _remember_value(version: _Version, value: Any) -> None:
    """Tell ``version`` its decoded value (which its ``value_json`` encodes) when that value
    is immutable, so that ``to_json`` and ``values`` need not decode it again. Containers are
    decoded afresh each time: callers may change them."""
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        object.__setattr__(version, "_decoded", value)


@dataclass(frozen=True)
class DvvVersion(_Version):
    """A value created by event ``(node, counter)`` (its dot) after seeing ``past``."""

    node: str
    counter: int
    past: tuple[tuple[str, int], ...]  # sorted by node; past[node] < counter
    KIND: ClassVar[str] = "dvv"

    def __eq__(self, other: Any) -> bool:
        # The generated ``__eq__`` builds a tuple of every field on each side; states are
        # compared on every merge, and two versions mostly differ in their dot.
        if other.__class__ is not DvvVersion:
            return NotImplemented
        return (
            self.counter == other.counter
            and self.node == other.node
            and self.past == other.past
            and self.value_json == other.value_json
        )

    def clock(self) -> dict[str, int]:
        return _join(dict(self.past), {self.node: self.counter})

    def seen_by(self, other: DvvVersion) -> bool:
        """``other`` has this version in its causal history (or is the same event and wins the
        deterministic tie between two values claiming one dot)."""
        if other.node == self.node and other.counter == self.counter:
            return other.sort_key >= self.sort_key
        return dict(other.past).get(self.node, 0) >= self.counter

    def to_json(self) -> dict[str, object]:
        return {
            "value": self.value,
            "dot": [self.node, self.counter],
            "past": dict(self.past),
        }

    def _canonical_text(self) -> str:
        # Keys in sorted order (dot, past, value), and ``past`` is sorted by node, exactly as
        # ``sort_keys`` writes them.
        past = ",".join([f"{encode_basestring(n)}:{c}" for n, c in self.past])
        return (
            f'{{"dot":[{encode_basestring(self.node)},{self.counter}],'
            f'"past":{{{past}}},"value":{self.value_json}}}'
        )


@dataclass(frozen=True)
class VclockVersion(_Version):
    """A value with its vector clock: ``(node, counter, timestamp_ms)`` entries, sorted."""

    entries: tuple[tuple[str, int, int], ...]
    KIND: ClassVar[str] = "vclock"

    def clock(self) -> dict[str, int]:
        return {node: counter for node, counter, _ in self.entries}

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "clock": {n: [c, t] for n, c, t in self.entries}}

    def _canonical_text(self) -> str:
        # {"clock":{node:[counter,timestamp],...},"value":...}, entries sorted by node.
        clock = ",".join([f"{encode_basestring(n)}:[{c},{t}]" for n, c, t in self.entries])
        return f'{{"clock":{{{clock}}},"value":{self.value_json}}}'

    @property
    def _clock(self) -> dict[str, int]:
        """``clock()`` without the copy, computed once: for comparisons only."""
        counters = self._counters
        if counters is None:
            counters = {node: counter for node, counter, _ in self.entries}
            object.__setattr__(self, "_counters", counters)
        return counters


@dataclass(frozen=True)
class LwwVersion(_Version):
    """A value stamped with the coordinator's wall clock and name."""

    timestamp_ms: int
    node: str
    KIND: ClassVar[str] = "lww"

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "ts": self.timestamp_ms, "node": self.node}

    def _canonical_text(self) -> str:
        # {"node":...,"ts":...,"value":...}: keys in sorted order.
        return (
            f'{{"node":{encode_basestring(self.node)},"ts":{self.timestamp_ms},'
            f'"value":{self.value_json}}}'
        )


Version = DvvVersion | VclockVersion | LwwVersion

# Building versions on the hot paths (``from_json``, ``update``). The generated ``__init__`` of a
# frozen dataclass stores each field through ``object.__setattr__``, which costs as much as all
# the rest of building a version; these builders put the same fields straight into the new
# instance's ``__dict__``, leaving exactly the state ``__init__`` leaves (the version classes
# have no ``__post_init__``), plus the decoded value when it is immutable (``_remember_value``).


def _new_dvv(
    value_json: str, node: str, counter: int, past: tuple[tuple[str, int], ...], value: Any
) -> DvvVersion:
    version = _new_instance(DvvVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["node"] = node
    fields["counter"] = counter
    fields["past"] = past
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


def _new_vclock(
    value_json: str, entries: tuple[tuple[str, int, int], ...], value: Any
) -> VclockVersion:
    version = _new_instance(VclockVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["entries"] = entries
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


def _new_lww(value_json: str, timestamp_ms: int, node: str, value: Any) -> LwwVersion:
    version = _new_instance(LwwVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["timestamp_ms"] = timestamp_ms
    fields["node"] = node
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


def _version_from_json(entry: object, index: int) -> Version:
    """Entry ``index`` of a state's JSON form, as a version; ``ValueError`` naming the problem
    otherwise."""
    if not isinstance(entry, dict) or "value" not in entry:
        raise ValueError(f"siblings[{index}]: expected an object with a 'value'")
    value = entry["value"]
    value_json = _encode_value(value)
    # The shapes differ in their key sets: {value, dot, past}, {value, clock}, {value, ts, node}
    # (``value`` is present, so a count and two memberships decide).
    size = len(entry)
    version: Version | None
    if size == 3 and "dot" in entry and "past" in entry:
        version = _dvv_fast(value_json, entry["dot"], entry["past"], value)
        if version is None:
            version = _dvv_checked(value_json, entry["dot"], entry["past"], index)
            _remember_value(version, value)
        return version
    if size == 2 and "clock" in entry:
        version = _vclock_fast(value_json, entry["clock"], value)
        if version is None:
            version = _vclock_checked(value_json, entry["clock"], index)
            _remember_value(version, value)
        return version
    if size == 3 and "ts" in entry and "node" in entry:
        if not _is_count(entry["ts"], 0) or not _is_name(entry["node"]):
            raise ValueError(f"siblings[{index}]: 'ts' must be an integer >= 0 and 'node' a name")
        return _new_lww(value_json, entry["ts"], entry["node"], value)
    raise ValueError(
        f"siblings[{index}]: unknown version shape with keys {sorted(set(entry))}; expected "
        "value+dot+past (dvv), value+clock (vclock) or value+ts+node (lww)"
    )


# The ``_fast`` readers accept the shape ``to_json`` writes (plain strings and integers, nodes
# already sorted) in one pass; for anything else they return None and the ``_checked`` readers
# decide, naming the problem if there is one.


def _dvv_fast(value_json: str, dot: object, past: object, value: Any) -> DvvVersion | None:
    if not (type(dot) is list and len(dot) == 2 and type(past) is dict):
        return None
    node, counter = dot
    if not (type(node) is str and node and type(counter) is int and counter >= 1):
        return None
    entries = tuple(past.items())
    if not _is_sorted_count_map(entries, 1) or past.get(node, 0) >= counter:
        return None
    return _new_dvv(value_json, node, counter, entries, value)


def _dvv_checked(value_json: str, dot: object, past: object, index: int) -> DvvVersion:
    where = f"siblings[{index}]"
    if not (isinstance(dot, list) and len(dot) == 2 and _is_name(dot[0]) and _is_count(dot[1], 1)):
        raise ValueError(f"{where}: 'dot' must be [node, counter >= 1]")
    if not isinstance(past, dict) or not all(
        _is_name(n) and _is_count(c, 1) for n, c in past.items()
    ):
        raise ValueError(f"{where}: 'past' must map node names to counters >= 1")
    if past.get(dot[0], 0) >= dot[1]:
        raise ValueError(f"{where}: the dot {dot} is already in its own past")
    return DvvVersion(value_json, dot[0], dot[1], tuple(sorted(past.items())))


def _vclock_fast(value_json: str, clock: object, value: Any) -> VclockVersion | None:
    if not (type(clock) is dict and clock):
        return None
    entries = []
    previous = ""
    for node, entry in clock.items():
        if not (type(node) is str and node > previous and type(entry) is list and len(entry) == 2):
            return None
        counter, stamp = entry
        if not (type(counter) is int and counter >= 1 and type(stamp) is int and stamp >= 0):
            return None
        entries.append((node, counter, stamp))
        previous = node
    return _new_vclock(value_json, tuple(entries), value)


def _vclock_checked(value_json: str, clock: object, index: int) -> VclockVersion:
    if (
        not isinstance(clock, dict)
        or not clock
        or not all(
            _is_name(n)
            and isinstance(e, list)
            and len(e) == 2
            and _is_count(e[0], 1)
            and _is_count(e[1], 0)
            for n, e in clock.items()
        )
    ):
        raise ValueError(
            f"siblings[{index}]: 'clock' must map node names to [counter, timestamp_ms]"
        )
    return VclockVersion(value_json, tuple(sorted((n, e[0], e[1]) for n, e in clock.items())))
