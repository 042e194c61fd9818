"""The deletes checker: a value removed by an acknowledged delete that a final read sees again
is a resurrection, named with its write, delete and read."""

from __future__ import annotations

from typing import Any

from checker.dynamo import check_deletes

FINAL = 1_000_000


def history(final_values: list[int]) -> list[dict[str, Any]]:
    return [
        {"index": 0, "process": 1, "type": "invoke", "f": "write", "key": "k", "value": 1},
        {"index": 1, "process": 1, "type": "ok", "f": "write", "key": "k", "value": 1},
        {"index": 2, "process": 2, "type": "invoke", "f": "delete", "key": "k"},
        {"index": 3, "process": 2, "type": "ok", "f": "delete", "key": "k", "removed": [1],
         "coordinator": "n2"},
        {"index": 4, "process": 1, "type": "invoke", "f": "write", "key": "k", "value": 2},
        {"index": 5, "process": 1, "type": "ok", "f": "write", "key": "k", "value": 2},
        {"index": 6, "process": "nemesis", "type": "info", "f": "stop-all"},
        {"index": 7, "process": FINAL, "type": "ok", "f": "read", "key": "k",
         "value": max(final_values, default=None), "values": final_values},
    ]  # fmt: skip


def test_a_value_written_after_the_delete_is_fine() -> None:
    result = check_deletes(history([2]))
    assert result["valid"] is True and result["deletes"] == 1


def test_a_removed_value_read_again_after_the_heal_is_a_resurrection() -> None:
    result = check_deletes(history([1, 2]))
    assert result["valid"] is False
    assert result["resurrected"] == [
        {"key": "k", "value": 1, "write": 0, "delete": 3, "delete_coordinator": "n2",
         "final_read": 7}
    ]  # fmt: skip
    assert "key k value 1: written at #0, deleted at #3" in result["summary"]


def test_a_value_nobody_wrote_is_unexpected_and_no_final_read_is_unknown() -> None:
    assert check_deletes(history([9]))["unexpected_count"] == 1
    assert check_deletes(history([])[:-1])["valid"] == "unknown"
