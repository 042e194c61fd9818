"""Views of this project's history records (docs/history.md) that the Dynamo checks share.

No I/O. `client_ops` pairs each client invocation with its completion; `fault_intervals`
finds when nemesis faults were active; `heal_time_ns` is when the last fault was healed;
`dominates` compares causal contexts (``{node: counter}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLIENT_FUNCTIONS = frozenset(
    {"read", "write", "cas", "add", "remove", "delete", "get", "put", "append"}
)
WRITE_FUNCTIONS = frozenset({"write", "add", "remove", "delete", "put", "append", "cas"})


@dataclass(frozen=True, slots=True)
class ClientOp:
    """A client operation: its invocation and completion records (completion may be None)."""

    process: Any
    f: str
    key: Any
    type: str  # ok | fail | info (an invocation with no completion is info)
    invoke: Mapping[str, Any]
    complete: Mapping[str, Any] | None
    start_ns: int  # invocation time
    end_ns: int | None  # completion time; None when it never completed

    @property
    def value(self) -> Any:
        """The argument (write, add) or, for a read, what it returned."""
        if self.f in ("read", "get") and self.complete is not None:
            return self.complete.get("value")
        if self.complete is not None and "value" in self.complete:
            return self.complete["value"]
        return self.invoke.get("value")

    def field(self, name: str, default: Any = None) -> Any:
        """A Dynamo field (n, r, w, replicas, fallbacks, context, version...) of the completion."""
        if self.complete is not None and name in self.complete:
            return self.complete[name]
        return self.invoke.get(name, default)

    @property
    def is_final(self) -> bool:
        return bool(self.field("final", False)) or self.process == "final"

    def to_json(self) -> dict[str, Any]:
        """A short description for results."""
        out: dict[str, Any] = {
            "index": self.invoke.get("index"),
            "process": self.process,
            "type": self.type,
            "f": self.f,
            "key": self.key,
            "value": self.value,
            "start_ns": self.start_ns,
        }
        if self.end_ns is not None:
            out["end_ns"] = self.end_ns
        node = self.field("coordinator") or self.field("node")
        if node is not None:
            out["node"] = node
        return out


def client_ops(records: list[dict[str, Any]]) -> list[ClientOp]:
    """Pair client invocations and completions (same process, next completion), in
    invocation order. Nemesis operations and replica dumps are not client operations."""
    ops: list[ClientOp | None] = []
    open_by_process: dict[Any, tuple[int, dict[str, Any]]] = {}
    for record in records:
        f = record.get("f")
        process = record.get("process")
        if f not in CLIENT_FUNCTIONS or process == "nemesis":
            continue
        kind = record.get("type")
        if kind == "invoke":
            if process in open_by_process:  # invoked again: the earlier one never completed
                slot, invoke = open_by_process.pop(process)
                ops[slot] = _unfinished(invoke)
            open_by_process[process] = (len(ops), record)
            ops.append(None)
        elif process in open_by_process:
            slot, invoke = open_by_process.pop(process)
            kind = kind if kind in ("ok", "fail", "info") else "info"
            ops[slot] = ClientOp(
                process,
                invoke["f"],
                invoke.get("key"),
                kind,
                invoke,
                record,
                int(invoke.get("time", 0)),
                int(record.get("time", 0)),
            )
    for slot, invoke in open_by_process.values():
        ops[slot] = _unfinished(invoke)
    return [op for op in ops if op is not None]


def _unfinished(invoke: dict[str, Any]) -> ClientOp:
    return ClientOp(
        invoke.get("process"),
        invoke["f"],
        invoke.get("key"),
        "info",
        invoke,
        None,
        int(invoke.get("time", 0)),
        None,
    )


@dataclass(frozen=True, slots=True)
class FaultInterval:
    """A nemesis fault active from ``start_ns`` to ``end_ns`` (None: never healed)."""

    fault: str
    start_ns: int
    end_ns: int | None

    def contains(self, time_ns: int) -> bool:
        return self.start_ns <= time_ns and (self.end_ns is None or time_ns < self.end_ns)

    def to_json(self) -> dict[str, Any]:
        return {"fault": self.fault, "start_ns": self.start_ns, "end_ns": self.end_ns}


def _nemesis_completions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in records
        if r.get("process") == "nemesis"
        and r.get("type") in ("info", "ok")
        and isinstance(r.get("f"), str)
    ]


def fault_intervals(records: list[dict[str, Any]]) -> list[FaultInterval]:
    """Each fault is active from the completion of its start-* to the completion of the
    matching stop-* (or to the end of the history)."""
    active: dict[str, int] = {}
    intervals: list[FaultInterval] = []
    for record in _nemesis_completions(records):
        f = record["f"]
        time_ns = int(record.get("time", 0))
        if f.startswith("start-"):
            fault = f[len("start-") :]
            active.setdefault(fault, time_ns)
        elif f.startswith("stop-"):
            fault = f[len("stop-") :]
            if fault in active:
                intervals.append(FaultInterval(fault, active.pop(fault), time_ns))
    for fault, start in active.items():
        intervals.append(FaultInterval(fault, start, None))
    intervals.sort(key=lambda interval: interval.start_ns)
    return intervals


def heal_time_ns(records: list[dict[str, Any]]) -> int | None:
    """Completion time of the last stop-* nemesis operation (None if there was none)."""
    times = [
        int(r.get("time", 0)) for r in _nemesis_completions(records) if r["f"].startswith("stop-")
    ]
    return max(times) if times else None


def dominates(newer: Mapping[str, int] | None, older: Mapping[str, int] | None) -> bool:
    """Does causal context ``newer`` include everything ``older`` does (pointwise >=)?"""
    if not older:
        return True
    if not newer:
        return False
    return all(newer.get(node, 0) >= counter for node, counter in older.items())


def freeze_context(context: Mapping[str, int] | None) -> tuple[tuple[str, int], ...]:
    """A hashable, canonical form of a causal context (zero counters dropped)."""
    if not context:
        return ()
    return tuple(sorted((node, int(c)) for node, c in context.items() if int(c) != 0))
