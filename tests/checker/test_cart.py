"""The cart check: removed elements must not come back, acknowledged adds must stay."""

from __future__ import annotations

from typing import Any

from checker.dynamo import check_cart

Op = tuple[Any, str, Any, int, int, str, Any]  # process, f, value, start, end, type, result


def history(*ops: Op, key: str = "k") -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for process, f, value, start, end, kind, result in ops:
        base = {"process": process, "f": f, "key": key}
        if process == "final":
            base["final"] = True
        records.append({**base, "type": "invoke", "time": start, "value": value})
        done = result if f == "read" else value
        records.append({**base, "type": kind, "time": end, "value": done})
    records.sort(key=lambda r: r["time"])
    return records


def test_a_removed_element_in_the_final_read_is_resurrected_and_named() -> None:
    result = check_cart(
        history(
            (1, "add", 1, 0, 10, "ok", None),
            (2, "add", 2, 0, 12, "ok", None),
            (1, "remove", 1, 20, 30, "ok", None),
            (3, "read", None, 40, 50, "ok", [1, 2]),  # stale: counted, not a violation
            ("final", "read", None, 100, 110, "ok", [1, 2]),
        )
    )
    assert result["valid"] is False and result["resurrected"] == 1 and result["stale"] == 1
    [found] = result["resurrected_elements"]
    assert found["element"] == 1 and found["remove"]["f"] == "remove"
    assert found["final_read"]["value"] == [1, 2]


def test_removes_that_stick_and_adds_that_stay_are_valid() -> None:
    result = check_cart(
        history(
            (1, "add", 1, 0, 10, "ok", None),
            (2, "add", 2, 0, 12, "ok", None),
            (1, "remove", 1, 20, 30, "ok", None),
            (3, "read", None, 15, 35, "ok", [1, 2]),  # began before the remove ended: fine
            ("final", "read", None, 100, 110, "ok", [2]),
        )
    )
    assert result["valid"] is True and result["stale"] == 0


def test_a_lost_add_is_named_unless_a_remove_of_it_may_have_happened() -> None:
    lost = check_cart(
        history((1, "add", 1, 0, 10, "ok", None), ("final", "read", None, 100, 110, "ok", []))
    )
    assert lost["valid"] is False and lost["lost_elements"][0]["element"] == 1
    maybe_removed = check_cart(
        history(
            (1, "add", 1, 0, 10, "ok", None),
            (2, "remove", 1, 20, 30, "info", None),
            ("final", "read", None, 100, 110, "ok", []),
        )
    )
    assert maybe_removed["valid"] is True
    definitely_not_removed = check_cart(
        history(
            (1, "add", 1, 0, 10, "ok", None),
            (2, "remove", 1, 20, 30, "fail", None),
            ("final", "read", None, 100, 110, "ok", []),
        )
    )
    assert definitely_not_removed["lost"] == 1


def test_an_element_nobody_added_is_unexpected_and_no_final_read_is_unknown() -> None:
    unexpected = check_cart(
        history((1, "add", 1, 0, 10, "ok", None), ("final", "read", None, 20, 30, "ok", [1, 7]))
    )
    assert unexpected["valid"] is False and unexpected["unexpected_elements"][0]["element"] == 7
    assert check_cart(history((1, "add", 1, 0, 10, "ok", None)))["valid"] == "unknown"
