"""The nodes' event journals as the checkers read them: ``<node>.events.jsonl`` files of a run
directory (docs/history.md, "Node event journals") read into one list of events, and the
small views of them the journal checks share (the fault windows of the history, each node's
journal by generation, whether a journal is whole).

I/O only in ``read_journals`` (it reads the run directory's journal files); the rest is pure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Event = dict[str, Any]
EVENTS_SUFFIX = ".events.jsonl"  # as zynamo.env.journals writes them


def read_journals(directory: Path) -> list[Event]:
    """Every event of every ``<node>.events.jsonl`` in ``directory``, node by node, each in the
    order its node recorded them; a line that does not parse is skipped."""
    events: list[Event] = []
    for path in sorted(directory.glob(f"*{EVENTS_SUFFIX}")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line of a node killed mid-write
                if isinstance(event, dict) and "kind" in event:
                    events.append(event)
    return events


def by_node(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Each node's events, in the order given (a journal file's order is the order its node
    recorded them)."""
    nodes: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        nodes[str(event.get("node"))].append(event)
    return dict(nodes)


def last_life(node_events: list[Event]) -> list[Event]:
    """The events of the node's last process: from its last ``start`` event on. (An event's
    ``generation`` field is not enough: ``peer-restarted`` carries the peer's.)"""
    starts = [i for i, e in enumerate(node_events) if e.get("kind") == "start"]
    return node_events[starts[-1] :] if starts else node_events


def whole(node_events: list[Event]) -> bool:
    """Whether a node's journal has every event of every process it ran (no ring overflow, no
    events lost before a poll): each process counts 1, 2, 3... from its ``start``."""
    expected = 1
    for event in node_events:
        seq = int(event.get("seq", 0))
        if event.get("kind") == "start":
            expected = 1
        if seq != expected:
            return False
        expected = seq + 1
    return True


def fault_windows(records: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """``(start_ns, end_ns)`` of every stretch of the history while some fault was active: from
    the invocation of a ``start-*`` nemesis operation to the completion of the ``stop-*`` (or
    ``stop-all``) that ended the last active fault. A fault never stopped lasts to the end."""
    windows: list[tuple[int, int]] = []
    active: set[str] = set()
    opened = 0
    last = 0
    for record in records:
        last = max(last, int(record.get("time", 0)))
        if record.get("process") != "nemesis":
            continue
        f = str(record.get("f", ""))
        time = int(record.get("time", 0))
        if f.startswith("start-") and record.get("type") == "invoke":
            if not active:
                opened = time
            active.add(f.removeprefix("start-"))
        elif f.startswith("stop-") and record.get("type") != "invoke" and active:
            if f == "stop-all":
                active.clear()
            else:
                active.discard(f.removeprefix("stop-"))
            if not active:
                windows.append((opened, time))
    if active:
        windows.append((opened, max(last, opened) + 1))
    return windows


def overlaps(windows: list[tuple[int, int]], start_ns: int, end_ns: int) -> bool:
    """Whether ``[start_ns, end_ns]`` meets any of ``windows``."""
    return any(start <= end_ns and start_ns <= end for start, end in windows)


# Faults that silence whole nodes (value ``nodes`` on the start's completion), and the stop that
# ends each; a partition silences the links its ``grudge`` names (observer -> unheard nodes).
_SILENCING = {"start-kill": "stop-kill", "start-pause": "stop-pause", "start-disk": "stop-disk"}


def silences(records: Iterable[dict[str, Any]]) -> list[tuple[str | None, str, int, int]]:
    """``(observer, silent node, from_ns, until_ns)`` for every stretch in which a node heard
    nothing from another: a killed, paused or disk-faulted node towards every other node
    (observer ``None``), and each link a partition cut towards its observer. From the fault's
    start completing to its stop being invoked (or to the end of the history)."""
    found: list[tuple[str | None, str, int, int]] = []
    open_nodes: dict[str, list[tuple[str, int]]] = {}  # stop f -> [(node, since)]
    open_links: list[tuple[str, str, int]] = []
    last = 0
    for record in records:
        time = int(record.get("time", 0))
        last = max(last, time)
        if record.get("process") != "nemesis":
            continue
        f, kind = str(record.get("f", "")), record.get("type")
        raw = record.get("value")
        value: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if kind != "invoke" and f in _SILENCING and isinstance(value.get("nodes"), list):
            since = [(str(node), time) for node in value["nodes"]]
            open_nodes.setdefault(_SILENCING[f], []).extend(since)
        elif kind != "invoke" and f == "start-partition" and isinstance(value.get("grudge"), dict):
            for observer, unheard in value["grudge"].items():
                open_links += [(str(observer), str(node), time) for node in unheard or ()]
        elif kind == "invoke" and f.startswith("stop-"):
            stops = list(open_nodes) if f == "stop-all" else [f]
            for stop in stops:
                found += [(None, node, since, time) for node, since in open_nodes.pop(stop, [])]
            if f in ("stop-partition", "stop-all"):
                found += [(o, node, since, time) for o, node, since in open_links]
                open_links = []
    for pending in open_nodes.values():
        found += [(None, node, since, last) for node, since in pending]
    found += [(o, node, since, last) for o, node, since in open_links]
    return found
