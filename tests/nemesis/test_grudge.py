"""Properties of the partition shapes: who hears whom under halves, isolation, majorities ring,
bridge and one-way grudges, and the links an adapter must cut."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis.grudge import (
    Grudge,
    bridge,
    bridge_node,
    complete_grudge,
    describe,
    from_description,
    halves,
    hears,
    isolate,
    isolate_random,
    links_to_cut,
    majorities_ring,
    one_way,
    one_way_random,
    random_halves,
)

node_lists = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=4),
    min_size=1,
    max_size=12,
    unique=True,
)
seeds = st.integers(0, 2**32)

RandomShape = Callable[[list[str], random.Random], dict[str, frozenset[str]]]
SYMMETRIC_SHAPES: dict[str, RandomShape] = {
    "random_halves": random_halves,
    "majorities_ring": majorities_ring,
    "bridge": bridge,
    "isolate_random": isolate_random,
}
RANDOM_SHAPES: dict[str, RandomShape] = {**SYMMETRIC_SHAPES, "one_way_random": one_way_random}
MIN_NODES = {"bridge": 3, "one_way_random": 2}


def heard_by(grudge: Grudge, node: str, nodes: list[str]) -> set[str]:
    return {other for other in nodes if hears(grudge, node, other)}


def assert_well_formed(grudge: Grudge, nodes: list[str]) -> None:
    assert set(grudge) <= set(nodes)
    for node, deaf_to in grudge.items():
        assert node not in deaf_to
        assert deaf_to <= set(nodes)


def assert_symmetric(grudge: Grudge, nodes: list[str]) -> None:
    for a in nodes:
        for b in nodes:
            assert hears(grudge, a, b) == hears(grudge, b, a), (a, b)


# ---------------------------------------------------------------------- every shape


@pytest.mark.parametrize("shape", sorted(RANDOM_SHAPES))
@given(nodes=node_lists, seed=seeds)
def test_grudges_only_name_known_nodes_and_nobody_ignores_itself(
    shape: str, nodes: list[str], seed: int
) -> None:
    if len(nodes) < MIN_NODES.get(shape, 1):
        with pytest.raises(ValueError, match="needs at least"):
            RANDOM_SHAPES[shape](nodes, random.Random(seed))
        return
    grudge = RANDOM_SHAPES[shape](nodes, random.Random(seed))
    assert_well_formed(grudge, nodes)
    assert set(grudge) == set(nodes)  # every node gets an entry, possibly empty


@pytest.mark.parametrize("shape", sorted(SYMMETRIC_SHAPES))
@given(nodes=node_lists, seed=seeds)
def test_partition_shapes_cut_links_in_both_directions(
    shape: str, nodes: list[str], seed: int
) -> None:
    if len(nodes) < MIN_NODES.get(shape, 1):
        return
    grudge = SYMMETRIC_SHAPES[shape](nodes, random.Random(seed))
    assert_symmetric(grudge, nodes)
    assert links_to_cut(grudge) == {(b, a) for a, b in links_to_cut(grudge)}


@pytest.mark.parametrize("shape", sorted(RANDOM_SHAPES))
@given(nodes=node_lists.filter(lambda ns: len(ns) >= 3), seed=seeds, data=st.data())
def test_same_seed_gives_the_same_grudge_whatever_the_node_order(
    shape: str, nodes: list[str], seed: int, data: st.DataObject
) -> None:
    reordered = data.draw(st.permutations(nodes))
    first = RANDOM_SHAPES[shape](nodes, random.Random(seed))
    assert RANDOM_SHAPES[shape](reordered, random.Random(seed)) == first


def test_different_seeds_pick_different_partitions() -> None:
    nodes = [f"n{i}" for i in range(1, 8)]
    seen = {json.dumps(describe(random_halves(nodes, random.Random(s)))) for s in range(30)}
    assert len(seen) > 5


# ---------------------------------------------------------------------- halves


@given(node_lists)
def test_halves_puts_the_first_smaller_half_against_the_rest(nodes: list[str]) -> None:
    grudge = halves(nodes)
    cut = len(nodes) // 2
    small, large = nodes[:cut], nodes[cut:]
    assert len(small) <= len(large) <= len(small) + 1
    for a in nodes:
        for b in nodes:
            assert hears(grudge, a, b) == ((a in small) == (b in small))


@given(node_lists, seeds)
def test_random_halves_leave_a_majority_connected(nodes: list[str], seed: int) -> None:
    grudge = random_halves(nodes, random.Random(seed))
    sides = {frozenset(heard_by(grudge, n, nodes)) for n in nodes}
    assert len(sides) <= 2
    assert max(len(side) for side in sides) == len(nodes) - len(nodes) // 2
    assert set().union(*sides) == set(nodes)


# ---------------------------------------------------------------------- isolate


@given(node_lists, st.data())
def test_isolate_cuts_one_node_off_from_everyone(nodes: list[str], data: st.DataObject) -> None:
    loner = data.draw(st.sampled_from(nodes))
    grudge = isolate(nodes, loner)
    for other in nodes:
        if other != loner:
            assert not hears(grudge, loner, other) and not hears(grudge, other, loner)
            assert heard_by(grudge, other, nodes) == set(nodes) - {loner}
    assert heard_by(grudge, loner, nodes) == {loner}


def test_isolate_rejects_an_unknown_node() -> None:
    with pytest.raises(ValueError, match="cannot isolate 'n9': not one of n1, n2"):
        isolate(["n1", "n2"], "n9")


# ---------------------------------------------------------------------- majorities ring


@given(node_lists, seeds)
def test_majorities_ring_lets_every_node_hear_a_majority(nodes: list[str], seed: int) -> None:
    grudge = majorities_ring(nodes, random.Random(seed))
    majority = len(nodes) // 2 + 1
    views = [frozenset(heard_by(grudge, n, nodes)) for n in nodes]
    assert all(
        node in view and len(view) >= majority for node, view in zip(nodes, views, strict=True)
    )
    # At most one more than a bare majority: a window around the node is odd-sized.
    assert all(len(view) <= majority + 1 or len(view) == len(nodes) for view in views)
    if len(nodes) >= 4:
        assert len(set(views)) == len(nodes)  # no two nodes see the same majority
        assert all(len(view) < len(nodes) for view in views)  # and every node misses someone


def test_majorities_ring_of_five_is_a_ring_of_neighbours() -> None:
    nodes = ["n1", "n2", "n3", "n4", "n5"]
    grudge = majorities_ring(nodes, random.Random(7))
    neighbours = {node: heard_by(grudge, node, nodes) - {node} for node in nodes}
    assert all(len(ns) == 2 for ns in neighbours.values())  # itself and two ring neighbours
    # Two neighbours each and connected: the nodes form one cycle of five.
    reached, frontier = {nodes[0]}, [nodes[0]]
    while frontier:
        for nxt in neighbours[frontier.pop()] - reached:
            reached.add(nxt)
            frontier.append(nxt)
    assert reached == set(nodes)


# ---------------------------------------------------------------------- bridge


@given(node_lists.filter(lambda ns: len(ns) >= 3), seeds)
def test_bridge_joins_two_halves_that_cannot_hear_each_other(nodes: list[str], seed: int) -> None:
    grudge = bridge(nodes, random.Random(seed))
    span = bridge_node(grudge)
    assert span is not None
    assert heard_by(grudge, span, nodes) == set(nodes)
    assert all(hears(grudge, n, span) for n in nodes)
    rest = [n for n in nodes if n != span]
    sides = {frozenset(heard_by(grudge, n, rest)) for n in rest}
    assert len(sides) == 2
    left, right = sides
    assert not left & right and left | right == set(rest)
    assert {len(left), len(right)} <= {len(nodes) // 2, len(nodes) - len(nodes) // 2 - 1}


# ---------------------------------------------------------------------- one way


def test_one_way_is_asymmetric() -> None:
    grudge = one_way("n1", "n2")
    assert not hears(grudge, "n2", "n1")
    assert hears(grudge, "n1", "n2")
    assert links_to_cut(grudge) == {("n1", "n2")}


@given(node_lists.filter(lambda ns: len(ns) >= 2), seeds)
def test_one_way_random_cuts_exactly_one_directed_link(nodes: list[str], seed: int) -> None:
    grudge = one_way_random(nodes, random.Random(seed))
    ((src, dst),) = links_to_cut(grudge)
    assert src != dst and {src, dst} <= set(nodes)
    assert hears(grudge, src, dst) and not hears(grudge, dst, src)


def test_one_way_rejects_a_node_cutting_itself_off() -> None:
    with pytest.raises(ValueError, match="more than once: n1"):
        one_way("n1", "n1")


# ---------------------------------------------------------------------- grudge plumbing


@given(st.lists(node_lists, min_size=1, max_size=4))
def test_complete_grudge_separates_components(groups: list[list[str]]) -> None:
    # Make the components disjoint by tagging each name with its component.
    components = [[f"{i}-{n}" for n in group] for i, group in enumerate(groups)]
    everyone = [n for c in components for n in c]
    grudge = complete_grudge(components)
    assert_well_formed(grudge, everyone)
    for a_index, a_group in enumerate(components):
        for b_index, b_group in enumerate(components):
            for a in a_group:
                for b in b_group:
                    assert hears(grudge, a, b) == (a_index == b_index)


def test_complete_grudge_rejects_overlapping_components() -> None:
    with pytest.raises(ValueError, match="more than one component: n2"):
        complete_grudge([["n1", "n2"], ["n2", "n3"]])


def test_links_to_cut_lists_sender_then_receiver() -> None:
    grudge = {"n1": frozenset({"n3", "n4"}), "n2": frozenset()}
    assert links_to_cut(grudge) == {("n3", "n1"), ("n4", "n1")}


@given(node_lists, seeds)
def test_describe_is_sorted_json_that_reads_back(nodes: list[str], seed: int) -> None:
    grudge = random_halves(nodes, random.Random(seed))
    described = describe(grudge)
    assert list(described) == sorted(described)
    assert all(v == sorted(v) for v in described.values())
    assert from_description(json.loads(json.dumps(described))) == grudge


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (["n1"], "expected an object"),
        ({"n1": "n2"}, r"grudge\['n1'\]: expected a list"),
        ({"n1": ["n1"]}, "against itself"),
        ({"": []}, "non-empty"),
    ],
)
def test_from_description_rejects_malformed_grudges(data: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        from_description(data)


def test_repeated_node_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="more than once: n1"):
        halves(["n1", "n2", "n1"])
