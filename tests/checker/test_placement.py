"""The placement check: before the first fault, writes stay on the primaries and most
operations succeed."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from checker.dynamo import check_placement
from checker.dynamo.placement import SETTLE_NS

S = 1_000_000_000
FAULT_AT = 10 * S


def op(process: int, start_s: float, kind: str = "ok", fallbacks: tuple[str, ...] = (),
       f: str = "add") -> list[dict[str, Any]]:  # fmt: skip
    start = int(start_s * S)
    done: dict[str, Any] = {"process": process, "f": f, "key": "k", "type": kind,
                            "time": start + S // 100, "value": 1}  # fmt: skip
    if kind == "ok" and f != "read":
        done |= {"replicas": ["n1", "n2"], "fallbacks": list(fallbacks)}
    return [{"process": process, "f": f, "key": "k", "type": "invoke", "time": start}, done]


FAULT = [{"process": "nemesis", "f": "start-partition", "type": "invoke", "time": FAULT_AT}]


def test_a_write_a_fallback_took_before_any_fault_is_a_finding() -> None:
    history = op(1, 3.0) + op(2, 4.0, fallbacks=("n4",)) + FAULT
    result = check_placement(history)
    assert result["valid"] is False
    (finding,) = result["findings"]
    assert finding["kind"] == "fallback-write" and finding["writes"][0]["fallbacks"] == ["n4"]


def test_fallback_writes_once_a_fault_started_are_the_sloppy_quorum_at_work() -> None:
    history = op(1, 3.0) + FAULT + op(2, 11.0, fallbacks=("n4",))
    assert check_placement(history)["valid"] is True


def test_a_calm_cluster_that_refuses_most_operations_is_a_finding() -> None:
    history = op(1, 3.0) + op(2, 4.0, "fail") + op(3, 5.0, "fail") + op(4, 6.0, "info") + FAULT
    result = check_placement(history)
    assert result["valid"] is False
    assert [f["kind"] for f in result["findings"]] == ["calm-availability"]
    assert result["calm_ok_fraction"] == 0.25


def test_operations_before_the_detectors_settled_or_in_the_final_reads_are_not_judged() -> None:
    early = op(1, SETTLE_NS / S / 2, fallbacks=("n5",))
    final = [{**r, "final": True} for r in op(2, 4.0, "fail", f="read")]
    result = check_placement(early + final + FAULT)
    assert result["valid"] is True and result["calm_ops"] == 0


@given(st.lists(st.tuples(st.floats(10.5, 60.0), st.sampled_from(["ok", "fail", "info"]),
                          st.booleans()), max_size=20))  # fmt: skip
def test_nothing_after_the_first_fault_changes_the_verdict(
    late: list[tuple[float, str, bool]],
) -> None:
    calm = op(1, 3.0) + op(2, 5.0) + FAULT
    history = list(calm)
    for i, (start, kind, fallback) in enumerate(late):
        history += op(10 + i, start, kind, ("n4",) if fallback else ())
    assert check_placement(history)["valid"] == check_placement(calm)["valid"] is True


def test_a_run_without_faults_is_judged_as_a_whole() -> None:
    result = check_placement(op(1, 3.0) + op(2, 40.0, fallbacks=("n3",)))
    assert result["valid"] is False and "calm_until_ns" not in result
