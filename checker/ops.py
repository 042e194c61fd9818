"""The operation record that every history reader produces and the linearizability checker reads.

No I/O. An `Op` is one client operation, its invocation paired with its completion, with the
semantics of the source format already applied by the reader:

- ``type == "ok"``: the operation took effect between its invocation (``call``) and its
  completion (``ret``); ``output`` is what it observed (a read's value, a cas's outcome);
- ``type == "fail"``: it certainly had no effect; checkers skip it;
- ``type == "info"``: unknown; it may take effect at any time after its invocation, or never
  (``ret`` is None).

``call`` and ``ret`` are positions of records in the source, so real-time order is file order;
``line`` and ``ret_line`` are the source lines, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class _AnyValue:
    """The value of a read whose result is unknown: it matches any state."""

    _instance: _AnyValue | None = None

    def __new__(cls) -> _AnyValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"

    def __reduce__(self) -> str:
        return "ANY"


ANY: Any = _AnyValue()
"""Output of a read that constrains nothing (Knossos's ``:ok :read nil``, a timed-out read)."""

CLIENT_FUNCTIONS = frozenset({"read", "write", "cas", "get", "put", "append", "add", "delete"})


@dataclass(frozen=True, slots=True)
class Op:
    """One client operation: invocation and completion, as the checker sees them."""

    id: int  # order of invocation among the history's client operations, from 0
    process: Any  # the logical process (an int for clients)
    f: str  # read / write / cas / get / put / append / add / delete
    key: Any  # the independent key (None when the history has none)
    value: Any  # the argument: value written / appended / added, (from, to) for a cas
    output: Any  # what a completed op observed: read value (or ANY); cas True/False
    type: str  # "ok" | "fail" | "info"
    call: int  # position of the invocation among the history's records (real-time order)
    ret: int | None  # position of the completion; None: may take effect at any time, or never
    line: int  # source line of the invocation (for messages)
    ret_line: int | None = None  # source line of the completion

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable description for results and messages."""
        out: dict[str, Any] = {
            "id": self.id,
            "line": self.line,
            "process": self.process,
            "type": self.type,
            "f": self.f,
        }
        if self.key is not None:
            out["key"] = to_json_value(self.key)
        if self.f in ("read", "get"):
            out["value"] = None if self.output is ANY else to_json_value(self.output)
        else:
            out["value"] = to_json_value(self.value)
            if self.f == "cas" and self.type == "ok" and self.output is False:
                out["outcome"] = "value was not 'from'"
        if self.ret_line is not None:
            out["completed_line"] = self.ret_line
        return out

    def describe(self) -> str:
        """A one-line human description, e.g. ``p3 cas [1, 4] (line 12-15)``."""
        if self.f in ("read", "get"):
            shown = "?" if self.output is ANY else _short(self.output)
            what = f"{self.f} -> {shown}"
        elif self.f == "cas" and self.type == "ok" and self.output is False:
            what = f"cas {_short(self.value)} -> value was not {_short(self.value[0])}"
        else:
            what = f"{self.f} {_short(self.value)}"
        key = "" if self.key is None else f" key {_short(self.key)}"
        end = "never completed" if self.ret_line is None else f"completed line {self.ret_line}"
        return f"p{self.process}{key} {what} ({self.type}; invoked line {self.line}, {end})"


class HistoryError(ValueError):
    """A history that cannot be read: names the file and line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.message = message


def to_json_value(value: Any) -> Any:
    """Convert a hashable history value (tuple, frozenset, ANY) to plain JSON types."""
    if value is ANY:
        return None
    if isinstance(value, tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((to_json_value(v) for v in value), key=repr)
    return value


def _short(value: Any) -> str:
    text = "nil" if value is None else repr(to_json_value(value))
    return text if len(text) <= 60 else text[:57] + "..."
