"""The consistent-hashing ring: who owns which key, and where a write goes when owners are down.

Dynamo §4.2 and §6.2 (strategy 3): the MD5 hash space is cut into Q equal partitions (64 by
default) and each of the S nodes owns ⌊Q/S⌋ or ⌈Q/S⌉ of them. A key hashes to one partition; its
*preference list* is the first N distinct nodes met walking the ring clockwise from that
partition, and the nodes after them are the fallbacks that stand in for down primaries (sloppy
quorum, §4.6). Adding or removing a node moves the minimum number of partitions: only those the
new node must take, or those the leaving node owned.

Everything here is a pure value: no I/O, no clock, no randomness. A ring is frozen, so the walk
from each partition is computed once, when first asked for, and reused by every request.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

DEFAULT_PARTITIONS = 64

_HASH_BITS = 128  # MD5
# Keys whose hash is remembered (forgotten all at once when full): a node asks for the
# partition of the same key several times per request, and MD5 is most of what that costs.
_HASH_CACHE_KEYS = 1 << 16
_key_hashes: dict[str, int] = {}


def key_hash(key: str) -> int:
    """MD5 of ``key``'s UTF-8 bytes, read as a 128-bit big-endian integer (memoised)."""
    value = _key_hashes.get(key)
    if value is None:
        if len(_key_hashes) >= _HASH_CACHE_KEYS:
            _key_hashes.clear()
        digest = hashlib.md5(key.encode("utf-8"), usedforsecurity=False).digest()
        value = _key_hashes[key] = int.from_bytes(digest, "big")
    return value


@dataclass(frozen=True)
class Target:
    """One replica a coordinator sends to: a primary, or a fallback holding a hint."""

    node: str
    hint_for: str | None = None  # the down primary that `node` stands in for (hinted handoff)

    @property
    def is_fallback(self) -> bool:
        return self.hint_for is not None


_STR = {str}


