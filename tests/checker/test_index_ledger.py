"""Repeated indices in a history given to `zynamo check` are refused, naming both lines."""

from __future__ import annotations

import pytest

from checker.ops import HistoryError
from checker.readers import IndexLedger


def see_all(indices: list[object]) -> None:
    ledger = IndexLedger("h.jsonl")
    for line, index in enumerate(indices, start=1):
        ledger.see(index, line)


@pytest.mark.parametrize(
    ("indices", "message"),
    [
        ([0, 1, 2, 1], "h.jsonl:4: index 1 again (first on line 2)"),  # after an ordered run
        ([5, 6, 9, 6], "h.jsonl:4: index 6 again (first on line 2)"),  # after a gap
        ([3, 1, 2, 1], "h.jsonl:4: index 1 again (first on line 2)"),  # never in order
        (["a", "b", "a"], "h.jsonl:3: index 'a' again (first on line 1)"),
    ],
)
def test_a_repeated_index_names_its_line_and_the_first(indices: list[object], message: str) -> None:
    with pytest.raises(HistoryError) as raised:
        see_all(indices)
    assert str(raised.value) == message


def test_distinct_indices_in_any_order_pass() -> None:
    see_all(list(range(100_000)))
    see_all([2, 0, 1, 7, 3])
