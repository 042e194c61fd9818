"""The Dynamo checks catch what they should on small hand-built histories, and pass clean ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checker.api import CheckContext, NoopChecker, check_records
from checker.dynamo import (
    ConvergenceChecker,
    LinearizableChecker,
    QuorumChecker,
    SetChecker,
    StatsChecker,
    VersionsChecker,
    check_convergence,
    check_quorum,
    check_set,
    check_stats,
    check_versions,
)

MS = 1_000_000


class Recorder:
    """Writes history records the way docs/history.md describes them."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.time_ns = 0

    def _emit(self, **fields: Any) -> None:
        self.time_ns += MS
        self.records.append({"index": len(self.records), "time": self.time_ns, **fields})

    def invoke(self, process: Any, f: str, key: str, value: Any = None, **extra: Any) -> None:
        self._emit(process=process, type="invoke", f=f, key=key, value=value, **extra)

    def complete(
        self, process: Any, kind: str, f: str, key: str, value: Any = None, **extra: Any
    ) -> None:
        self._emit(process=process, type=kind, f=f, key=key, value=value, **extra)

    def op(
        self,
        process: Any,
        f: str,
        key: str,
        value: Any = None,
        result: Any = None,
        kind: str = "ok",
        **extra: Any,
    ) -> None:
        """A whole operation: invocation then completion."""
        self.invoke(process, f, key, value)
        self.complete(process, kind, f, key, value if result is None else result, **extra)

    def nemesis(self, f: str, value: Any = None) -> None:
        self._emit(process="nemesis", type="invoke", f=f, value=value)
        self._emit(process="nemesis", type="info", f=f, value=value)

    def dump(
        self, round_number: int, key: str, node: str, value: Any, tombstone: bool = False
    ) -> None:
        self._emit(
            process="final",
            type="ok",
            f="replica-state",
            round=round_number,
            key=key,
            node=node,
            value=value,
            tombstone=tombstone,
        )


STRICT: dict[str, Any] = {"n": 3, "r": 2, "w": 2, "fallbacks": []}


# --- set --------------------------------------------------------------------------------


def test_set_clean_history_is_valid_with_stable_latency() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1)
    h.op(1, "add", "cart", 2)
    h.op(0, "read", "cart", result=[1, 2])
    h.op(2, "read", "cart", result=[1, 2], final=True)
    result = check_set(h.records)
    assert result["valid"] is True
    assert result["acknowledged"] == 2 and result["stable"] == 2
    assert result["stable_latency_ms"]["count"] == 2
    assert result["stable_latency_ms"]["max"] > 0


def test_set_lost_add_is_invalid() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1)
    h.op(1, "add", "cart", 2)
    h.op(0, "read", "cart", result=[1, 2])
    h.op(2, "read", "cart", result=[1], final=True)  # 2 vanished
    result = check_set(h.records)
    assert result["valid"] is False
    assert result["lost"] == 1
    assert result["lost_elements"][0]["element"] == 2
    assert result["lost_elements"][0]["key"] == "cart"
    outcomes = {entry["element"]: entry["outcome"] for entry in result["elements"]}
    assert outcomes == {1: "stable", 2: "lost"}


def test_set_stale_read_is_reported_but_valid() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1)
    h.op(1, "read", "cart", result=[])  # missed the acknowledged add...
    h.op(1, "read", "cart", result=[1])  # ...then saw it
    result = check_set(h.records)
    assert result["valid"] is True
    assert result["stale"] == 1
    assert result["stale_elements"][0]["reads_missing_it"] == 1
    assert result["elements"][0]["outcome"] == "stale, then stable"
    assert result["elements"][0]["stable_latency_ms"] > 0


def test_set_never_read_is_unknown_and_unexpected_is_invalid() -> None:
    h = Recorder()
    h.op(0, "read", "cart", result=[])
    h.op(0, "add", "cart", 1)
    assert check_set(h.records)["valid"] == "unknown"
    assert check_set(h.records)["never_read"] == 1
    h.op(1, "read", "cart", result=[1, 99])
    result = check_set(h.records)
    assert result["valid"] is False
    assert result["unexpected_elements"][0]["element"] == 99


def test_set_failed_add_that_appears_is_invalid_and_info_add_is_recovered() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1, kind="fail")
    h.op(1, "add", "cart", 2, kind="info")
    h.op(2, "read", "cart", result=[1, 2])
    result = check_set(h.records)
    assert result["valid"] is False
    assert result["failed_but_read"] == 1
    assert result["recovered"] == 2


# --- convergence ----------------------------------------------------------------------


