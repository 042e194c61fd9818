"""The node event journal: a bounded ring read through the ``journal`` admin op, in which the
sub-machines record what a report needs to explain a run (versions, replica writes, hints,
peers going down and up), and which a cluster setting turns off."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.core.config import ClusterConfig
from cluster.core.journal import Journal
from cluster.sim.simulator import Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")


def make_sim(**overrides: Any) -> Simulator:
    config = ClusterConfig(nodes=NODES, anti_entropy_interval_ms=0, **overrides)
    sim = Simulator(config, seed=3)
    sim.run_for(1000)
    return sim


def events(sim: Simulator, node: str, kind: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.admin(node, "journal", since=0)["events"]
    return [e for e in found if kind is None or e["kind"] == kind]


def test_the_ring_keeps_the_newest_events_and_reads_after_a_sequence_number() -> None:
    journal = Journal(capacity=3)
    for i in range(5):
        journal.record(float(i), "tick", i=i)
    assert journal.first_seq == 3 and journal.last_seq == 5
    assert [e["i"] for e in journal.since(0)] == [2, 3, 4]  # the two oldest fell off
    assert journal.since(4) == [{"seq": 5, "ms": 4.0, "kind": "tick", "i": 4}]
    assert journal.since(5) == []
    assert [e["seq"] for e in journal.since(0, limit=2)] == [3, 4]


def test_a_journal_of_capacity_zero_is_off() -> None:
    journal = Journal(capacity=0)
    journal.record(1.0, "tick")
    assert not journal.enabled and journal.last_seq == 0 and journal.since(0) == []
    with pytest.raises(ValueError, match="capacity"):
        Journal(capacity=-1)


def test_a_put_journals_its_new_version_on_the_coordinator_and_the_write_on_each_replica() -> None:
    sim = make_sim()
    key = "cart"
    primaries = sim.ring().primaries(key, 3)
    put = sim.put(key, ["apple"], node=primaries[0], w=3)
    assert put.ok
    created = [e for e in events(sim, put.coordinator, "version-created") if e["key"] == key]
    assert len(created) == 1
    version = created[0]
    assert version["dot"] == f"{put.coordinator}:1"
    assert version["value"] == ["apple"]
    assert sorted(t[0] for t in version["targets"]) == sorted(primaries)
    for replica in primaries:
        if replica == put.coordinator:
            continue
        writes = [e for e in events(sim, replica, "replica-write") if e["key"] == key]
        assert writes and writes[0]["applied"] is True
        assert writes[0]["src"] == put.coordinator and writes[0]["req"] == version["req"]


def test_a_hint_is_journalled_where_it_is_stored_delivered_and_received() -> None:
    sim = make_sim()
    key = "cart"
    ring = sim.ring()
    walk = ring.walk(ring.partition_of(key))
    primaries, fallback = walk[:3], walk[3]
    sim.crash(primaries[2])
    sim.run_for(2000)
    assert {"kind": "peer-down", "peer": primaries[2]}.items() <= events(
        sim, primaries[0], "peer-down"
    )[0].items()
    assert sim.put(key, ["apple"], node=primaries[0], w=3).ok
    stored = [e for e in events(sim, fallback, "replica-write") if e["key"] == key]
    assert stored[0]["hint_for"] == primaries[2]
    sim.restart(primaries[2])
    sim.run_for(3000)
    delivered = events(sim, fallback, "hint-delivered")
    assert any(key in e["keys"] and e["to"] == [primaries[2]] for e in delivered)
    received = events(sim, primaries[2], "handoff-received")
    assert any(key in e["applied"] and e["src"] == fallback for e in received)
    assert any(e["peer"] == primaries[2] for e in events(sim, primaries[0], "peer-up"))


def test_the_admin_op_says_where_the_events_are_in_time_and_what_fell_off() -> None:
    sim = make_sim()
    reply = sim.admin("n1", "journal", since=0, limit=1)
    assert reply["node"] == "n1" and reply["generation"] == 1 and reply["enabled"]
    assert reply["now_ms"] == sim.now_ms
    assert reply["first_seq"] == 1 and len(reply["events"]) == 1
    assert reply["events"][0]["kind"] == "start"
    later = sim.admin("n1", "journal", since=reply["last_seq"])
    assert all(e["seq"] > reply["last_seq"] for e in later["events"])


def test_the_journal_setting_turns_it_off() -> None:
    sim = make_sim(journal_events=0)
    assert sim.put("k", 1, node="n1").ok
    reply = sim.admin("n1", "journal", since=0)
    assert not reply["enabled"] and reply["events"] == []
    with pytest.raises(ValueError, match="journal_events"):
        ClusterConfig(nodes=NODES, journal_events=-1)
