"""The checks of what a run leaves behind: lost versions, hints left after recovery, failed
fault operations."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from checker.dynamo import check_leftovers, check_lost_versions, check_nemesis


def write(index: int, key: str, value: Any, version: dict[str, int]) -> dict[str, Any]:
    return {"index": index, "process": 1, "type": "ok", "f": "add", "key": key,
            "value": value, "version": version, "coordinator": "n1"}  # fmt: skip


def dump(key: str, node: str, clocks: list[dict[str, int]], round_: int = 1, ok: bool = True):
    record: dict[str, Any] = {"process": "final", "f": "replica-state", "round": round_,
                              "key": key, "node": node, "type": "ok" if ok else "fail"}  # fmt: skip
    if ok:
        record["clocks"] = clocks
    return record


def test_a_present_or_superseded_version_is_kept_and_a_dropped_one_is_lost() -> None:
    history = [
        write(0, "k", 1, {"n1": 1}),  # superseded by n1:2 (which read it)
        write(1, "k", 2, {"n1": 2}),  # present
        write(2, "k", 3, {"n2": 1}),  # concurrent with n1:2, dropped: lost
        dump("k", "n1", [{"n1": 2}]),
        dump("k", "n2", [{"n1": 2}]),
    ]
    result = check_lost_versions(history)
    assert result["valid"] is False and result["lost"] == 1
    assert result["acknowledged_versions"] == 3
    [lost] = result["lost_versions"]
    assert (lost["key"], lost["value"], lost["version"], lost["index"]) == ("k", 3, {"n2": 1}, 2)
    assert lost["final_clocks"] == [{"n1": 2}, {"n1": 2}]


def test_only_the_last_dump_round_counts() -> None:
    history = [
        write(0, "k", 1, {"n1": 1}),
        dump("k", "n1", [{"n1": 1}], round_=1),
        dump("k", "n1", [], round_=2),  # gone by the end: lost
    ]
    assert check_lost_versions(history)["lost"] == 1


def test_a_key_without_a_usable_final_dump_is_unknown() -> None:
    unreachable = [write(0, "k", 1, {"n1": 1}), dump("k", "n1", [], ok=False)]
    assert check_lost_versions(unreachable)["valid"] == "unknown"
    never_dumped = [write(0, "k", 1, {"n1": 1})]
    result = check_lost_versions(never_dumped)
    assert result["valid"] == "unknown" and result["unknown_keys"] == ["k"]


def test_lww_versions_carry_no_clocks_and_are_not_judged() -> None:
    result = check_lost_versions([write(0, "k", 1, {}), dump("k", "n1", [{}])])
    assert result["valid"] is True and result["not_judged"] == 1
    assert "lww" in result["note"]


@given(st.dictionaries(st.sampled_from(["n1", "n2", "n3"]), st.integers(1, 5), min_size=1))
def test_any_final_clock_at_or_above_a_version_keeps_it(version: dict[str, int]) -> None:
    above = {node: count + 1 for node, count in version.items()}
    for final in (version, above, {**above, "n9": 1}):
        assert (
            check_lost_versions([write(0, "k", 1, version), dump("k", "n1", [final])])["valid"]
            is True
        )


def node_state(node: str, hints: int | None) -> dict[str, Any]:
    if hints is None:
        return {"process": "final", "f": "node-state", "node": node, "type": "fail",
                "error": "timeout"}  # fmt: skip
    return {"process": "final", "f": "node-state", "node": node, "type": "ok",
            "value": {"hints": hints}}  # fmt: skip


def test_hints_left_after_recovery_are_named_per_node() -> None:
    result = check_leftovers([node_state("n1", 0), node_state("n2", 3), node_state("n4", 1)])
    assert result["valid"] is False and result["hints_left"] == 4
    assert result["summary"] == "hints left after recovery: n2 holds 3, n4 holds 1"
    assert check_leftovers([node_state("n1", 0), node_state("n2", 0)])["valid"] is True
    assert check_leftovers([node_state("n1", 0), node_state("n2", None)])["valid"] == "unknown"
    assert check_leftovers([])["valid"] == "unknown"


def test_a_failed_fault_operation_makes_the_run_unknown_and_is_named() -> None:
    ok = {"index": 3, "process": "nemesis", "type": "info", "f": "start-kill", "value": {}}
    failed = {"index": 9, "process": "nemesis", "type": "info", "f": "start-membership",
              "value": {}, "error": "NemesisError: leave n3: timed out after 120 s"}  # fmt: skip
    invoke = {"index": 8, "process": "nemesis", "type": "invoke", "f": "start-membership"}
    assert check_nemesis([ok])["valid"] is True
    result = check_nemesis([ok, invoke, failed])
    assert result["valid"] == "unknown" and result["failed"] == 1
    assert result["failures"] == [{"index": 9, "f": "start-membership", "error": failed["error"]}]
    assert "leave n3: timed out" in result["summary"]