def test_convergence_measures_time_after_heal() -> None:
    h = Recorder()
    h.nemesis("start-partition", {"n1": ["n2"]})
    h.nemesis("stop-partition")
    heal = h.time_ns
    for node in ("n1", "n2", "n3"):
        h.dump(1, "k", node, [1] if node != "n3" else [])
    for node in ("n1", "n2", "n3"):
        h.dump(2, "k", node, [1])
    result = check_convergence(h.records, n=3)
    assert result["valid"] is True
    assert result["converged_round"] == 2
    assert result["convergence_ms_after_heal"] == pytest.approx((h.time_ns - heal) / MS)


def test_non_converged_replica_is_invalid() -> None:
    h = Recorder()
    h.nemesis("start-kill")
    h.nemesis("stop-kill")
    h.dump(1, "k", "n1", [1, 2])
    h.dump(1, "k", "n2", [1, 2])
    h.dump(1, "k", "n3", [1])
    h.dump(1, "j", "n1", None, tombstone=True)
    h.dump(1, "j", "n2", None, tombstone=True)
    h.dump(1, "j", "n3", None, tombstone=True)
    result = check_convergence(h.records, n=3)
    assert result["valid"] is False
    assert result["converged_keys"] == 1
    assert result["diverged"][0]["key"] == "k"
    assert result["diverged"][0]["replicas"]["n3"]["value"] == [1]


def test_missing_replica_is_not_converged_and_no_dumps_is_unknown() -> None:
    h = Recorder()
    h.dump(1, "k", "n1", [1])
    h.dump(1, "k", "n2", [1])
    assert check_convergence(h.records, n=3)["valid"] is False
    assert check_convergence([], n=3)["valid"] == "unknown"


# --- quorum ---------------------------------------------------------------------------


def test_strict_read_missing_acknowledged_write_is_a_violation() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={"n1": 1}, **STRICT)
    h.op(1, "read", "k", result=None, context={}, siblings=0, **STRICT)
    result = check_quorum(h.records)
    assert result["valid"] is False
    violation = result["violations"][0]
    assert violation["write"]["value"] == 1 and violation["write"]["f"] == "write"
    assert violation["read"]["f"] == "read"


def test_strict_read_that_sees_newer_write_is_fine() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={"n1": 1}, **STRICT)
    h.op(1, "write", "k", 2, context={"n1": 1}, version={"n1": 2}, **STRICT)
    h.op(2, "read", "k", result=2, context={"n1": 2}, siblings=1, **STRICT)
    result = check_quorum(h.records)
    assert result["valid"] is True
    assert result["strict_reads"] == 1 and result["pairs_checked"] == 2


def test_fallback_read_is_counted_not_a_violation() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={"n1": 1}, **STRICT)
    h.op(1, "read", "k", result=None, context={}, n=3, r=2, w=2, fallbacks=["n4"])
    result = check_quorum(h.records)
    assert result["valid"] is True
    assert result["fallback_reads"] == 1 and result["fallback_reads_stale"] == 1


def test_weak_quorums_and_sloppy_writes_are_not_checked() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={"n1": 1}, n=3, r=1, w=1, fallbacks=[])
    h.op(0, "write", "k", 2, version={"n1": 2}, n=3, r=2, w=2, fallbacks=["n5"])
    h.op(1, "read", "k", result=None, context={}, n=3, r=1, w=1, fallbacks=[])
    h.op(1, "read", "k", result=None, context={}, **STRICT)
    result = check_quorum(h.records)
    assert result["valid"] is True
    assert result["sloppy_writes"] == 1 and result["not_strict_reads"] == 2


def test_lww_register_without_contexts_uses_values() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={}, **STRICT)
    h.op(0, "write", "k", 2, version={}, **STRICT)
    h.op(1, "read", "k", result=1, context={}, **STRICT)  # 1 was overwritten before
    result = check_quorum(h.records)
    assert result["valid"] is False
    assert result["violations"][0]["write"]["value"] == 2


def test_quorum_set_adds_use_membership_without_contexts() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1, **STRICT)
    h.op(1, "read", "cart", result=[], **STRICT)
    assert check_quorum(h.records)["valid"] is False


# --- versions -------------------------------------------------------------------------


def test_sibling_histogram_and_clean_version_chain() -> None:
    h = Recorder()
    h.op(0, "add", "cart", 1, context={}, version={"n1": 1})
    h.op(0, "add", "cart", 2, context={"n1": 1}, version={"n1": 2})
    h.op(1, "add", "cart", 3, context={"n1": 1}, version={"n1": 1, "n2": 1})
    for siblings in (1, 1, 2, 3, 5):
        h.op(2, "read", "cart", result=[1], siblings=siblings)
    result = check_versions(h.records)
    assert result["valid"] is True
    assert result["siblings"] == {"0": 0, "1": 2, "2": 1, "3": 1, "4+": 1}
    assert result["siblings_fraction"]["1"] == pytest.approx(0.4)
    assert result["versions"] == 3 and result["edges"] == 2


