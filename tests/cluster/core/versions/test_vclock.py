"""The paper's vector clocks (``cluster.core.versions.vclock``): two concurrent
read-modify-writes through one coordinator get equal clocks (the lost update), truncation keeps
ten entries and drops the oldest but never the coordinator's, and merge keeps one winner per
maximal clock, chosen by the documented order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluster.core.versions import (
    EMPTY_CONTEXT,
    VCLOCK_MAX_ENTRIES,
    Context,
    Siblings,
    VclockVersion,
    versioning,
)
from tests.cluster.core.versions.strategies import NODES, canonical, keys_of


def test_vclock_gives_the_two_concurrent_writes_equal_clocks() -> None:
    vclock = versioning("vclock")
    first, _ = vclock.update(Siblings.EMPTY, EMPTY_CONTEXT, "v0", "a", 1_000)
    context = vclock.context(first)
    _, clock_x = vclock.update(first, context, "x", "a", 2_000)
    _, clock_y = vclock.update(first, context, "y", "a", 3_000)
    assert clock_x == clock_y == {"a": 2}


# ---------------------------------------------------------------------- vclock truncation


def test_vclock_truncation_keeps_ten_entries_and_drops_the_oldest() -> None:
    vclock = versioning("vclock")
    state = Siblings.EMPTY
    writers = [f"n{i:02d}" for i in range(14)]
    for i, node in enumerate(writers):
        state, clock = vclock.update(state, vclock.context(state), i, node, 1_000 + i)
        assert len(clock) <= VCLOCK_MAX_ENTRIES
    (newest,) = [v for v in state.versions if v.value == 13]
    assert isinstance(newest, VclockVersion)
    # The four oldest writers were dropped; the ten newest survive, the writer included.
    assert sorted(newest.clock()) == writers[-VCLOCK_MAX_ENTRIES:]
    # The price the paper warns of (§4.4): a truncated clock no longer shows that it descends
    # the versions it replaced, so they linger as false siblings.
    assert state.values == [10, 11, 12, 13, 9]


def test_vclock_truncation_never_drops_the_coordinators_own_entry() -> None:
    vclock = versioning("vclock")
    old_stamps = {f"n{i}": 5_000 + i for i in range(VCLOCK_MAX_ENTRIES)}
    context = Context.of(dict.fromkeys(old_stamps, 1), old_stamps)
    _, clock = vclock.update(Siblings.EMPTY, context, "v", "z", 1)  # skewed, oldest stamp
    assert len(clock) == VCLOCK_MAX_ENTRIES and clock["z"] == 1
    assert "n0" not in clock


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x", "y", None]),
            st.dictionaries(
                st.sampled_from(NODES),
                st.tuples(st.integers(1, 3), st.integers(0, 2)),
                min_size=1,
            ),
        ),
        max_size=5,
    )
)
def test_vclock_merge_keeps_one_winner_per_maximal_clock_on_any_versions(
    specs: list[tuple[object, dict[str, tuple[int, int]]]],
) -> None:
    vclock = versioning("vclock")
    versions = [
        VclockVersion(canonical(value), tuple(sorted((n, c, t) for n, (c, t) in clock.items())))
        for value, clock in specs
    ]
    state = Siblings(tuple(versions))
    merged = vclock.merge(state, Siblings.EMPTY)
    assert merged == vclock.merge(state, state) == vclock.merge(Siblings.EMPTY, state)

    def tie(v: VclockVersion) -> tuple[int, str, str]:  # the documented order of equal clocks
        return (max(t for _, _, t in v.entries), v.value_json, v.sort_key)

    winners: dict[tuple[tuple[str, int], ...], VclockVersion] = {}
    for v in versions:
        clock = tuple(sorted(v.clock().items()))
        if clock not in winners or tie(v) > tie(winners[clock]):
            winners[clock] = v
    maximal = {
        clock
        for clock in winners
        if not any(
            other != clock and all(c <= dict(other).get(n, 0) for n, c in clock)
            for other in winners
        )
    }
    assert keys_of(merged) == {winners[clock].sort_key for clock in maximal}
