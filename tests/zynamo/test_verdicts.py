"""The verdict table and exit codes a person sees at the end of a run."""

from __future__ import annotations

from zynamo.verdicts import exit_code, verdict_table


def test_exit_codes_follow_jepsen() -> None:
    assert exit_code(True) == 0
    assert exit_code(False) == 1
    assert exit_code("unknown") == 2


def test_table_has_one_row_per_checker_and_the_overall_verdict() -> None:
    results = {
        "valid": False,
        "checkers": {
            "set": {"valid": False, "lost": 3, "acknowledged": 90},
            "linearizable": {
                "valid": False,
                "message": "p0 key 'k1' read -> 47 cannot be linearized",
            },
            "stats": {"valid": True, "ops": 120},
        },
    }
    lines = verdict_table(results).splitlines()
    assert lines[0].split() == ["checker", "verdict", "summary"]
    assert lines[1].startswith("set") and "INVALID" in lines[1] and "lost=3" in lines[1]
    assert "cannot be linearized" in lines[2]
    assert "valid" in lines[3] and "ops=120" in lines[3]
    assert lines[-1].split() == ["overall", "INVALID"]