def test_version_cycle_is_an_anomaly() -> None:
    h = Recorder()
    # Two writes each claiming to descend from the other's version: a cycle.
    h.op(0, "write", "k", 1, context={"n1": 2}, version={"n1": 1, "n2": 1})
    h.op(1, "write", "k", 2, context={"n1": 1, "n2": 1}, version={"n1": 2})
    result = check_versions(h.records)
    assert result["valid"] is False
    kinds = {anomaly["anomaly"] for anomaly in result["anomalies"]}
    assert "cycle: a version descends from itself" in kinds


def test_lww_has_no_versions_to_check() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, context={}, version={})
    result = check_versions(h.records)
    assert result["valid"] is True and "note" in result


# --- stats ----------------------------------------------------------------------------


def test_stats_counts_latency_and_availability_around_faults() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1)
    h.nemesis("start-partition")
    h.op(1, "write", "k", 2, kind="info")
    h.op(2, "read", "k", kind="fail")
    h.op(3, "read", "k", result=1)
    h.nemesis("stop-partition")
    h.op(3, "read", "k", result=1)
    result = check_stats(h.records)
    assert result["valid"] is True
    assert result["by_f"]["write"] == {
        "ok": 1,
        "fail": 0,
        "info": 1,
        "latency_ms": result["by_f"]["write"]["latency_ms"],
    }
    assert result["by_f"]["read"]["fail"] == 1
    assert result["by_f"]["write"]["latency_ms"]["p50"] == pytest.approx(1.0)
    assert result["availability"]["inside"] == {"ok": 1, "total": 3, "ok_fraction": 0.333333}
    assert result["availability"]["outside"]["ok_fraction"] == 1.0
    assert result["throughput_ok_per_s"] > 0
    assert result["faults"][0]["fault"] == "partition"


# --- composition ----------------------------------------------------------------------


def _clean_set_run() -> Recorder:
    h = Recorder()
    h.nemesis("start-partition")
    h.op(0, "add", "cart", 1, context={}, version={"n1": 1}, **STRICT)
    h.nemesis("stop-partition")
    h.op(1, "read", "cart", result=[1], context={"n1": 1}, siblings=1, final=True, **STRICT)
    for node in ("n1", "n2", "n3"):
        h.dump(1, "cart", node, [1])
    return h


SET_CHECKERS = (
    SetChecker(),
    ConvergenceChecker(),
    QuorumChecker(),
    VersionsChecker(),
    StatsChecker(),
)
REGISTER_CHECKERS = (LinearizableChecker(), ConvergenceChecker(), QuorumChecker(), StatsChecker())


def test_check_records_composes_the_set_checks() -> None:
    h = _clean_set_run()
    result = check_records(h.records, SET_CHECKERS, n=3)
    assert list(result["checkers"]) == ["set", "convergence", "quorum", "versions", "stats"]
    assert result["valid"] is True
    json.dumps(result)
    h.dump(2, "cart", "n3", [])  # one replica diverges in a later round
    assert check_records(h.records, SET_CHECKERS, n=3)["valid"] is False


def test_check_records_checks_linearizability_with_the_register_checkers() -> None:
    h = Recorder()
    h.op(0, "write", "k", 1, version={"n1": 1}, **STRICT)
    h.op(1, "read", "k", result=1, context={"n1": 1}, **STRICT)
    for node in ("n1", "n2", "n3"):
        h.dump(1, "k", node, [1])
    result = check_records(h.records, REGISTER_CHECKERS, n=3)
    assert set(result["checkers"]) == {"linearizable", "convergence", "quorum", "stats"}
    assert result["valid"] is True
    h.op(1, "read", "k", result=None, context={}, **STRICT)
    result = check_records(h.records, REGISTER_CHECKERS, n=3)
    assert result["valid"] is False
    assert result["checkers"]["linearizable"]["valid"] is False


class _Refuses:
    """A custom checker: finds every history invalid, and notes what it was given."""

    name = "refuses"

    def __init__(self) -> None:
        self.seen: list[tuple[int, CheckContext]] = []

    def check(self, history: list[dict[str, Any]], context: CheckContext) -> dict[str, Any]:
        self.seen.append((len(history), context))
        return {"valid": False, "why": "custom"}


def test_exactly_the_checkers_given_run_and_compose() -> None:
    h = _clean_set_run()
    custom = _Refuses()
    result = check_records(h.records, (NoopChecker(), custom), n=3, time_limit_s=1.5)
    assert result == {
        "valid": False,
        "checkers": {"noop": {"valid": True}, "refuses": {"valid": False, "why": "custom"}},
    }
    assert custom.seen == [(len(h.records), CheckContext(n=3, time_limit_s=1.5))]
    assert check_records(h.records, (NoopChecker(),))["valid"] is True
    assert check_records(h.records, ())["valid"] is True  # nothing to check: nothing wrong
    with pytest.raises(ValueError, match="two checkers are named 'noop'"):
        check_records(h.records, (NoopChecker(), NoopChecker()))
