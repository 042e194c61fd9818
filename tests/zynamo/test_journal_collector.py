"""Collecting the node journals: events read once each across polls, placed on the history's
clock, read again from the start after a restart, and gaps (events lost off the ring) counted."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from cluster.core.journal import Journal
from zynamo.env.journals import JournalCollector


class FakeNode:
    """A node whose monotonic clock runs ``offset_ms`` ahead of the harness's."""

    def __init__(self, offset_ms: float, capacity: int = 100) -> None:
        self.offset_ms = offset_ms
        self.generation = 1
        self.journal = Journal(capacity)
        self.harness_ns = 0

    def admin(self, node: str, op: str, /, **args: Any) -> dict[str, Any]:
        assert op == "journal"
        now_ms = self.harness_ns / 1e6 + self.offset_ms
        return {
            "node": node,
            "generation": self.generation,
            "now_ms": now_ms,
            "first_seq": self.journal.first_seq,
            "last_seq": self.journal.last_seq,
            "events": self.journal.since(args["since"], args["limit"]),
        }


def test_events_are_read_once_and_placed_on_the_history_clock(tmp_path: pathlib.Path) -> None:
    node = FakeNode(offset_ms=5000.0)
    clock = iter(range(0, 10**12, 1_000_000))  # the harness clock: 1 ms per reading

    def harness_ns() -> int:
        node.harness_ns = next(clock)
        return node.harness_ns

    collector = JournalCollector(node.admin, zero_ns=2_000_000_000, clock_ns=harness_ns)
    node.journal.record(5000.0 + 2500.0, "start", generation=1)  # at harness 2.5 s
    collector.poll(["n1"])
    node.journal.record(5000.0 + 4470.0, "version-created", key="k3", dot="n1:1")
    collector.poll(["n1"])
    collector.poll(["n1"])
    lines = collector.lines("n1")
    assert [line["kind"] for line in lines] == ["start", "version-created"]
    # The node's clock minus its offset, minus the run's start: the history's time, to within
    # half the admin call's round trip (1 ms here).
    assert abs(lines[1]["time"] - 2_470_000_000) <= 1_000_000
    assert lines[1]["node_ms"] == 9470.0 and lines[1]["dot"] == "n1:1"
    collector.write(tmp_path)
    written = [json.loads(t) for t in (tmp_path / "n1.events.jsonl").read_text().splitlines()]
    assert [w["seq"] for w in written] == [1, 2]


def test_a_restarted_node_is_read_from_its_first_event_and_lost_events_are_counted() -> None:
    node = FakeNode(offset_ms=0.0, capacity=2)
    collector = JournalCollector(node.admin, zero_ns=0)
    node.journal.record(1.0, "start")
    collector.poll(["n1"])
    for i in range(5):  # three fall off the ring of two before the next poll
        node.journal.record(2.0 + i, "peer-down", peer="n2")
    collector.poll(["n1"])
    assert collector.missed("n1") == 3
    node.generation, node.journal = 2, Journal(10)  # a new process: seq from 1 again
    node.journal.record(10.0, "start")
    node.journal.record(11.0, "peer-up", peer="n2")
    collector.poll(["n1"])
    lines = collector.lines("n1")
    assert [(line["generation"], line["seq"]) for line in lines][-2:] == [(2, 1), (2, 2)]


def test_a_node_that_does_not_answer_is_skipped() -> None:
    def admin(node: str, op: str, /, **args: Any) -> Any:
        raise TimeoutError(f"{node} is paused")

    collector = JournalCollector(admin, zero_ns=0)
    collector.poll(["n1", "n2"])
    assert collector.lines("n1") == []
