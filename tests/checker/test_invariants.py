"""The protocol invariants over node journals: each broken rule is a finding naming its
events, and a journal that cannot judge a rule says so rather than accuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checker.api import check_records
from checker.dynamo import CoverageChecker, InvariantsChecker, check_invariants
from checker.dynamo.journals import fault_windows, read_journals, whole

S = 1_000_000_000


class Journals:
    """Builds node journals the way a run writes them: per node, counted from 1 per process."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._seq: dict[str, int] = {}

    def add(self, node: str, time_s: float, kind: str, **fields: Any) -> dict[str, Any]:
        if kind == "start":
            self._seq[node] = 0
        self._seq[node] = self._seq.get(node, 0) + 1
        event = {"time": int(time_s * S), "node": node, "generation": 1,
                 "seq": self._seq[node], "kind": kind, **fields}  # fmt: skip
        self.events.append(event)
        return event

    def started(self, *nodes: str) -> Journals:
        for node in nodes:
            self.add(node, 0, "start")
        return self


def kinds(result: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in result.get("findings", [])]


def test_a_dot_naming_two_values_is_a_finding_under_dvv_only() -> None:
    j = Journals().started("n1")
    j.add("n1", 1, "version-created", key="k1", dot="n1:2", value=[1, 2, 3])
    j.add("n1", 2, "version-created", key="k1", dot="n1:2", value=[1, 2, 4])
    j.add("n1", 3, "version-created", key="k2", dot="n1:2", value=[9])  # another key: fine
    result = check_invariants([], j.events, "dvv")
    assert result["valid"] is False
    assert kinds(result) == ["dot-reused"]
    assert "dot n1:2 of key k1" in result["findings"][0]["message"]
    assert [e["seq"] for e in result["findings"][0]["events"]] == [2, 3]
    # Once the key's tombstone is reaped everywhere its dots may start again.
    j.add("n1", 4, "reaped", keys=["k1"], by="n1")
    j.add("n1", 5, "version-created", key="k1", dot="n1:2", value=[7])
    assert check_invariants([], j.events, "dvv")["findings_by_kind"] == {"dot-reused": 1}
    # Per-node vector clocks reuse version names by design: not judged, not accused.
    vclock = check_invariants([], j.events, "vclock")
    assert vclock["valid"] is True and "dot-reused" in vclock["not_judged"]


def test_a_hint_deleted_before_its_owner_received_it_is_a_finding() -> None:
    j = Journals().started("n1", "n3")
    j.add("n3", 5, "handoff-received", src="n1", keys=["k1"], applied=["k1"])
    j.add("n1", 5.01, "hint-delivered", to=["n3"], owner="n3", keys=["k1"], kept=[])
    assert check_invariants([], j.events)["valid"] is True
    j.add("n1", 9, "hint-delivered", to=["n3"], owner="n3", keys=["k2", "k7"], kept=[])
    result = check_invariants([], j.events)
    assert kinds(result) == ["hint-deleted-unacknowledged"]
    assert "n1 deleted hints k2, k7 (owner n3) before n3" in result["findings"][0]["message"]


def test_a_replica_that_files_a_write_otherwise_than_asked_is_a_finding() -> None:
    j = Journals().started("n1", "n3", "n4", "n5")
    # n1 coordinated a put of k1 to itself, to primary n3 and to n4 standing in for n2.
    targets = [["n1", None], ["n3", None], ["n4", "n2"]]
    j.add("n1", 1, "version-created", key="k1", req=7, dot="n1:1", value=[1], targets=targets)
    j.add("n3", 1.01, "replica-write", key="k1", src="n1", req=7, hint_for=None, repair=False)
    j.add("n4", 1.01, "replica-write", key="k1", src="n1", req=7, hint_for="n2", repair=False)
    j.add("n5", 1.5, "replica-write", key="k1", src="n1", req=0, hint_for=None, repair=True)
    assert check_invariants([], j.events)["valid"] is True
    # The fallback keeps the write as its own; the primary files its copy as a hint.
    j.add("n1", 2, "version-created", key="k2", req=8, dot="n1:2", value=[2], targets=targets)
    j.add("n3", 2.01, "replica-write", key="k2", src="n1", req=8, hint_for="n5", repair=False)
    j.add("n4", 2.01, "replica-write", key="k2", src="n1", req=8, hint_for=None, repair=False)
    result = check_invariants([], j.events)
    assert kinds(result) == ["misfiled-write", "misfiled-write"]
    messages = sorted(f["message"] for f in result["findings"])
    assert messages[0].startswith("n3 is a primary on key k2 but kept n1's write as a hint for n5")
    assert messages[1].startswith("n4 stood in for n2 on key k2 but kept n1's write as its own")
    assert [e["kind"] for e in result["findings"][0]["events"]] == [
        "version-created",
        "replica-write",
    ]
    # A replica whose journal has a gap is not judged, not accused.
    for event in j.events:
        if event["node"] in ("n3", "n4") and event["kind"] == "start":
            event["seq"] = 9  # their starts were lost
    result = check_invariants([], j.events)
    assert result["valid"] is True
    assert result["not_judged"]["replica-writes-without-whole-replica-journal"] == 4


