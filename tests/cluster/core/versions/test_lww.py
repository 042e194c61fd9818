"""Last write wins (``cluster.core.versions.lww``): the later timestamp survives whatever
order the writes arrive in, and there is no causal context."""

from __future__ import annotations

from cluster.core.versions import EMPTY_CONTEXT, Siblings, versioning


def test_lww_keeps_the_later_timestamp_even_when_it_arrives_first() -> None:
    lww = versioning("lww")
    newer, _ = lww.update(Siblings.EMPTY, EMPTY_CONTEXT, "new", "a", 2_000)
    after, _ = lww.update(newer, EMPTY_CONTEXT, "old", "b", 1_000)
    assert after.values == ["new"]
    assert lww.context(after) == EMPTY_CONTEXT and lww.clocks(after) == [{}]