@dataclass(frozen=True)
class Ring:
    """``owners[p]`` is the node owning partition ``p``; there are ``len(owners)`` partitions."""

    owners: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.owners:
            raise ValueError("a ring needs at least one partition")
        if set(map(type, self.owners)) == _STR and all(self.owners):
            return  # non-empty strings, checked in C: every ring a gossip message carries
        for p, owner in enumerate(self.owners):
            if not isinstance(owner, str) or not owner:
                raise ValueError(f"partition {p}: owner must be a non-empty string, got {owner!r}")

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(cls, nodes: Iterable[str], partitions: int = DEFAULT_PARTITIONS) -> Ring:
        """A balanced ring that depends only on the sorted node names and ``partitions``.

        Partitions are dealt round-robin in name order, so neighbouring partitions have
        different owners and the first N nodes of any walk are N consecutive names.
        """
        names = list(nodes)
        if not names:
            raise ValueError("a ring needs at least one node")
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"node names must be non-empty strings, got {name!r}")
        duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
        if duplicates:
            raise ValueError(f"duplicate node names: {', '.join(duplicates)}")
        if partitions < len(names):
            raise ValueError(
                f"partitions={partitions} is fewer than the {len(names)} nodes: "
                "every node must own at least one partition"
            )
        ordered = sorted(names)
        return cls(tuple(ordered[p % len(ordered)] for p in range(partitions)))

    def add_node(self, node: str) -> Ring:
        """The ring with ``node`` added: it takes ⌊Q/(S+1)⌋ partitions, each stolen from a most
        loaded owner, and no other partition changes hands.

        Taking one partition at a time from a most loaded node keeps the old owners within one
        of each other, so with the newcomer at ⌊Q/(S+1)⌋ everybody ends at ⌊Q/(S+1)⌋ or
        ⌈Q/(S+1)⌉ — and no balanced ring can move fewer partitions, since the newcomer must own
        at least ⌊Q/(S+1)⌋ of them.
        """
        if not isinstance(node, str) or not node:
            raise ValueError(f"node names must be non-empty strings, got {node!r}")
        if node in self.owners:
            raise ValueError(f"node {node!r} is already in the ring")
        new_count = len(self.nodes) + 1
        if self.partitions < new_count:
            raise ValueError(
                f"cannot add {node!r}: {self.partitions} partitions cannot be shared by "
                f"{new_count} nodes"
            )
        owners = list(self.owners)
        loads = Counter(owners)
        # Ring distance from each partition to the nearest one the newcomer already owns; the
        # newcomer prefers far-away partitions so that its partitions are spread round the ring.
        distance = [self.partitions] * self.partitions
        for _ in range(self.partitions // new_count):
            most = max(loads.values())
            donors = {n for n, load in loads.items() if load == most}
            # Farthest from the newcomer's partitions first; then the lowest index (determinism).
            chosen = max(
                (p for p in range(self.partitions) if owners[p] in donors),
                key=lambda p: (distance[p], -p),
            )
            loads[owners[chosen]] -= 1
            owners[chosen] = node
            _lower_distances(distance, chosen)
        return Ring(tuple(owners))

    def remove_node(self, node: str) -> Ring:
        """The ring without ``node``: each of its partitions, in index order, goes to a least
        loaded remaining node; no other partition changes hands.

        Only the leaving node's partitions move (at most ⌈Q/S⌉), which is the minimum possible,
        and giving each to a least loaded node leaves everyone at ⌊Q/(S-1)⌋ or ⌈Q/(S-1)⌉.
        """
        if node not in self.owners:
            raise ValueError(f"node {node!r} is not in the ring")
        if len(self.nodes) == 1:
            raise ValueError(f"cannot remove {node!r}: it is the last node of the ring")
        owners = list(self.owners)
        loads = Counter(o for o in owners if o != node)
        q = self.partitions
        for p in range(q):
            if owners[p] != node:
                continue
            least = min(loads.values())
            neighbours = {owners[(p - 1) % q], owners[(p + 1) % q]}
            # Among the least loaded, prefer one that does not own a neighbouring partition,
            # so that walks keep meeting distinct nodes early; then by name (determinism).
            heir = min(
                (n for n, load in loads.items() if load == least),
                key=lambda n: (n in neighbours, n),
            )
            owners[p] = heir
            loads[heir] += 1
        return Ring(tuple(owners))

    # ------------------------------------------------------------------ queries

    @property
    def partitions(self) -> int:
        return len(self.owners)

    @cached_property
    def nodes(self) -> tuple[str, ...]:
        """The distinct owners, sorted."""
        return tuple(sorted(set(self.owners)))

    def owned_by(self, node: str) -> list[int]:
        """The partitions ``node`` owns, in index order."""
        return [p for p, owner in enumerate(self.owners) if owner == node]

    def partition_of(self, key: str) -> int:
        """The partition of ``key``: MD5 of its UTF-8 bytes, read as a 128-bit integer, scaled
        into Q equal ranges of the hash space."""
        return (key_hash(key) * len(self.owners)) >> _HASH_BITS

    def walk(self, partition: int) -> list[str]:
        """Every distinct node, in the order met walking clockwise from ``partition``."""
        return list(self._walk(partition))

    def primaries(self, key: str, n: int) -> list[str]:
        """The key's N primary replicas (fewer if the ring has fewer nodes)."""
        return self.partition_primaries(self.partition_of(key), n)

    def partition_primaries(self, partition: int, n: int) -> list[str]:
        _check_n(n)
        return list(self._walk(partition)[:n])

    def replicated_partitions(self, node: str, n: int) -> list[int]:
        """The partitions for which ``node`` is one of the N primaries (what it must store)."""
        _check_n(n)
        return [p for p in range(self.partitions) if node in self._walk(p)[:n]]

    def preference_list(self, key: str, n: int, up: Collection[str] | None = None) -> list[Target]:
        """The targets a coordinator sends ``key``'s requests to (§4.6, sloppy quorum).

        Each up primary is a ``Target(node)``; each down primary, in order, is replaced by the
        next up node beyond the first N of the walk, as ``Target(fallback, hint_for=primary)``.
        Fewer than N targets when not enough nodes are up. ``up=None`` means every node is up.
        """
        _check_n(n)
        walk = self._walk(self.partition_of(key))
        primaries = walk[:n]
        alive = up if up is None or isinstance(up, set | frozenset) else set(up)
        if alive is None or all(primary in alive for primary in primaries):
            targets = self._primary_targets
            return [targets[primary] for primary in primaries]  # the common case
        fallbacks = iter([node for node in walk[n:] if node in alive])
        found: list[Target] = []
        for primary in primaries:
            if primary in alive:
                found.append(self._primary_targets[primary])
                continue
            stand_in = next(fallbacks, None)
            if stand_in is not None:
                found.append(self._hinted_target(stand_in, primary))
        return found

    # ------------------------------------------------------------------ serialisation

    def to_json(self) -> dict[str, object]:
        return {"partitions": self.partitions, "owners": list(self.owners)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Ring:
        """The ring ``to_json`` produced; ``ValueError`` naming the problem otherwise."""
        if not isinstance(data, Mapping):
            raise ValueError(f"ring: expected an object, got {type(data).__name__}")
        owners = data.get("owners")
        if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
            raise ValueError("ring: 'owners' must be a list of node names")
        partitions = data.get("partitions", len(owners))
        if partitions != len(owners):
            raise ValueError(
                f"ring: 'partitions' is {partitions!r} but 'owners' lists {len(owners)} owners"
            )
        return cls(tuple(owners))

    # ------------------------------------------------------------------ helpers

    def _check_partition(self, partition: int) -> None:
        if not 0 <= partition < self.partitions:
            raise ValueError(f"partition {partition} out of range 0..{self.partitions - 1}")

    def _walk(self, partition: int) -> tuple[str, ...]:
        """``walk(partition)``, computed on first use (the ring is frozen)."""
        self._check_partition(partition)
        walks = self._walks
        walk = walks[partition]
        if walk is None:
            seen: dict[str, None] = {}
            everyone = len(self.nodes)
            q = self.partitions
            for step in range(q):
                seen.setdefault(self.owners[(partition + step) % q], None)
                if len(seen) == everyone:
                    break
            walk = walks[partition] = tuple(seen)
        return walk

    @cached_property
    def _walks(self) -> list[tuple[str, ...] | None]:
        """The walk from each partition, or None until it is first asked for."""
        return [None] * self.partitions

    def _hinted_target(self, node: str, hint_for: str) -> Target:
        """``Target(node, hint_for=hint_for)``, built once per pair of nodes."""
        hinted = self._hinted_targets
        target = hinted.get((node, hint_for))
        if target is None:
            target = hinted[(node, hint_for)] = Target(node, hint_for=hint_for)
        return target

    @cached_property
    def _hinted_targets(self) -> dict[tuple[str, str], Target]:
        """``(fallback, down primary) -> Target``: at most one per pair of nodes."""
        return {}

    @cached_property
    def _primary_targets(self) -> dict[str, Target]:
        """One ``Target(node)`` per node, shared by every preference list (targets are
        immutable)."""
        return {node: Target(node) for node in self.nodes}


def _lower_distances(distance: list[int], claimed: int) -> None:
    """Update ``distance`` (to the nearest claimed partition, round the ring) for one more
    claimed partition. Distances to a set change by at most 1 per step, so once neither side
    improves, nothing farther out can."""
    q = len(distance)
    for offset in range(q // 2 + 1):
        improved = False
        for p in ((claimed + offset) % q, (claimed - offset) % q):
            if offset < distance[p]:
                distance[p] = offset
                improved = True
        if not improved:
            return


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"the replication factor n must be at least 1, got {n}")
