"""Cluster-wide settings every node of one cluster shares (N, R, W, versioning, timers).

A plain frozen value with validation that names the bad setting and what is accepted, and a
JSON form so a cluster directory can record it for later commands. No I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cluster.core.journal import DEFAULT_CAPACITY
from cluster.core.ring import DEFAULT_PARTITIONS
from cluster.core.versions import VERSIONINGS


@dataclass(frozen=True)
class ClusterConfig:
    nodes: tuple[str, ...]
    partitions: int = DEFAULT_PARTITIONS
    n: int = 3
    r: int = 2
    w: int = 2
    pr: int = 0
    pw: int = 0
    versioning: str = "dvv"
    heartbeat_interval_ms: int = 200
    phi_threshold: float = 8.0
    read_repair: bool = True  # a get sends the merged state to the stale replicas it saw
    # Sloppy quorum with hinted handoff (§4.6): down primaries are replaced by fallbacks that
    # keep the write as a hint and hand it back. False: requests go to up primaries only, so
    # a primary that missed writes is repaired by read repair or anti-entropy alone.
    hinted_handoff: bool = True
    request_timeout_ms: int = 1000
    gossip_interval_ms: int = 1000  # one push-pull gossip round with a random peer (§4.8)
    anti_entropy_interval_ms: int = 5000  # Merkle exchanges with each replica peer; 0: off
    handoff_interval_ms: int = 1000  # how often hints and moved partitions are handed off
    tombstone_grace_ms: int = 10_000  # a tombstone every replica holds is reaped after this
    journal_events: int = DEFAULT_CAPACITY  # protocol events each node keeps; 0: journal off

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ValueError("nodes: a cluster needs at least one node")
        if len(set(self.nodes)) != len(self.nodes):
            raise ValueError(f"nodes: names must be distinct, got {list(self.nodes)}")
        if self.versioning not in VERSIONINGS:
            raise ValueError(
                f"versioning must be one of {', '.join(VERSIONINGS)}, got {self.versioning!r}"
            )
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        for name in ("r", "w"):
            value = getattr(self, name)
            if not 1 <= value <= self.n:
                raise ValueError(f"{name} must be between 1 and n={self.n}, got {value}")
        for name, bound in (("pr", self.r), ("pw", self.w)):
            value = getattr(self, name)
            if not 0 <= value <= bound:
                raise ValueError(f"{name} must be between 0 and {name[1]}={bound}, got {value}")
        for name in ("heartbeat_interval_ms", "gossip_interval_ms", "handoff_interval_ms"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("anti_entropy_interval_ms", "tombstone_grace_ms", "journal_events"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.partitions < len(self.nodes):
            raise ValueError(
                f"partitions must be at least the number of nodes ({len(self.nodes)}),"
                f" got {self.partitions}"
            )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["nodes"] = list(self.nodes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown cluster settings {sorted(unknown)}")
        values = dict(data)
        values["nodes"] = tuple(values["nodes"])
        return cls(**values)