def test_a_request_number_reused_after_a_restart_is_matched_with_its_own_request() -> None:
    j = Journals().started("n1", "n4")
    j.add("n1", 1, "version-created", key="k", req=7, targets=[["n1", None], ["n4", "n2"]])
    j.add("n4", 1.01, "replica-write", key="k", src="n1", req=7, hint_for="n2", repair=False)
    j.add("n1", 9, "start")  # n1 restarted and numbers its requests from 1 again
    j.add("n1", 9.5, "version-created", key="k", req=7, targets=[["n1", None], ["n4", None]])
    j.add("n4", 9.51, "replica-write", key="k", src="n1", req=7, hint_for=None, repair=False)
    assert check_invariants([], j.events)["valid"] is True


def test_with_one_exact_clock_a_hint_deleted_as_it_is_sent_is_a_finding() -> None:
    # The fallback deleted its hint when it sent it, 10 ms before the owner even received it:
    # within the real environment's clock alignment, so only the simulator's exact clock
    # (slack 0) can tell it from a deletion after the acknowledgement.
    j = Journals().started("n1", "n3")
    j.add("n1", 5.0, "hint-delivered", to=["n3"], owner="n3", keys=["k1"], kept=[])
    j.add("n3", 5.01, "handoff-received", src="n1", keys=["k1"], applied=["k1"])
    assert check_invariants([], j.events)["valid"] is True
    exact = check_invariants([], j.events, clock_slack_ns=0)
    assert kinds(exact) == ["hint-deleted-unacknowledged"]
    # Through the checker, the run's context says how exact its clocks are.
    results = check_records([], [InvariantsChecker()], journals=j.events, journal_clock_slack_ns=0)
    assert results["checkers"]["invariants"]["valid"] is False


def test_a_deletion_is_not_judged_when_the_owners_journal_has_a_gap() -> None:
    j = Journals().started("n1", "n3")
    j.add("n1", 9, "hint-delivered", to=["n3"], owner="n3", keys=["k2"], kept=[])
    j.events[1]["seq"] = 5  # n3's journal lost events 2-4 (a kill between two polls)
    j.events.insert(1, {**j.events[1], "seq": 1, "kind": "start"})
    j.events.pop(2)
    j.add("n3", 1, "peer-up", peer="n1")["seq"] = 7
    result = check_invariants([], j.events)
    assert result["valid"] is True
    assert result["not_judged"]["handoff-deletions-without-whole-target-journal"] == 1
    assert result["incomplete_journals"] == ["n3"]


def test_a_read_repair_that_never_arrives_is_a_finding_outside_fault_windows() -> None:
    j = Journals().started("n1", "n2")
    j.add("n1", 0.5, "read-repair", key="k1", to=[["n2", None], ["n1", None]])
    j.add("n2", 0.502, "replica-write", key="k1", src="n1", repair=True, applied=True)
    j.add("n1", 3, "read-repair", key="k1", to=[["n2", None]])  # never arrives
    j.add("n2", 6, "peer-up", peer="n1")  # the journals go on long enough to judge it
    result = check_invariants([], j.events)
    assert kinds(result) == ["read-repair-lost"]
    assert "n1 read-repaired key k1 on n2" in result["findings"][0]["message"]
    # The same loss while a partition was active may be the partition's doing: not judged.
    history = [
        {"process": "nemesis", "type": "invoke", "f": "start-partition", "time": int(2.6 * S)},
        {"process": "nemesis", "type": "info", "f": "stop-partition", "time": 4 * S},
    ]
    during = check_invariants(history, j.events)
    assert during["valid"] is True
    assert during["not_judged"]["read-repairs-in-fault-windows-or-at-the-end"] == 1
    # A repair sent as the nodes were being stopped is not judged either.
    j.events.pop()
    assert check_invariants([], j.events)["valid"] is True


