"""Collecting the nodes' event journals (``cluster.core.journal``) into the run directory, as
``<node>.events.jsonl`` (the format is docs/history.md, "Node event journals").

A node keeps its journal in memory, in a bounded ring, and loses it when it is killed; so the
real environment polls every node's ``journal`` admin op while the run goes on (``since`` the
last sequence number it has, starting again from 0 when the node comes back under a new
generation), and once more before it stops the nodes. ``JournalCollector`` holds what it read
and writes the files; ``JournalPoller`` runs it in a thread.

Times: each event carries the node's monotonic ``ms``. The collector places it on the history's
clock the way NTP would: every poll reads the node's ``now_ms`` and the harness's monotonic
clock just before and after the call; the node's clock minus the midpoint is the node's
offset, kept from the poll with the shortest round trip per (node, generation). An event's
``time`` is then its ``ms`` minus that offset, minus the run's start (``zero_ns``, on the
harness's monotonic clock), in nanoseconds: the history's ``time``, give or take half that
round trip (well under a millisecond on one machine). Admin I/O through the callable given;
file I/O in ``write``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# admin(node, op, **args) -> the reply's data; raises on a node that does not answer.
Admin = Callable[..., Any]
POLL_INTERVAL_S = 0.5
POLL_TIMEOUT_MS = 400  # a paused or killed node is skipped, not waited for
READ_LIMIT = 5000
EVENTS_SUFFIX = ".events.jsonl"


@dataclass
class _NodeJournal:
    generation: int = 0
    cursor: int = 0  # the last sequence number read from this generation
    # generation -> node monotonic ns minus harness monotonic ns (a new process, a new clock)
    offsets_ns: dict[int, int] = field(default_factory=dict)
    best_rtt_ns: int = -1
    lines: list[dict[str, Any]] = field(default_factory=list)
    missed: int = 0  # events that fell off a node's ring before they were read


class JournalCollector:
    """What has been read of every node's journal so far."""

    def __init__(self, admin: Admin, zero_ns: int, clock_ns: Callable[[], int] = time.monotonic_ns):
        self._admin = admin
        self.zero_ns = zero_ns
        self._clock_ns = clock_ns
        self._nodes: dict[str, _NodeJournal] = {}
        self._lock = threading.Lock()

    def poll(self, nodes: Iterable[str]) -> None:
        """Read what each node journalled since the last poll; skip nodes that do not answer."""
        for node in nodes:
            try:
                self._poll_node(node)
            except Exception:  # a killed, paused or partitioned admin call: next time
                continue

    def _poll_node(self, node: str) -> None:
        with self._lock:
            state = self._nodes.setdefault(node, _NodeJournal())
            while True:
                before = self._clock_ns()
                reply = self._admin(
                    node, "journal", since=state.cursor, limit=READ_LIMIT,
                    timeout_ms=POLL_TIMEOUT_MS,
                )  # fmt: skip
                after = self._clock_ns()
                generation = int(reply["generation"])
                if generation != state.generation:
                    # A restarted process: its journal starts again from 1.
                    asked_from = state.cursor
                    state.generation, state.cursor, state.best_rtt_ns = generation, 0, -1
                    if asked_from:
                        continue  # read again from the start of the new journal
                rtt = after - before
                if state.best_rtt_ns < 0 or rtt < state.best_rtt_ns:
                    state.best_rtt_ns = rtt
                    offset = int(float(reply["now_ms"]) * 1e6) - (before + after) // 2
                    state.offsets_ns[generation] = offset
                events = reply["events"]
                if events and events[0]["seq"] > state.cursor + 1:
                    state.missed += events[0]["seq"] - state.cursor - 1
                for event in events:
                    state.lines.append(self._line(node, generation, event))
                if events:
                    state.cursor = events[-1]["seq"]
                if len(events) < READ_LIMIT:
                    return

    def _line(self, node: str, generation: int, event: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in event.items() if k not in ("seq", "ms", "kind")}
        return {
            "node": node,
            "generation": generation,
            "seq": event["seq"],
            "node_ms": event["ms"],
            "kind": event["kind"],
            **fields,
        }

    def lines(self, node: str) -> list[dict[str, Any]]:
        """Every event read from ``node``, each with its ``time`` on the history's clock."""
        with self._lock:
            state = self._nodes.get(node)
            if state is None:
                return []
            out = []
            for line in state.lines:
                offset = state.offsets_ns.get(int(line["generation"]), 0)
                time_ns = int(float(line["node_ms"]) * 1e6) - offset - self.zero_ns
                out.append({"time": time_ns, **line})
            return out

    def missed(self, node: str) -> int:
        state = self._nodes.get(node)
        return 0 if state is None else state.missed

    def write(self, directory: Path) -> list[Path]:
        """Write ``<node>.events.jsonl`` for every node polled; returns the paths."""
        written = []
        for node in sorted(self._nodes):
            path = directory / f"{node}{EVENTS_SUFFIX}"
            with path.open("w", encoding="utf-8") as out:
                for line in self.lines(node):
                    out.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")
            written.append(path)
        return written


class JournalPoller:
    """Polls a ``JournalCollector`` every ``interval_s`` in a daemon thread until ``stop``."""

    def __init__(
        self,
        collector: JournalCollector,
        nodes: Callable[[], Iterable[str]],
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.collector = collector
        self._nodes = nodes
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.collector.poll(self._nodes())

    def stop(self) -> None:
        """Stop polling, then read everything the nodes still hold (call before stopping
        them). Idempotent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.collector.poll(self._nodes())
