"""Dotted version vectors (``cluster.core.versions.dvv``): concurrent writes through one
coordinator both survive; merge, ``descends``, ``update`` and ``context`` agree with the
definitions on any versions, hand-built ones included; and the fast paths (an input returned
whole, two single versions decided directly, states built without re-validation) give exactly
what the definitions give."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.versions import Context, DvvVersion, Siblings, versioning
from tests.cluster.core.versions.strategies import (
    canonical,
    dvv_versions,
    dvvs_of,
    executions,
    keys_of,
    node_ids,
    two_concurrent_rmw,
    values,
)


def test_dvv_keeps_both_concurrent_writes_as_siblings() -> None:
    state = two_concurrent_rmw("dvv")
    assert state.values == ["x", "y"]
    # A client that reads both and writes back resolves them.
    dvv = versioning("dvv")
    resolved, _ = dvv.update(state, dvv.context(state), "xy", "a", 4_000)
    assert resolved.values == ["xy"]


@given(st.lists(dvv_versions(), max_size=4), st.lists(dvv_versions(), max_size=4))
def test_dvv_merge_and_descends_follow_seen_by_on_any_versions(
    xs: list[DvvVersion], ys: list[DvvVersion]
) -> None:
    dvv = versioning("dvv")
    a, b = Siblings(tuple(xs)), Siblings(tuple(ys))
    ours, theirs = dvvs_of(a), dvvs_of(b)
    union = ours + theirs
    survivors = {v.sort_key for v in union if not any(w != v and v.seen_by(w) for w in union)}
    assert keys_of(dvv.merge(a, b)) == survivors
    assert dvv.descends(a, b) == all(any(v.seen_by(w) for w in ours) for v in theirs)
    # A merge with itself or with nothing still drops what the state's own versions supersede.
    mine = {v.sort_key for v in ours if not any(w != v and v.seen_by(w) for w in ours)}
    assert keys_of(dvv.merge(a, a)) == keys_of(dvv.merge(a, Siblings.EMPTY)) == mine
    assert keys_of(dvv.merge(Siblings.EMPTY, a)) == mine


# ---------------------------------------------------------------------- dvv fast paths
# The dvv merge returns an input whole when the result is that input, decides two single
# versions without the general pass, and builds states and contexts without re-validating
# what it already checked: each must give exactly what the definitions give, in canonical
# order, on any versions (hand-built ones included).


def reference_dvv_merge(a: Siblings, b: Siblings) -> Siblings:
    """The dvv merge from the definition: every version no other version has seen, put in
    canonical order by the public constructor."""
    union = dvvs_of(a) + dvvs_of(b)
    return Siblings(tuple(v for v in union if not any(w != v and v.seen_by(w) for w in union)))


@st.composite
def dvv_state_pairs(draw: st.DrawFn) -> tuple[Siblings, Siblings]:
    """Two states of hand-built versions; ``b`` may hold some of ``a``'s very objects, as a
    coordinator's new state holds the local versions its context did not cover."""
    xs = draw(st.lists(dvv_versions(), max_size=3))
    shared = draw(st.lists(st.sampled_from(xs), max_size=2)) if xs else []
    ys = draw(st.lists(dvv_versions(), max_size=3))
    return Siblings(tuple(xs)), Siblings((*shared, *ys))


def fresh(s: Siblings) -> Siblings:
    """An equal state not yet known to be maximal (a merge marks an input it returns)."""
    return Siblings(s.versions)


def over_the_wire(s: Siblings) -> Siblings:
    """An equal state as a replica reads it: new objects, from JSON."""
    return Siblings.from_json(json.loads(json.dumps(s.to_json())))


def assert_dvv_merge_is_the_definition(a: Siblings, b: Siblings) -> Siblings:
    dvv = versioning("dvv")
    merged = dvv.merge(a, b)
    expected = reference_dvv_merge(a, b)
    assert merged == expected and merged.versions == expected.versions
    assert [v.sort_key for v in merged.versions] == sorted(keys_of(merged))
    # A merge's result is remembered as maximal: merging it again must agree.
    again = dvv.merge(merged, Siblings.EMPTY)
    assert again == reference_dvv_merge(merged, Siblings.EMPTY) == merged
    return merged


