"""Properties of the consistent-hashing ring: balance, distinct preference lists, fallbacks with
hints, and minimal movement when a node joins or leaves."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.ring import DEFAULT_PARTITIONS, Ring, Target


def names(count: int) -> list[str]:
    return [f"n{i}" for i in range(1, count + 1)]


@st.composite
def rings(draw: st.DrawFn, min_nodes: int = 1, spare: int = 0) -> Ring:
    """A built ring of 1..12 nodes and S..256 partitions (``spare`` extra partitions at least)."""
    count = draw(st.integers(min_nodes, 12))
    partitions = draw(st.integers(count + spare, 256))
    return Ring.build(names(count), partitions)


def assert_balanced(ring: Ring) -> None:
    loads = Counter(ring.owners)
    q, s = ring.partitions, len(ring.nodes)
    assert set(loads.values()) <= {q // s, math.ceil(q / s)}, loads


def moved(before: Ring, after: Ring) -> list[int]:
    return [p for p in range(before.partitions) if before.owners[p] != after.owners[p]]


keys = st.text(min_size=0, max_size=20)


# ---------------------------------------------------------------------- build


@given(rings())
def test_build_gives_every_node_floor_or_ceil_of_q_over_s(ring: Ring) -> None:
    assert_balanced(ring)


@given(st.permutations(names(7)), st.integers(7, 100))
def test_build_depends_only_on_the_node_names_and_q(order: list[str], q: int) -> None:
    assert Ring.build(order, q) == Ring.build(sorted(order), q)


def test_default_partition_count_is_64() -> None:
    assert Ring.build(names(5)).partitions == DEFAULT_PARTITIONS == 64


@pytest.mark.parametrize(
    ("nodes", "partitions", "problem"),
    [
        ([], 64, "at least one node"),
        (["a", "b", "a"], 64, "duplicate node names: a"),
        (names(5), 4, "partitions=4 is fewer than the 5 nodes"),
        (["a", ""], 64, "non-empty"),
    ],
)
def test_build_rejects_bad_input_with_a_clear_error(
    nodes: list[str], partitions: int, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Ring.build(nodes, partitions)


# ---------------------------------------------------------------------- add / remove


@given(rings(spare=1))
def test_adding_a_node_moves_exactly_floor_q_over_s_plus_1_partitions_all_to_it(
    ring: Ring,
) -> None:
    after = ring.add_node("new")
    changed = moved(ring, after)
    # The proven bound: exactly ⌊Q/(S+1)⌋ partitions move, the least a balanced ring allows
    # (the newcomer must own at least that many), which is ≤ ⌈Q/S'⌉.
    assert len(changed) == ring.partitions // (len(ring.nodes) + 1)
    assert all(after.owners[p] == "new" for p in changed)
    assert "new" in after.nodes
    assert_balanced(after)


@given(rings(min_nodes=2), st.data())
def test_removing_a_node_moves_only_its_partitions(ring: Ring, data: st.DataObject) -> None:
    leaving = data.draw(st.sampled_from(ring.nodes))
    after = ring.remove_node(leaving)
    changed = moved(ring, after)
    # Exactly the leaving node's partitions move: ≤ ⌈Q/S⌉ ≤ ⌈Q/S'⌉, and nothing else.
    assert changed == ring.owned_by(leaving)
    assert len(changed) <= math.ceil(ring.partitions / len(after.nodes))
    assert leaving not in after.nodes
    assert_balanced(after)


@settings(max_examples=60)
@given(
    st.integers(1, 6),
    st.integers(20, 200),
    st.lists(st.tuples(st.booleans(), st.integers(0, 100)), max_size=12),
)
def test_any_sequence_of_joins_and_leaves_stays_balanced(
    start: int, q: int, steps: list[tuple[bool, int]]
) -> None:
    ring = Ring.build(names(start), q)
    fresh = start
    for join, pick in steps:
        if join and len(ring.nodes) < q:
            fresh += 1
            before, ring = ring, ring.add_node(f"n{fresh}")
            assert len(moved(before, ring)) == q // len(ring.nodes)
        elif len(ring.nodes) > 1:
            leaving = ring.nodes[pick % len(ring.nodes)]
            before, ring = ring, ring.remove_node(leaving)
            assert moved(before, ring) == before.owned_by(leaving)
        assert_balanced(ring)


def test_add_and_remove_are_deterministic() -> None:
    ring = Ring.build(names(5), 64)
    assert ring.add_node("n6") == ring.add_node("n6")
    assert ring.remove_node("n3") == ring.remove_node("n3")


def test_add_and_remove_reject_bad_requests() -> None:
    ring = Ring.build(names(3), 3)
    with pytest.raises(ValueError, match="already in the ring"):
        ring.add_node("n1")
    with pytest.raises(ValueError, match="cannot be shared by 4 nodes"):
        ring.add_node("n4")
    with pytest.raises(ValueError, match="not in the ring"):
        ring.remove_node("n9")
    with pytest.raises(ValueError, match="last node"):
        Ring.build(["a"], 8).remove_node("a")


# ---------------------------------------------------------------------- keys and walks


@given(rings(), keys)
def test_partition_of_is_in_range_and_stable(ring: Ring, key: str) -> None:
    p = ring.partition_of(key)
    assert 0 <= p < ring.partitions
    assert Ring.build(ring.nodes, ring.partitions).partition_of(key) == p


def test_keys_spread_over_every_partition() -> None:
    ring = Ring.build(names(4), 64)
    hits = Counter(ring.partition_of(f"key-{i}") for i in range(20_000))
    assert set(hits) == set(range(64))
    # 20000/64 ≈ 312 per partition; MD5 is uniform enough to stay well within a factor of 1.5.
    assert max(hits.values()) < 1.5 * min(hits.values())


@given(rings(), st.data())
def test_walk_visits_every_node_once_starting_at_the_owner(ring: Ring, data: st.DataObject) -> None:
    p = data.draw(st.integers(0, ring.partitions - 1))
    walk = ring.walk(p)
    assert walk[0] == ring.owners[p]
    assert sorted(walk) == list(ring.nodes)


@settings(max_examples=60)
@given(rings(), st.lists(st.booleans(), max_size=4))
def test_every_walk_is_the_distinct_owners_met_clockwise(ring: Ring, joins: list[bool]) -> None:
    for i, join in enumerate(joins):
        if join and len(ring.nodes) < ring.partitions:
            ring = ring.add_node(f"x{i}")
        elif not join and len(ring.nodes) > 1:
            ring = ring.remove_node(ring.nodes[-1])
    q = ring.partitions
    for p in range(q):
        clockwise = [ring.owners[(p + step) % q] for step in range(q)]
        expected = list(dict.fromkeys(clockwise))
        assert ring.walk(p) == expected
        assert ring.walk(p) == expected  # asked again: the same answer
        assert ring.partition_primaries(p, 2) == expected[:2]
    with pytest.raises(ValueError, match="out of range"):
        ring.walk(q)


@given(rings(), keys, st.integers(1, 4), st.data())
def test_answers_are_fresh_lists_whatever_form_the_up_nodes_take(
    ring: Ring, key: str, n: int, data: st.DataObject
) -> None:
    up = data.draw(st.sets(st.sampled_from(ring.nodes)))
    expected = ring.preference_list(key, n, up)
    assert ring.preference_list(key, n, sorted(up)) == expected
    assert ring.preference_list(key, n, frozenset(up)) == expected
    assert ring.preference_list(key, n, dict.fromkeys(up)) == expected
    # Callers may change what they are given without changing the ring's next answers.
    walk, primaries = ring.walk(ring.partition_of(key)), ring.primaries(key, n)
    ring.preference_list(key, n, up).clear()
    ring.walk(ring.partition_of(key)).reverse()
    ring.primaries(key, n).append("junk")
    assert ring.preference_list(key, n, up) == expected
    assert ring.walk(ring.partition_of(key)) == walk
    assert ring.primaries(key, n) == primaries


@settings(max_examples=150)
@given(rings(), keys, st.integers(1, 6), st.lists(st.booleans(), max_size=4))
def test_preference_list_with_everyone_up_is_the_first_n_distinct_primaries(
    ring: Ring, key: str, n: int, joins: list[bool]
) -> None:
    # Joins and leaves make neighbouring partitions share owners: lists must stay distinct.
    for i, join in enumerate(joins):
        if join and len(ring.nodes) < ring.partitions:
            ring = ring.add_node(f"x{i}")
        elif not join and len(ring.nodes) > 1:
            ring = ring.remove_node(ring.nodes[0])
    targets = ring.preference_list(key, n)
    nodes = [t.node for t in targets]
    assert len(nodes) == len(set(nodes)) == min(n, len(ring.nodes))
    assert all(t.hint_for is None for t in targets)
    assert nodes == ring.primaries(key, n)
    assert nodes[0] == ring.owners[ring.partition_of(key)]


@settings(max_examples=200)
@given(rings(), keys, st.integers(1, 5), st.data())
def test_down_primaries_are_replaced_in_order_by_the_next_up_nodes_with_hints(
    ring: Ring, key: str, n: int, data: st.DataObject
) -> None:
    up = data.draw(st.sets(st.sampled_from(ring.nodes)))
    targets = ring.preference_list(key, n, up)
    primaries = ring.primaries(key, n)
    beyond = [node for node in ring.walk(ring.partition_of(key))[n:] if node in up]

    nodes = [t.node for t in targets]
    assert len(nodes) == len(set(nodes)) == min(len(primaries), len(up))
    assert set(nodes) <= up
    # Up primaries keep their place; the i-th down primary gets the i-th up fallback.
    down = [p for p in primaries if p not in up]
    expected = [Target(p) for p in primaries if p in up]
    expected += [Target(f, hint_for=p) for p, f in zip(down, beyond, strict=False)]
    assert sorted(targets, key=repr) == sorted(expected, key=repr)
    order = [t.hint_for or t.node for t in targets]
    assert order == [p for p in primaries if p in order]


def test_a_down_primary_is_replaced_by_the_first_fallback() -> None:
    ring = Ring.build(names(5), 64)
    key = "shopping-cart"
    walk = ring.walk(ring.partition_of(key))
    down = walk[1]
    targets = ring.preference_list(key, 3, [n for n in walk if n != down])
    assert targets == [Target(walk[0]), Target(walk[3], hint_for=down), Target(walk[2])]


def test_preference_list_ignores_unknown_up_nodes_and_rejects_n_below_one() -> None:
    ring = Ring.build(names(3), 8)
    # Every node is a primary with n=3 of 3, so there is no fallback for the two down ones.
    assert ring.preference_list("k", 3, ["n1", "zz"]) == [Target("n1")]
    with pytest.raises(ValueError, match="at least 1"):
        ring.preference_list("k", 0)


@given(rings(), st.integers(1, 4))
def test_replicated_partitions_are_those_whose_primaries_include_the_node(
    ring: Ring, n: int
) -> None:
    node = ring.nodes[0]
    owned = ring.replicated_partitions(node, n)
    assert set(ring.owned_by(node)) <= set(owned)
    for p in range(ring.partitions):
        assert (p in owned) == (node in ring.partition_primaries(p, n))


# ---------------------------------------------------------------------- serialisation


@given(rings(), st.booleans())
def test_json_round_trip(ring: Ring, grow: bool) -> None:
    if grow and len(ring.nodes) < ring.partitions:
        ring = ring.add_node("zz")
    assert Ring.from_json(ring.to_json()) == ring


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"owners": "n1"}, "'owners' must be a list"),
        ({"owners": [1, 2]}, "'owners' must be a list"),
        ({"owners": ["a", "b"], "partitions": 3}, "'partitions' is 3"),
        ({"owners": []}, "at least one partition"),
    ],
)
def test_from_json_rejects_malformed_rings(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Ring.from_json(data)