def test_a_tombstone_reaped_without_every_vote_or_primary_is_a_finding() -> None:
    j = Journals().started("n1", "n2", "n3")
    evidence = {"voters": ["n2", "n3"], "primaries": {"k": ["n1", "n2", "n3"]}}
    j.add("n1", 1, "reaped", keys=["k"], by="n1", agreed_by={"k": ["n2", "n3"]},
          held_by={"k": ["n2", "n3"]}, **evidence)  # fmt: skip
    j.add("n2", 1, "reaped", keys=["k"], by="n1")  # the others' events carry no evidence
    assert check_invariants([], j.events)["valid"] is True
    j.add("n1", 2, "reaped", keys=["k"], by="n1", agreed_by={"k": ["n2"]},
          held_by={"k": ["n2"]}, **evidence)  # fmt: skip
    result = check_invariants([], j.events)
    assert kinds(result) == ["reaped-early"]
    assert result["findings"][0]["message"] == (
        "n1 reaped the tombstone of key k though n3 did not agree and primary n3 did not hold it"
    )


def test_a_tombstone_reaped_within_the_grace_period_is_a_finding() -> None:
    j = Journals().started("n1", "n2")
    j.add("n2", 1, "version-created", key="k1", req=1, dot="n2:1", value=None)
    j.add("n1", 12, "reaped", keys=["k1"], by="n1")  # 11 s after the delete: fine
    j.add("n2", 20, "version-created", key="k1", req=2, dot="n2:2", value=[5])
    j.add("n2", 21, "version-created", key="k1", req=3, dot="n2:3", value=None)
    assert check_invariants([], j.events, tombstone_grace_ms=10_000)["valid"] is True
    j.add("n1", 23, "reaped", keys=["k1"], by="n1")  # 2 s after the key's second delete
    j.add("n2", 23.01, "reaped", keys=["k1"], by="n1")  # a voter's record: not judged again
    result = check_invariants([], j.events, tombstone_grace_ms=10_000)
    assert kinds(result) == ["reaped-before-grace"]
    message = result["findings"][0]["message"]
    assert message == (
        "n1 reaped the tombstone of key k1 2.00 s after its first delete, within the 10 s"
        " grace period"
    )
    # Without the grace period the rule is not judged, and says so.
    unknown = check_invariants([], j.events)
    assert unknown["valid"] is True and "reaped-before-grace" in unknown["not_judged"]


def nemesis(time_s: float, f: str, kind: str = "info", **value: Any) -> dict[str, Any]:
    return {"process": "nemesis", "time": int(time_s * S), "f": f, "type": kind, "value": value}


def test_a_peer_silent_for_long_that_a_node_never_suspected_is_a_finding() -> None:
    def history(partition_s: float) -> list[dict[str, Any]]:
        return [
            nemesis(10, "start-kill", nodes=["n3"]),
            nemesis(20, "stop-kill", "invoke"),
            nemesis(30, "start-partition", grudge={"n1": ["n2"]}),
            nemesis(30 + partition_s, "stop-partition", "invoke"),
        ]

    def journals(n2_saw_n3_up_at_s: float) -> list[dict[str, Any]]:
        j = Journals().started("n1", "n2", "n3")
        j.add("n1", 11.5, "peer-down", peer="n3")
        j.add("n2", 11.5, "peer-down", peer="n3")
        j.add("n2", n2_saw_n3_up_at_s, "peer-up", peer="n3")
        j.add("n1", 21, "peer-up", peer="n3")
        return j.events

    # Both saw n3 down while it was; a 2 s partition is too short to judge.
    assert check_invariants(history(2), journals(21))["valid"] is True
    # n2 saw n3 up again before the kill ended (a stale arrival, say), and n1 never suspected
    # n2 through a 10 s partition.
    result = check_invariants(history(10), journals(12))
    messages = sorted(f["message"] for f in result["findings"])
    assert kinds(result) == ["peer-never-suspected"] * 2
    assert messages[0].startswith("n1 still saw n2 up after 10.0 s in which n2 was cut off")
    assert messages[1].startswith("n2 still saw n3 up after 10.0 s in which n3 was down")
    # n3 itself was down, so it is not asked to have noticed anything.
    assert not any(m.startswith("n3") for m in messages)


