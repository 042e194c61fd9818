"""Targets: one, minority, majority, all, named nodes — sized as promised, seeded, validated."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis.targets import TARGETS, choose_targets, parse_targets, pick_targets

node_lists = st.integers(min_value=1, max_value=9).map(lambda n: [f"n{i}" for i in range(1, n + 1)])


@given(nodes=node_lists, seed=st.integers())
def test_minority_is_under_half_and_majority_over_half(nodes: list[str], seed: int) -> None:
    n = len(nodes)
    minority = pick_targets("minority", nodes, random.Random(seed))
    majority = pick_targets("majority", nodes, random.Random(seed))
    assert len(minority) < n / 2
    assert len(majority) > n / 2
    # The largest minority and the smallest majority, as Jepsen's db targets are.
    assert len(minority) + 1 >= n / 2
    assert len(majority) - 1 <= n / 2


@given(nodes=node_lists, seed=st.integers(), spec=st.sampled_from(TARGETS))
def test_targets_are_distinct_cluster_nodes_in_cluster_order(
    nodes: list[str], seed: int, spec: str
) -> None:
    chosen = pick_targets(spec, nodes, random.Random(seed))
    assert len(set(chosen)) == len(chosen)
    assert list(chosen) == [node for node in nodes if node in chosen]
    assert {"one": 1, "all": len(nodes)}.get(spec, len(chosen)) == len(chosen)


@given(nodes=node_lists, seed=st.integers(), spec=st.sampled_from(TARGETS))
def test_same_seed_same_targets(nodes: list[str], seed: int, spec: str) -> None:
    assert pick_targets(spec, nodes, random.Random(seed)) == pick_targets(
        spec, nodes, random.Random(seed)
    )


def test_random_targets_vary_with_the_seed() -> None:
    nodes = [f"n{i}" for i in range(1, 6)]
    seen = {pick_targets("one", nodes, random.Random(seed)) for seed in range(50)}
    assert len(seen) == len(nodes)


def test_named_nodes_are_taken_as_given() -> None:
    nodes = ["n1", "n2", "n3", "n4", "n5"]
    rng = random.Random(1)
    assert pick_targets(["n4", "n2"], nodes, rng) == ("n2", "n4")
    assert pick_targets("n3,n1", nodes, rng) == ("n1", "n3")
    assert parse_targets("n5", nodes) == ("n5",)
    assert parse_targets("majority", nodes) == "majority"


def test_unknown_target_names_the_option_and_accepted_values() -> None:
    with pytest.raises(ValueError, match=r"kill_targets: unknown target 'n9'.*one, minority"):
        parse_targets("n1,n9", ["n1", "n2"], "kill_targets")
    with pytest.raises(ValueError, match="empty target"):
        parse_targets("n1,,n2", ["n1", "n2"])


def test_choose_targets_sizes_on_the_eligible_nodes_and_skips_ineligible_names() -> None:
    nodes = ["n1", "n2", "n3", "n4", "n5"]
    eligible = ["n1", "n2", "n3"]
    assert set(choose_targets("all", nodes, eligible, random.Random(0))) == set(eligible)
    assert len(choose_targets("majority", nodes, eligible, random.Random(0))) == 2
    assert choose_targets(["n2", "n5"], nodes, eligible, random.Random(0)) == ("n2",)
    with pytest.raises(ValueError, match="unknown target"):
        choose_targets("n7", nodes, eligible, random.Random(0))
