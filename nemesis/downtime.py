"""What each kill cost the clients: the window during which the nodes a ``start-kill`` killed
were down (from its completion to the completion of the ``stop-kill`` that restarted them, or
the heal, or the end of the history), and the client operations that failed (``fail``) or whose
outcome is unknown (``info``, or never completed) while it lasted — every such operation in
flight at some moment of the window — with how many of them were sent to a killed node (it was
their coordinator). A kill that no request noticed took nodes down that nobody needed.

Pure functions over history lines (the dicts of ``history.jsonl``, docs/history.md); no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NEMESIS = "nemesis"
FINAL = "final"  # the final replica dumps: not client requests
FAILED_TYPES = ("fail", "info")
# Faults whose start takes nodes down and whose stop brings them back, with the value's key
# naming the nodes on each side (a disk fault crashes its targets, then restarts them).
DOWN_KEYS = {"start-kill": ("nodes",), "start-disk": ("nodes",)}
UP_KEYS = {"stop-kill": ("nodes", "down_s"), "stop-disk": ("restarted", "down_s")}


@dataclass(frozen=True)
class KillCost:
    """One kill's window and the client requests that failed while it lasted."""

    fault: str  # "kill" or "disk"
    nodes: tuple[str, ...]
    from_ns: int
    until_ns: int | None  # None: nothing brought the nodes back before the history ended
    down_s: Mapping[str, float] = field(default_factory=dict)  # as the stop op measured it
    failed: int = 0  # ended ``fail``
    indefinite: int = 0  # ended ``info`` or never completed
    sent_to: Mapping[str, int] = field(default_factory=dict)  # of those, sent to each node

    @property
    def requests_failed(self) -> int:
        return self.failed + self.indefinite

    def cost(self) -> str:
        """``412 requests failed (380 fail, 32 info; 97 sent to n3)``."""
        return describe_cost(self.failed, self.indefinite, self.sent_to, self.nodes)

    def summary(self) -> str:
        """``kill n3: down 23.3 s, 412 requests failed (380 fail, 32 info; 97 sent to n3)``."""
        down = sorted(set(self.down_s.values()))
        if len(down) == 1:
            how_long = f"down {down[0]:.1f} s"
        elif down:
            how_long = "down " + ", ".join(f"{n} {s:.1f} s" for n, s in self.down_s.items())
        else:
            how_long = "down until the end" if self.until_ns is None else "down"
        return f"{self.fault} {', '.join(self.nodes)}: {how_long}, {self.cost()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "nodes": list(self.nodes),
            "from_ns": self.from_ns,
            "until_ns": self.until_ns,
            "down_s": dict(self.down_s),
            "requests_failed": self.requests_failed,
            "failed": self.failed,
            "indefinite": self.indefinite,
            "sent_to_killed": dict(self.sent_to),
            "summary": self.summary(),
        }


def describe_cost(
    failed: int, indefinite: int, sent_to: Mapping[str, int], nodes: Sequence[str]
) -> str:
    """``12 requests failed (9 fail, 3 info; 5 sent to n4, 0 to n5)``, or ``no request
    failed``."""
    total = failed + indefinite
    if not total:
        return "no request failed"
    noun = "request" if total == 1 else "requests"
    sent = ", ".join(
        f"{sent_to.get(node, 0):,} {'sent to ' if i == 0 else 'to '}{node}"
        for i, node in enumerate(nodes)
    )
    return f"{total:,} {noun} failed ({failed:,} fail, {indefinite:,} info; {sent})"


@dataclass(frozen=True)
class _ClientOp:
    start_ns: int
    end_ns: int | None  # None: never completed
    type: str  # the completion's type; "info" when it never completed
    node: str | None


def kill_costs(history: Sequence[Mapping[str, Any]]) -> list[KillCost]:
    """Every kill of the history (and every disk fault, which crashes its targets), in order,
    with the client requests that failed while its nodes were down."""
    lines = [line for line in history if line.get("process") != FINAL]
    end_ns = max((int(line.get("time", 0)) for line in lines), default=0)
    windows = _down_windows(lines)
    # Only failures can count, and they are few: filter once, not once per kill.
    ops = [op for op in _client_ops(lines) if op.type in FAILED_TYPES]
    costs = []
    for fault, nodes, from_ns, until_ns, down_s in windows:
        last_ns = end_ns if until_ns is None else until_ns
        failed = indefinite = 0
        sent_to = dict.fromkeys(nodes, 0)
        for op in ops:
            if op.start_ns > last_ns:
                continue
            if op.end_ns is not None and op.end_ns < from_ns:
                continue
            if op.type == "fail":
                failed += 1
            else:
                indefinite += 1
            if op.node in sent_to:
                sent_to[op.node] += 1
        costs.append(KillCost(fault, nodes, from_ns, until_ns, down_s, failed, indefinite, sent_to))
    return costs


