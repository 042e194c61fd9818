"""Merkle trees: equal roots exactly for equal contents, and the descent finds exactly the
keys that differ."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.merkle import MerkleForest, MerkleTree, Shape, build, diff, differing_buckets

keys = st.text(min_size=1, max_size=12)
digests = st.binary(min_size=32, max_size=32)
contents = st.dictionaries(keys, digests, max_size=60)
small_shapes = st.sampled_from([Shape(2, 1), Shape(4, 2), Shape(16, 2), Shape(3, 3)])


def digest_of(value: object) -> bytes:
    return hashlib.sha256(repr(value).encode()).digest()


@settings(max_examples=100, deadline=None)
@given(contents, small_shapes, st.randoms(use_true_random=False))
def test_the_root_does_not_depend_on_the_order_of_writes(
    content: dict[str, bytes], shape: Shape, rnd: object
) -> None:
    items = list(content.items())
    shuffled = items[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert build(items, shape).root == build(shuffled, shape).root


@settings(max_examples=150, deadline=None)
@given(contents, contents, small_shapes)
def test_diff_finds_exactly_the_keys_whose_digests_differ(
    a: dict[str, bytes], b: dict[str, bytes], shape: Shape
) -> None:
    expected = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    ta, tb = build(a.items(), shape), build(b.items(), shape)
    assert diff(ta, tb) == expected
    assert (ta.root == tb.root) == (not expected)


@settings(max_examples=100, deadline=None)
@given(contents, keys, digests)
def test_writing_then_removing_a_key_restores_the_root(
    content: dict[str, bytes], key: str, digest: bytes
) -> None:
    content.pop(key, None)
    tree = build(content.items())
    before = tree.root
    tree.set(key, digest)
    assert tree.root != before
    tree.set(key, None)
    assert tree.root == before
    assert len(tree) == len(content)


def test_an_incrementally_updated_tree_equals_one_built_from_scratch() -> None:
    tree = MerkleTree()
    for i in range(500):
        tree.set(f"k{i}", digest_of(i))
        if i % 7 == 0:
            tree.root  # hashes refreshed midway must stay right  # noqa: B018
    for i in range(0, 500, 3):
        tree.set(f"k{i}", digest_of(-i))
    for i in range(0, 500, 5):
        tree.set(f"k{i}", None)
    expected = {f"k{i}": digest_of(-i if i % 3 == 0 else i) for i in range(500) if i % 5}
    assert tree.root == build(expected.items()).root
    assert sorted(tree.keys()) == sorted(expected)


def test_one_changed_key_is_found_by_descending_one_path() -> None:
    content = {f"k{i}": digest_of(i) for i in range(2000)}
    a = build(content.items())
    content["k1234"] = digest_of("changed")
    b = build(content.items())
    assert len(differing_buckets(a, b)) == 1
    assert diff(a, b) == {"k1234"}


def test_the_forest_keeps_one_tree_per_partition_with_keys() -> None:
    forest = MerkleForest()
    empty_root = forest.root(3)
    forest.set(3, "a", digest_of("a"))
    forest.set(5, "b", digest_of("b"))
    assert forest.partitions() == [3, 5]
    assert forest.root(3) != empty_root
    assert forest.keys(3) == ["a"]
    forest.set(3, "a", None)
    assert forest.partitions() == [5]
    assert forest.root(3) == empty_root
    assert len(forest) == 1


def test_trees_of_different_shapes_cannot_be_compared() -> None:
    with pytest.raises(ValueError, match="shapes"):
        diff(MerkleTree(Shape(4, 2)), MerkleTree(Shape(16, 2)))


@pytest.mark.parametrize(("fanout", "depth"), [(1, 2), (16, 0)])
def test_a_bad_shape_is_refused_with_the_setting_named(fanout: int, depth: int) -> None:
    with pytest.raises(ValueError, match="fanout" if fanout < 2 else "depth"):
        Shape(fanout, depth)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.text(max_size=6), st.none() | st.binary(min_size=16, max_size=16)
        ),
        max_size=40,
    )
)
def test_the_forest_knows_each_keys_partition_and_digest(
    writes: list[tuple[int, str, bytes | None]],
) -> None:
    """The forest's key index agrees with its trees after any sequence of sets and removals
    (each key always in the same partition, as a ring puts it)."""
    forest = MerkleForest()
    partition_of: dict[str, int] = {}
    for partition, key, digest in writes:
        partition = partition_of.setdefault(key, partition)
        forest.set(partition, key, digest)
    for key, partition in partition_of.items():
        in_tree = forest.tree(partition).digest(key)
        assert forest.digest(key) == in_tree
        assert forest.partition(key) == (None if in_tree is None else partition)