@settings(max_examples=300)
@given(dvv_state_pairs())
def test_dvv_merge_fast_paths_agree_with_the_definition(pair: tuple[Siblings, Siblings]) -> None:
    a, b = pair
    assert_dvv_merge_is_the_definition(fresh(a), fresh(b))
    assert_dvv_merge_is_the_definition(fresh(b), fresh(a))
    assert_dvv_merge_is_the_definition(fresh(a), fresh(a))
    assert_dvv_merge_is_the_definition(fresh(a), Siblings(fresh(a).versions))


@settings(max_examples=300)
@given(dvv_versions(), dvv_versions())
def test_dvv_merge_of_two_single_versions_agrees_with_the_definition(
    x: DvvVersion, y: DvvVersion
) -> None:
    # Every case of two single versions: concurrent, either superseding the other, both
    # superseding each other, one dot claimed twice, a past holding its own dot.
    for a, b in ((x, y), (y, x), (x, x)):
        assert_dvv_merge_is_the_definition(Siblings((a,)), Siblings((b,)))


@settings(max_examples=150)
@given(st.data())
def test_dvv_merge_fast_paths_agree_with_the_definition_on_executions(
    data: st.DataObject,
) -> None:
    run = data.draw(executions("dvv"))
    a, b = (data.draw(st.sampled_from(run.states)) for _ in range(2))
    for x, y in ((a, b), (b, a), (a, a), (a, over_the_wire(a))):
        assert_dvv_merge_is_the_definition(over_the_wire(x), over_the_wire(y))
        assert_dvv_merge_is_the_definition(fresh(x), fresh(y))


@given(st.data())
def test_dvv_merge_returns_the_incoming_state_that_descends_the_local_one(
    data: st.DataObject,
) -> None:
    dvv = versioning("dvv")
    run = data.draw(executions("dvv"))
    local = data.draw(st.sampled_from(run.states))
    seen = data.draw(st.sampled_from(run.states))
    incoming, _ = dvv.update(local, dvv.context(seen), data.draw(values), data.draw(node_ids), 1)
    # The replica write path: the coordinator's new state descends what the replica holds,
    # and is what the replica keeps, as it came.
    stored, sent = over_the_wire(local), over_the_wire(incoming)
    assert dvv.merge(stored, sent) is sent
    assert dvv.merge(sent, stored) is sent
    assert_dvv_merge_is_the_definition(over_the_wire(local), over_the_wire(incoming))


@given(st.lists(dvv_versions(), max_size=4), st.lists(dvv_versions(), max_size=4), st.data())
def test_dvv_update_builds_the_state_the_definition_gives(
    local_versions: list[DvvVersion], seen_versions: list[DvvVersion], data: st.DataObject
) -> None:
    dvv = versioning("dvv")
    local, seen = Siblings(tuple(local_versions)), Siblings(tuple(seen_versions))
    context = dvv.context(seen)
    node, value = data.draw(node_ids), data.draw(values)
    state, clock = dvv.update(local, context, value, node, 1)
    # A fresh dot above every event of ``node`` the context or the local versions know of.
    events = [c for n, c in context.counters if n == node]
    for v in dvvs_of(local):
        events += [c for n, c in (*v.past, (v.node, v.counter)) if n == node]
    counter = max(events, default=0) + 1
    covered = context.as_dict()
    new = DvvVersion(canonical(value), node, counter, context.counters)
    concurrent = [v for v in dvvs_of(local) if covered.get(v.node, 0) < v.counter]
    expected = Siblings((new, *concurrent))
    assert state == expected and state.versions == expected.versions
    assert clock == {**covered, node: counter}
    assert list(clock) == [*covered, *([] if node in covered else [node])]


@given(st.lists(dvv_versions(), max_size=4))
def test_dvv_context_is_the_join_of_the_clocks(versions: list[DvvVersion]) -> None:
    state = Siblings(tuple(versions))
    joined: dict[str, int] = {}
    for v in dvvs_of(state):
        for n, c in v.clock().items():
            joined[n] = max(joined.get(n, 0), c)
    context = versioning("dvv").context(state)
    assert context == Context(tuple(sorted(joined.items())))
    assert context.timestamps_ms == () and vars(context) == vars(Context(context.counters))
