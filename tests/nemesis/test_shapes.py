"""Partition values to grudges: every named shape, named nodes, explicit grudges, bad values."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis.grudge import hears, links_to_cut
from nemesis.shapes import PARTITION_SHAPES, grudge_for

NODES = ("n1", "n2", "n3", "n4", "n5")


@given(shape=st.sampled_from(PARTITION_SHAPES), seed=st.integers())
def test_every_shape_cuts_something_and_only_among_the_nodes(shape: str, seed: int) -> None:
    grudge = grudge_for({"shape": shape}, NODES, random.Random(seed))
    links = links_to_cut(grudge)
    assert links
    assert all(src in NODES and dst in NODES and src != dst for src, dst in links)


def test_named_isolate_and_one_way() -> None:
    rng = random.Random(0)
    isolated = grudge_for({"shape": "isolate", "node": "n3"}, NODES, rng)
    assert {link for link in links_to_cut(isolated) if "n3" not in link} == set()
    assert len(links_to_cut(isolated)) == 2 * (len(NODES) - 1)
    one_way = grudge_for({"shape": "one-way", "src": "n1", "dst": "n2"}, NODES, rng)
    assert links_to_cut(one_way) == {("n1", "n2")}
    assert hears(one_way, "n1", "n2")


def test_explicit_grudge_is_applied_as_given() -> None:
    grudge = grudge_for({"grudge": {"n1": ["n2"], "n2": []}}, NODES, random.Random(0))
    assert links_to_cut(grudge) == {("n2", "n1")}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"shape": "triangle"}, r"partition shape: 'triangle'.*accepted: halves, random-halves"),
        ({}, r"partition shape: None is not accepted"),
        ({"shape": "isolate", "node": "n9"}, r"partition node: unknown node 'n9'"),
        ({"shape": "one-way", "src": "n1"}, r"give both src and dst"),
        ({"shape": "one-way", "src": "n1", "dst": "n1"}, r"src and dst must differ"),
        ({"grudge": {"n1": ["n8"]}}, r"partition grudge: unknown nodes n8"),
    ],
)
def test_bad_partition_values_say_what_is_wrong(value: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grudge_for(value, NODES, random.Random(0))