def test_a_peer_still_suspected_at_the_end_is_a_finding_unless_it_left() -> None:
    j = Journals().started("n1", "n2", "n3")
    j.add("n1", 1, "peer-down", peer="n2")
    j.add("n1", 2, "peer-up", peer="n2")
    j.add("n1", 3, "peer-down", peer="n3")
    result = check_invariants([], j.events)
    assert kinds(result) == ["peer-not-up-again"]
    assert result["findings"][0]["message"].startswith("n1 still suspects n3")
    j.add("n1", 4, "ring-changed", version=2, moved=3, members=["n1", "n2"])  # n3 left
    assert check_invariants([], j.events)["valid"] is True
    # A node that itself left (still running: its leave finished late) is not asked to watch.
    j.add("n3", 5, "peer-down", peer="n1")
    j.add("n3", 6, "ring-changed", version=2, moved=3, members=["n1", "n2"])
    assert check_invariants([], j.events)["valid"] is True


def test_a_restarted_node_is_judged_by_its_last_process() -> None:
    j = Journals().started("n1", "n2")
    j.add("n1", 1, "peer-down", peer="n2")
    j.add("n1", 5, "start")  # n1 restarted: it no longer suspects anyone
    j.add("n1", 6, "peer-restarted", peer="n2", generation=7)  # the peer's generation
    assert whole([e for e in j.events if e["node"] == "n1"])
    assert check_invariants([], j.events)["valid"] is True


def test_without_journals_the_invariants_are_skipped_and_coverage_says_so() -> None:
    result = check_records([], (InvariantsChecker(), CoverageChecker()))
    assert result["valid"] is True
    assert "skipped" in result["checkers"]["invariants"]
    assert "no journals" in result["checkers"]["coverage"]["summary"]


def test_coverage_counts_paths_and_names_those_never_run() -> None:
    j = Journals().started("n1", "n2")
    j.add("n1", 1, "version-created", key="k", dot="n1:1", value=[1], hint_for=None, siblings=2)
    j.add("n1", 2, "version-created", key="k", dot="n1:2", value=[1], hint_for=None, siblings=1)
    j.add("n2", 2, "replica-write", key="k", src="n1", hint_for="n3", repair=False)
    j.add("n2", 3, "hint-delivered", to=["n3"], owner="n3", keys=["k", "j"], kept=[])
    j.add("n1", 4, "read-repair", key="k", to=[["n2", None]])
    history = [
        {"process": 1, "type": "invoke", "f": "add", "key": "k", "time": 0},
        {"process": 2, "type": "invoke", "f": "add", "key": "k", "time": 1},
        {"process": 1, "type": "ok", "f": "add", "key": "k", "time": 5},
        {"process": 2, "type": "ok", "f": "add", "key": "k", "time": 6},
        {"process": 1, "type": "invoke", "f": "add", "key": "k", "time": 10},
        {"process": 1, "type": "ok", "f": "add", "key": "k", "time": 11},
    ]
    result = check_records(history, (CoverageChecker(),), journals=j.events)
    coverage = result["checkers"]["coverage"]
    assert coverage["paths"]["siblings_created"] == 1
    assert coverage["paths"]["siblings_merged"] == 1
    assert coverage["paths"]["fallback_writes"] == 1
    assert coverage["paths"]["hints_delivered"] == 2
    assert coverage["paths"]["read_repairs"] == 1
    assert "reaps" in coverage["not_exercised"]
    assert coverage["contention"] == {
        "writes": 3, "concurrent_writes": 2, "concurrent_fraction": 0.6667, "keys_written": 1,
    }  # fmt: skip
    assert "idle:" in coverage["summary"]


def test_fault_windows_span_overlapping_faults() -> None:
    history = [
        {"process": "nemesis", "type": "invoke", "f": "start-partition", "time": 10},
        {"process": "nemesis", "type": "invoke", "f": "start-kill", "time": 20},
        {"process": "nemesis", "type": "info", "f": "stop-kill", "time": 30},
        {"process": "nemesis", "type": "info", "f": "stop-partition", "time": 40},
        {"process": "nemesis", "type": "invoke", "f": "start-pause", "time": 50},
    ]
    assert fault_windows(history) == [(10, 40), (50, 51)]


def test_journal_files_are_read_from_the_run_directory(tmp_path: Path) -> None:
    (tmp_path / "n1.events.jsonl").write_text(
        json.dumps({"node": "n1", "seq": 1, "kind": "start"}) + "\n" + '{"torn'
    )
    (tmp_path / "history.jsonl").write_text("{}\n")
    assert read_journals(tmp_path) == [{"node": "n1", "seq": 1, "kind": "start"}]