def cost_so_far(history: Sequence[Mapping[str, Any]]) -> str | None:
    """For the progress line of a ``stop-kill`` being applied now: the requests that ended
    failed or unknown since the open kill began (those still in flight are not known yet, so
    the final count may be a little higher), or None when no kill is open."""
    failed = indefinite = 0
    sent_to: dict[str, int] = {}
    for line in reversed(history):
        process = line.get("process")
        if process == NEMESIS:
            if line.get("type") == "invoke":
                continue  # the stop being applied now has been invoked
            if line.get("f") in DOWN_KEYS:
                nodes = _named(line.get("value"), DOWN_KEYS[str(line["f"])])
                if not nodes or "error" in line:
                    return None
                counts = {node: sent_to.get(node, 0) for node in nodes}
                return describe_cost(failed, indefinite, counts, nodes) + " so far"
            if line.get("f") in UP_KEYS or line.get("f") == "stop-all":
                return None  # the last kill already ended
            continue
        if process == FINAL or line.get("type") not in FAILED_TYPES:
            continue
        if line.get("type") == "fail":
            failed += 1
        else:
            indefinite += 1
        node = line.get("node")
        if isinstance(node, str):
            sent_to[node] = sent_to.get(node, 0) + 1
    return None


def _down_windows(
    lines: Sequence[Mapping[str, Any]],
) -> list[tuple[str, tuple[str, ...], int, int | None, dict[str, float]]]:
    """(fault, nodes, from, until or None, down_s) of every start that took nodes down."""
    open_windows: list[tuple[str, tuple[str, ...], int]] = []
    windows: list[tuple[str, tuple[str, ...], int, int | None, dict[str, float]]] = []
    for line in lines:
        if line.get("process") != NEMESIS or line.get("type") == "invoke" or "error" in line:
            continue
        f = str(line.get("f"))
        at_ns = int(line.get("time", 0))
        value = line.get("value")
        if f in DOWN_KEYS:
            nodes = _named(value, DOWN_KEYS[f])
            if nodes:
                open_windows.append((f.removeprefix("start-"), nodes, at_ns))
        elif f in UP_KEYS or f == "stop-all":
            fault = f.removeprefix("stop-")
            down_s = _down_s(value)
            closing = [w for w in open_windows if f == "stop-all" or w[0] == fault]
            for window in closing:
                open_windows.remove(window)
                timed = {node: down_s[node] for node in window[1] if node in down_s}
                windows.append((*window, at_ns, timed))
    windows.extend((*window, None, {}) for window in open_windows)
    windows.sort(key=lambda window: window[2])
    return windows


def _named(value: Any, keys: Sequence[str]) -> tuple[str, ...]:
    """The node names under ``keys`` of an op's value (a list, or a dict keyed by node)."""
    if not isinstance(value, Mapping):
        return ()
    nodes: list[str] = []
    for key in keys:
        named = value.get(key)
        if isinstance(named, list | dict):
            nodes.extend(str(node) for node in named if str(node) not in nodes)
    return tuple(nodes)


def _down_s(value: Any) -> dict[str, float]:
    down = value.get("down_s") if isinstance(value, Mapping) else None
    if not isinstance(down, Mapping):
        return {}
    return {str(node): float(s) for node, s in down.items() if isinstance(s, int | float)}


def _client_ops(lines: Sequence[Mapping[str, Any]]) -> list[_ClientOp]:
    """Client operations, pairing each invocation with the next completion of its process."""
    pending: dict[Any, Mapping[str, Any]] = {}
    ops: list[_ClientOp] = []

    def node_of(*records: Mapping[str, Any] | None) -> str | None:
        for record in records:
            if record is not None and isinstance(record.get("node"), str):
                return str(record["node"])
        return None

    for line in lines:
        process = line.get("process")
        if process == NEMESIS:
            continue
        if line.get("type") == "invoke":
            if process in pending:  # the process moved on without completing it
                left = pending.pop(process)
                ops.append(_ClientOp(int(left["time"]), None, "info", node_of(left)))
            pending[process] = line
            continue
        invocation = pending.pop(process, None)
        start_ns = int((invocation or line)["time"])
        ops.append(
            _ClientOp(start_ns, int(line["time"]), str(line.get("type")), node_of(invocation, line))
        )
    ops.extend(_ClientOp(int(op["time"]), None, "info", node_of(op)) for op in pending.values())
    return ops
