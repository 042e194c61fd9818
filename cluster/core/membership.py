"""Cluster membership as a value that gossip spreads (Dynamo §4.8). Pure: no I/O, no clock.

What every node knows about the cluster, merged from what its peers gossip:

- ``ring`` with ``ring_version``: the partition owners. A newer version wins; two different
  rings with the same version (two claimants changed it concurrently, e.g. on both sides of a
  partition) are ordered by their owners, so every node picks the same one, and the loser's
  change is made again by the claimant on the next round (the statuses below still ask for it).
- ``members``: for each node ever seen, its ``generation`` (bumped when it restarts) and
  ``version`` (bumped by the node itself every gossip round: a heartbeat that travels
  through third parties), and the address it listens at. The larger ``(generation, version)``
  wins, so a restarted node's state replaces its old one; a larger generation is how a peer is
  recognised as restarted.
- ``leaving`` and ``left``: for each node asked to leave, the generation it had when asked,
  and the generation it had when it finished (max-merged maps). ``leave NODE`` records a
  request; the claimant removes the node from the ring; once it has handed all its data to
  the new owners it records its departure and its peers forget it. A node that restarts while
  leaving keeps leaving (the request is newer than any departure); a node started again after
  it left comes back with a higher generation than its departure, so it joins again.
  ``remove NODE`` (a node down for good) records both at once, at the generation the remover
  knows; a peer that knew a later generation undoes it on merge (a restart it cannot tell from
  the remover's stale view), so a removal can be asked again, from the merged view, even once
  the node is out of the ring.

A node that is known (it gossiped) but is neither in the ring nor leaving is *joining*: the
claimant — the first ring member by name, not leaving, that it believes up — adds it with
``Ring.add_node`` (which moves the minimum of partitions). Only the claimant changes the ring,
so concurrent changes are rare and resolved as above.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from cluster.core.ring import Ring


@dataclass(frozen=True, order=True)
class Member:
    """What gossip says about one node."""

    generation: int = 0
    version: int = 0
    address: str = field(default="", compare=False)

    def to_json(self) -> list[Any]:
        return [self.generation, self.version, self.address]

    @classmethod
    def from_json(cls, data: Any, name: str) -> Member:
        if (
            not isinstance(data, list)
            or len(data) != 3
            or not all(isinstance(x, int) and x >= 0 for x in data[:2])
            or not isinstance(data[2], str)
        ):
            raise ValueError(f"membership: member {name!r} must be [generation, version, address]")
        return cls(data[0], data[1], data[2])


def _ring_rank(version: int, ring: Ring) -> tuple[int, tuple[str, ...]]:
    return (version, ring.owners)


def _max_merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    merged = dict(a)
    for name, generation in b.items():
        merged[name] = max(merged.get(name, generation), generation)
    return merged


@dataclass(frozen=True)
class Membership:
    ring: Ring
    ring_version: int
    members: Mapping[str, Member]
    leave_requests: Mapping[str, int] = field(default_factory=dict)  # name -> generation
    departures: Mapping[str, int] = field(default_factory=dict)  # name -> generation

    def _generation(self, name: str) -> int:
        member = self.members.get(name)
        return 0 if member is None else member.generation

    @cached_property
    def leaving(self) -> frozenset[str]:
        """Nodes asked to leave and not done yet (a restart does not cancel the request),
        and those that left."""
        pending = (n for n, g in self.leave_requests.items() if g > self.departures.get(n, -1))
        return frozenset(pending) | self.left

    @cached_property
    def left(self) -> frozenset[str]:
        """Nodes that handed everything off and left (and have not been started again)."""
        return frozenset(n for n, g in self.departures.items() if g >= self._generation(n))

    @classmethod
    def initial(cls, nodes: Iterable[str], partitions: int) -> Membership:
        """The membership every node of a new cluster starts from: the ring of ``nodes``."""
        names = list(nodes)
        return cls(Ring.build(names, partitions), 1, {name: Member() for name in names})

    # ------------------------------------------------------------------ views

    @property
    def joining(self) -> list[str]:
        """Known nodes waiting to be added to the ring."""
        in_ring = set(self.ring.owners)
        gone = self.leaving | self.left
        return sorted(n for n in self.members if n not in in_ring and n not in gone)

    def peers(self, me: str) -> list[str]:
        """The nodes ``me`` exchanges heartbeats with: every node in the ring, joining, or
        leaving but not yet done handing off."""
        return [name for name in self.known if name != me]

    @cached_property
    def known(self) -> list[str]:
        """Every node in the ring, joining, or leaving but not yet done, sorted: computed once
        (asked on every request a node coordinates; the caller must not change it)."""
        return sorted((set(self.ring.owners) | set(self.members)) - self.left)

    def status(self, name: str) -> str:
        if name in self.left:
            return "left"
        if name in self.leaving:
            return "leaving"
        if name in self.ring.owners:
            return "member"
        return "joining" if name in self.members else "unknown"

    def claimant(self, up: Collection[str]) -> str | None:
        """The ring member that decides ring changes, as seen with ``up``."""
        candidates = [n for n in self.ring.nodes if n not in self.leaving and n in up]
        return min(candidates, default=None)

    # ------------------------------------------------------------------ changes

    def merge(self, other: Membership) -> Membership:
        """What is known after hearing ``other``: commutative, associative, idempotent."""
        if self.ring.partitions != other.ring.partitions:
            raise ValueError(
                f"membership: rings of {self.ring.partitions} and {other.ring.partitions}"
                " partitions cannot be merged (different clusters?)"
            )
        mine = _ring_rank(self.ring_version, self.ring)
        theirs = _ring_rank(other.ring_version, other.ring)
        ring, version = (
            (self.ring, self.ring_version) if mine >= theirs else (other.ring, other.ring_version)
        )
        members = dict(self.members)
        for name, member in other.members.items():
            known = members.get(name)
            if known is None or member > known or (member == known and not known.address):
                members[name] = member
        return Membership(
            ring,
            version,
            members,
            _max_merge(self.leave_requests, other.leave_requests),
            _max_merge(self.departures, other.departures),
        )

    def heartbeat(self, name: str, generation: int, address: str = "") -> Membership:
        """``name``'s own state bumped for a new gossip round (a new generation restarts the
        version count)."""
        known = self.members.get(name, Member())
        version = known.version + 1 if known.generation == generation else 1
        member = Member(max(generation, known.generation), version, address or known.address)
        return replace(self, members={**self.members, name: member})

    def leave(self, name: str) -> Membership:
        """Ask for ``name`` to be removed from the ring."""
        if name not in self.ring.owners:
            raise ValueError(f"node {name!r} is not in the ring ({', '.join(self.ring.nodes)})")
        staying = [n for n in self.ring.nodes if n not in self.leaving and n != name]
        if not staying:
            raise ValueError(f"cannot remove {name!r}: no node would be left in the ring")
        requests = _max_merge(self.leave_requests, {name: self._generation(name)})
        return replace(self, leave_requests=requests)

    def remove(self, name: str) -> Membership:
        """Remove ``name`` by force (it is down for good): asked to leave and gone at once, at
        the generation this view knows for it.

        Unlike ``leave``, the node need not be in the ring. A view may know an older generation
        of ``name`` than a peer does (it missed a restart); merging the peer's entry then brings
        ``name`` back as a joiner, out of the ring — and removing it again, from a view that has
        merged the newer generation, must still be possible. Removing a node that is already
        gone changes nothing."""
        if name in self.left:
            return self
        if name not in self.ring.owners and name not in self.members:
            raise ValueError(f"node {name!r} is not a member ({', '.join(self.known)})")
        if name in self.ring.owners:
            staying = [n for n in self.ring.nodes if n not in self.leaving and n != name]
            if not staying:
                raise ValueError(f"cannot remove {name!r}: no node would be left in the ring")
        generation = {name: self._generation(name)}
        return replace(
            self,
            leave_requests=_max_merge(self.leave_requests, generation),
            departures=_max_merge(self.departures, generation),
        )

    def mark_left(self, name: str) -> Membership:
        departures = _max_merge(self.departures, {name: self._generation(name)})
        return replace(self, departures=departures)

    def claim(self, me: str, up: Collection[str]) -> Membership | None:
        """If ``me`` is the claimant, the membership with every pending join and leave applied
        to the ring (a new ring version); None when there is nothing for ``me`` to do."""
        if self.claimant(up) != me:
            return None
        ring = self.ring
        for name in self.joining:
            if name in up and ring.partitions > len(ring.nodes):
                ring = ring.add_node(name)
        for name in sorted(self.leaving):
            if name in ring.owners and len(ring.nodes) > 1:
                ring = ring.remove_node(name)
        if ring == self.ring:
            return None
        return replace(self, ring=ring, ring_version=self.ring_version + 1)

    # ------------------------------------------------------------------ wire form

    def to_json(self) -> dict[str, Any]:
        return {
            "ring": list(self.ring.owners),
            "ring_version": self.ring_version,
            "members": {name: m.to_json() for name, m in sorted(self.members.items())},
            "leaving": dict(sorted(self.leave_requests.items())),
            "left": dict(sorted(self.departures.items())),
        }

    def durable_text(self) -> str:
        """What a node persists, as JSON text with sorted keys: everything but the heartbeat
        versions, which change every round (generations and addresses stay, so a restarted
        node still knows its peers)."""
        data = self.to_json()
        data["members"] = {
            name: [m.generation, 0, m.address] for name, m in sorted(self.members.items())
        }
        return json.dumps(data, sort_keys=True)

    def durably_equal(self, other: Membership) -> bool:
        """Whether ``durable_text`` would be the same for both: asked before and after every
        gossip a node hears (mostly yes), so compared as tuples built once per value."""
        return self._durable_key == other._durable_key

    @cached_property
    def _durable_key(self) -> tuple[object, ...]:
        members = tuple(sorted((n, m.generation, m.address) for n, m in self.members.items()))
        return (
            self.ring.owners,
            self.ring_version,
            members,
            tuple(sorted(self.leave_requests.items())),
            tuple(sorted(self.departures.items())),
        )

    @classmethod
    def from_json(cls, data: Any) -> Membership:
        if not isinstance(data, dict):
            raise ValueError(f"membership: expected an object, got {type(data).__name__}")
        try:
            owners = data["ring"]
            version = data["ring_version"]
            members = data["members"]
            leaving = data.get("leaving", {})
            left = data.get("left", {})
        except KeyError as err:
            raise ValueError(f"membership: missing {err}") from None
        if not isinstance(owners, list) or not set(map(type, owners)) <= {str}:
            raise ValueError("membership: 'ring' must be a list of node names")
        if not isinstance(version, int) or version < 0:
            raise ValueError("membership: 'ring_version' must be a non-negative integer")
        if not isinstance(members, dict):
            raise ValueError("membership: 'members' must be an object")
        for name, group in (("leaving", leaving), ("left", left)):
            if not isinstance(group, dict) or not all(
                isinstance(n, str) and isinstance(g, int) and g >= 0 for n, g in group.items()
            ):
                raise ValueError(f"membership: {name!r} must map node names to generations")
        return cls(
            Ring(tuple(owners)),
            version,
            {str(n): Member.from_json(m, str(n)) for n, m in members.items()},
            dict(leaving),
            dict(left),
        )
