"""Read repair alone owes convergence for the keys that were read (docs/repair.md)."""

from __future__ import annotations

from typing import Any

from checker.api import check_records
from checker.dynamo import ConvergenceChecker, check_read_repair_convergence


def dump(
    key: str, round_: int, states: dict[str, Any], phase: str | None = None
) -> list[dict[str, Any]]:
    marks = {} if phase is None else {"phase": phase}
    return [
        {"process": "final", "f": "replica-state", "type": "ok", "round": round_, "key": key,
         "node": node, "value": value, "tombstone": False, "time": round_, **marks}
        for node, value in states.items()
    ]  # fmt: skip


def final_read(key: str) -> list[dict[str, Any]]:
    return [
        {"process": 1_000_000, "f": "read", "key": key, "type": "invoke", "final": True},
        {"process": 1_000_000, "f": "read", "key": key, "type": "ok", "final": True,
         "value": [1]},
    ]  # fmt: skip


STALE = {"n1": [[1]], "n2": [[1]], "n3": None}
AGREED = {"n1": [[1]], "n2": [[1]], "n3": [[1]]}
AFTER = "after-final-reads"


def test_a_key_read_but_still_diverged_after_the_final_reads_fails() -> None:
    history = dump("k", 1, STALE) + final_read("k") + dump("k", 2, STALE, AFTER)
    result = check_read_repair_convergence(history, 3)
    assert result["valid"] is False and result["diverged"][0]["key"] == "k"
    checked = check_records(history, (ConvergenceChecker(),), n=3, repairs=("read-repair",))
    assert checked["valid"] is False
    assert checked["checkers"]["convergence"]["read_repair"]["diverged_count"] == 1


def test_read_repair_converging_the_keys_read_passes_while_unread_keys_may_differ() -> None:
    history = (
        dump("k", 1, STALE) + dump("cold", 1, STALE) + final_read("k") + dump("k", 2, AGREED, AFTER)
    )
    checked = check_records(history, (ConvergenceChecker(),), n=3, repairs=("read-repair",))
    result = checked["checkers"]["convergence"]
    assert checked["valid"] is True and result["read_repair"]["converged_keys"] == 1
    assert "read repair alone" in result["summary"]


def test_without_a_dump_after_the_reads_the_verdict_is_unknown() -> None:
    history = dump("k", 1, STALE) + final_read("k")
    checked = check_records(history, (ConvergenceChecker(),), n=3, repairs=("read-repair",))
    assert checked["valid"] == "unknown"


def test_with_anti_entropy_on_the_whole_dump_is_owed_as_before() -> None:
    history = dump("k", 1, STALE) + final_read("k") + dump("k", 2, AGREED, AFTER)
    assert check_read_repair_convergence(history, 3)["valid"] is True
    everything = ("hints", "read-repair", "anti-entropy")
    stale = dump("k", 1, STALE)
    assert check_records(stale, (ConvergenceChecker(),), n=3, repairs=everything)["valid"] is False
