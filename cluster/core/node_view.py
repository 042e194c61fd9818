"""What the background protocols see of a node: the ``NodeView`` protocol.

Gossip, handoff and reaping live in their own modules (``cluster.core.gossip``,
``cluster.core.handoff``,
``cluster.core.reaper``) as functions of a node's state; this protocol names the part of ``Node``
they use, so those modules need not import ``cluster.core.node`` (which imports them). Types only:
no I/O, no behaviour.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections import deque

    from cluster.core.config import ClusterConfig
    from cluster.core.effects import Effect
    from cluster.core.failure_detector import PhiAccrual
    from cluster.core.handoff import Handoffs
    from cluster.core.membership import Membership
    from cluster.core.placement import Placement
    from cluster.core.replica import ReplicaData
    from cluster.core.store import Store


class NodeView(Protocol):
    name: str
    config: ClusterConfig
    generation: int
    address: str
    rng: random.Random
    store: Store
    data: ReplicaData
    membership: Membership
    handoffs: Handoffs
    detectors: dict[str, PhiAccrual]
    events: deque[str]

    @property
    def placement(self) -> Placement: ...

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        """The peers this node reaches directly, itself included."""
        ...

    def detector(self, peer: str, now_ms: float) -> PhiAccrual:
        """The failure detector of ``peer`` (created, and started at ``now_ms``, if new)."""
        ...

    def new_req(self) -> int: ...

    def jitter(self, interval_ms: float) -> float:
        """``interval_ms`` give or take 20 %, from the node's seeded generator."""
        ...

    def log(self, text: str, level: str = "info") -> list[Effect]:
        """A ``Log`` effect, also kept among the node's recent events."""
        ...
