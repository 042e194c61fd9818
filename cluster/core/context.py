"""What a node's sub-machines are given: the ``NodeContext`` they share, the ``Topology``
queries they may ask, and the node's ``WallClock``.

A ``Node`` is a composition of sub-machines (gossip, handoff, anti-entropy, reaping, client
requests, the replica side), each owning its own state. None of them sees the ``Node`` or
another machine's fields: each is handed this small context — the node's identity and
configuration, its seeded random generator, its request ids, its log, its event ``Journal``
(where each machine records its own protocol events) and its ``ReplicaData`` (the one door to
storage) — plus, where it needs them, read-only queries about the cluster
(``Topology``, answered by the gossiper). Types and small helpers: no I/O.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from cluster.core.config import ClusterConfig
from cluster.core.effects import Effect, Log
from cluster.core.journal import Journal
from cluster.core.membership import Membership
from cluster.core.placement import Placement
from cluster.core.replica import ReplicaData

RECENT_EVENTS = 50  # log lines kept for ``admin status``


@dataclass
class NodeContext:
    """The node's identity, configuration and shared services, as its sub-machines see them."""

    name: str
    generation: int
    address: str  # where this node listens, gossiped for nodes that join later
    config: ClusterConfig
    rng: random.Random
    data: ReplicaData
    events: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    journal: Journal = field(default_factory=Journal)
    _next_req: int = 1

    def jitter(self, interval_ms: float) -> float:
        """``interval_ms`` give or take 20 %, from the node's seeded generator."""
        return interval_ms * self.rng.uniform(0.8, 1.2)

    def new_req(self) -> int:
        """A request id no other request of this node's process carries."""
        req = self._next_req
        self._next_req += 1
        return req

    def log(self, text: str, level: str = "info") -> list[Effect]:
        """A ``Log`` effect, also kept among the node's recent events."""
        self.events.append(text)
        return [Log(text, level)]


class Topology(Protocol):
    """Read-only questions about the cluster as this node sees it (``cluster.core.gossip``)."""

    @property
    def membership(self) -> Membership: ...

    @property
    def placement(self) -> Placement:
        """Where each partition belongs under the current ring."""
        ...

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        """The peers this node reaches directly, itself included."""
        ...


@dataclass
class WallClock:
    """This node's wall clock: the shell's monotonic time, moved by clock faults."""

    offset_ms: float = 0.0  # wall clock = monotonic now + this (set by the shell)
    skew_ms: float = 0.0  # what ``admin clock`` injected
    # A clock that runs fast (> 0) or slow (< 0) by this many parts per million, since
    # ``drift_since_ms``: what it has gained or lost is added to the skew.
    drift_ppm: float = 0.0
    drift_since_ms: float = 0.0

    def wall_ms(self, now_ms: float) -> int:
        drift = self.drift_ppm * (now_ms - self.drift_since_ms) / 1e6 if self.drift_ppm else 0.0
        return int(now_ms + self.offset_ms + self.skew_ms + drift)

    def set_drift(self, ppm: float, now_ms: float) -> None:
        """Run ``ppm`` parts per million fast (or slow) from now on; what the old drift gained
        or lost so far stays, as skew."""
        if self.drift_ppm:
            self.skew_ms += self.drift_ppm * (now_ms - self.drift_since_ms) / 1e6
        self.drift_ppm, self.drift_since_ms = ppm, now_ms

    def set_skew(self, ms: float) -> None:
        self.skew_ms = ms

    def bump_skew(self, ms: float) -> None:
        self.skew_ms += ms
