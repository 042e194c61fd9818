"""Merkle trees over the keys of one partition, for anti-entropy (Dynamo §4.7). Pure, no I/O.

A ``MerkleTree`` has a fixed shape: ``fanout ** depth`` leaf buckets under ``depth`` levels of
inner nodes (level 0 is the root, level ``depth`` the leaves). A key lives in the bucket chosen
by a hash of the key itself, so two replicas of a partition put every key in the same bucket
whatever else they hold. A leaf's hash covers the sorted ``(key, digest)`` pairs of its bucket
(the digest is ``replica.state_digest`` of the key's state); an inner node's hash covers its
children's hashes. Two replicas hold the same states exactly when their roots are equal, and
the keys that differ sit under the subtrees whose hashes differ.

Writes are cheap: ``set`` updates the bucket's dictionary and marks the leaf dirty; hashes are
recomputed lazily, only along dirty paths, the next time one is read. So a client write costs a
dictionary update, and an exchange costs O(changed buckets × depth) hashes.

``MerkleForest`` keeps one tree per partition that holds keys; a partition without keys has
the empty tree's hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

FANOUT = 16
DEPTH = 2  # 256 leaf buckets per partition: ~1 key per bucket at 10,000 keys over 64 partitions

_HASH_BYTES = 16


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_HASH_BYTES).digest()


@lru_cache(maxsize=1 << 16)
def bucket_of(key: str, leaves: int) -> int:
    """The leaf bucket of ``key`` (independent of the key's partition, which uses MD5).
    Remembered for recent keys: every write of a key asks again."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=b"bucket").digest()
    return int.from_bytes(digest, "big") % leaves


def leaf_hash(entries: dict[str, bytes]) -> bytes:
    """The hash of one bucket: its sorted ``(key, digest)`` pairs."""
    parts = []
    for key in sorted(entries):
        raw = key.encode("utf-8")
        parts.append(len(raw).to_bytes(4, "big") + raw + entries[key])
    return _h(b"".join(parts))


@dataclass(frozen=True)
class Shape:
    """A tree's fanout and depth; two trees can only be compared if their shapes match."""

    fanout: int = FANOUT
    depth: int = DEPTH

    def __post_init__(self) -> None:
        if self.fanout < 2:
            raise ValueError(f"merkle fanout must be at least 2, got {self.fanout}")
        if self.depth < 1:
            raise ValueError(f"merkle depth must be at least 1, got {self.depth}")

    @property
    def leaves(self) -> int:
        return int(self.fanout**self.depth)

    def width(self, level: int) -> int:
        """How many nodes the tree has at ``level``."""
        self.check_level(level)
        return _WIDTHS.get((self.fanout, level)) or int(self.fanout**level)

    def children(self, level: int, index: int) -> range:
        """The indices at ``level + 1`` of the children of node ``index`` at ``level``."""
        if level >= self.depth:
            raise ValueError(f"level {level}: leaves have no children")
        return range(index * self.fanout, (index + 1) * self.fanout)

    def check_level(self, level: int) -> None:
        if not 0 <= level <= self.depth:
            raise ValueError(f"merkle level {level} out of range 0..{self.depth}")

    def check_index(self, level: int, index: int) -> None:
        if not 0 <= index < self.width(level):
            raise ValueError(f"merkle node {index} out of range at level {level}")


_WIDTHS = {(f, level): f**level for f in range(2, 65) for level in range(6)}


def _empty_hashes(shape: Shape) -> list[bytes]:
    """The hash of an empty subtree at each level."""
    hashes = [b""] * (shape.depth + 1)
    hashes[shape.depth] = leaf_hash({})
    for level in range(shape.depth - 1, -1, -1):
        hashes[level] = _h(hashes[level + 1] * shape.fanout)
    return hashes


@dataclass
class MerkleTree:
    """The Merkle tree of one partition's keys."""

    shape: Shape = field(default_factory=Shape)
    _buckets: dict[int, dict[str, bytes]] = field(default_factory=dict)
    _levels: list[list[bytes]] = field(init=False)
    _dirty: set[int] = field(default_factory=set)  # leaf buckets whose hashes are stale
    _size: int = 0

    _leaves: int = field(init=False)

    def __post_init__(self) -> None:
        empty = _empty_hashes(self.shape)
        self._levels = [[empty[level]] * self.shape.width(level) for level in range(len(empty))]
        self._leaves = self.shape.leaves

    # ------------------------------------------------------------------ content

    def set(self, key: str, digest: bytes | None) -> None:
        """Record ``key``'s state digest; ``None`` removes the key."""
        index = bucket_of(key, self._leaves)
        bucket = self._buckets.get(index)
        if digest is None:
            if bucket is None or key not in bucket:
                return
            del bucket[key]
            self._size -= 1
            if not bucket:
                del self._buckets[index]
        else:
            if bucket is None:
                bucket = self._buckets[index] = {}
            if bucket.get(key) == digest:
                return
            if key not in bucket:
                self._size += 1
            bucket[key] = digest
        self._dirty.add(index)

    def digest(self, key: str) -> bytes | None:
        bucket = self._buckets.get(bucket_of(key, self._leaves))
        return None if bucket is None else bucket.get(key)

    def bucket(self, index: int) -> dict[str, bytes]:
        """A copy of leaf bucket ``index``: key → digest."""
        self.shape.check_index(self.shape.depth, index)
        return dict(self._buckets.get(index, {}))

    def keys(self) -> Iterator[str]:
        for bucket in self._buckets.values():
            yield from bucket

    def __len__(self) -> int:
        return self._size

    # ------------------------------------------------------------------ hashes

    def hash(self, level: int, index: int) -> bytes:
        self.shape.check_index(level, index)
        self._refresh()
        return self._levels[level][index]

    @property
    def root(self) -> bytes:
        return self.hash(0, 0)

    def _refresh(self) -> None:
        """Recompute the hashes along every dirty path, leaves first."""
        if not self._dirty:
            return
        shape = self.shape
        leaves = self._levels[shape.depth]
        for index in self._dirty:
            leaves[index] = leaf_hash(self._buckets.get(index, {}))
        dirty = {index // shape.fanout for index in self._dirty}
        self._dirty = set()
        for level in range(shape.depth - 1, -1, -1):
            below = self._levels[level + 1]
            here = self._levels[level]
            for index in dirty:
                start = index * shape.fanout
                here[index] = _h(b"".join(below[start : start + shape.fanout]))
            dirty = {index // shape.fanout for index in dirty}


@dataclass
class MerkleForest:
    """One tree per partition that holds keys; the empty tree's hashes for the others. An
    index from each key to its partition and digest answers ``digest`` and ``partition``
    without hashing the key (a node asks on every request it serves)."""

    shape: Shape = field(default_factory=Shape)
    _trees: dict[int, MerkleTree] = field(default_factory=dict)
    _empty: MerkleTree = field(init=False)
    _index: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._empty = MerkleTree(self.shape)

    def set(self, partition: int, key: str, digest: bytes | None) -> None:
        if digest is None:
            known = self._index.get(key)
            if known is not None and known[0] == partition:
                del self._index[key]
        else:
            self._index[key] = (partition, digest)
        tree = self._trees.get(partition)
        if tree is None:
            if digest is None:
                return
            tree = self._trees[partition] = MerkleTree(self.shape)
        tree.set(key, digest)
        if not len(tree):
            del self._trees[partition]

    def digest(self, key: str) -> bytes | None:
        """The digest recorded for ``key``, in whichever partition."""
        known = self._index.get(key)
        return None if known is None else known[1]

    def partition(self, key: str) -> int | None:
        """The partition ``key`` was recorded in, if it is held."""
        known = self._index.get(key)
        return None if known is None else known[0]

    def tree(self, partition: int) -> MerkleTree:
        """The partition's tree (a shared empty tree if it holds no keys: do not modify it)."""
        return self._trees.get(partition, self._empty)

    def root(self, partition: int) -> bytes:
        return self.tree(partition).root

    def partitions(self) -> list[int]:
        """The partitions that hold at least one key, in order."""
        return sorted(self._trees)

    def keys(self, partition: int) -> list[str]:
        return sorted(self.tree(partition).keys())

    def __len__(self) -> int:
        return sum(len(tree) for tree in self._trees.values())


def differing_buckets(a: MerkleTree, b: MerkleTree) -> list[int]:
    """The leaf buckets whose contents differ, found by descending only into differing
    subtrees (what an exchange does over the network, in one place: for tests and tools)."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare trees of shapes {a.shape} and {b.shape}")
    shape = a.shape
    frontier = [0] if a.root != b.root else []
    for level in range(1, shape.depth + 1):
        frontier = [
            child
            for index in frontier
            for child in shape.children(level - 1, index)
            if a.hash(level, child) != b.hash(level, child)
        ]
    return frontier


def differing_keys(mine: dict[str, bytes], theirs: dict[str, bytes]) -> set[str]:
    """Keys of two buckets whose digests differ or that only one side has."""
    return {k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)}


def diff(a: MerkleTree, b: MerkleTree) -> set[str]:
    """Every key whose state differs between the two trees."""
    keys: set[str] = set()
    for index in differing_buckets(a, b):
        keys |= differing_keys(a.bucket(index), b.bucket(index))
    return keys


def build(items: Iterable[tuple[str, bytes]], shape: Shape | None = None) -> MerkleTree:
    """A tree holding ``items`` (key, digest)."""
    tree = MerkleTree(shape or Shape())
    for key, digest in items:
        tree.set(key, digest)
    return tree
