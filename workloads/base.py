"""What every workload shares: the operation a generator chooses, independent keys, and the
Dynamo fields a completion records (who coordinated, who answered, which versions).

A workload is two halves: a pure choice of the next operation (``next_op``, from a seeded rng)
and the client calls that carry it out (``apply``, through a ``workloads.client.Client``), plus
the checkers that judge its histories (``checkers``: ``checker.base.Checker`` objects, exactly
what runs on them). No I/O here beyond what ``apply`` asks of the client.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from checker.base import Checker
from checker.dynamo import (
    CoverageChecker,
    InvariantsChecker,
    LeftoversChecker,
    NemesisChecker,
    PlacementChecker,
    StatsChecker,
)
from cluster.net import GetResult, PutResult
from workloads.client import Client, Get, Put, get, put


class Invocation(msgspec.Struct, frozen=True):
    """An operation to perform: ``f`` on ``key`` with ``value`` (None for reads)."""

    f: str
    key: str
    value: Any = None


@dataclass(frozen=True)
class Quorum:
    """The quorums a run uses, recorded on every completion."""

    n: int
    r: int
    w: int
    timeout_ms: int = 1000


class Workload(Protocol):
    """What drives a cluster and records a history; implemented by ``RegisterWorkload`` and
    ``SetWorkload``."""

    name: str
    checkers: Sequence[Checker]  # what runs on this workload's histories, in this order

    def next_op(self, rng: random.Random, keys: KeyPool) -> Invocation: ...

    async def apply(
        self, client: Client, op: Invocation, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        """Perform ``op`` through ``node``; return the completion's fields (``value`` and the
        Dynamo fields). Raises ``cluster.net.ClientError`` when it did not succeed."""
        ...

    async def final_read(
        self, client: Client, key: str, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        """Read ``key`` after the heal, from every replica (r = n)."""
        ...


KEY_DISTRIBUTIONS = ("uniform", "zipf")

# The checks of the run itself, whatever the workload: hints left behind, failed fault
# operations, placement before the first fault, the protocol invariants and coverage from
# the nodes' journals, and the counts. A workload's ``checkers`` are its own, then these.
CLUSTER_CHECKERS: tuple[Checker, ...] = (
    LeftoversChecker(),
    NemesisChecker(),
    PlacementChecker(),
    InvariantsChecker(),
    CoverageChecker(),
    StatsChecker(),
)


@dataclass
class KeyPool:
    """Jepsen's independent keys: a few keys are active at a time; each is retired after
    ``ops_per_key`` operations and a fresh key takes its place.

    ``distribution`` chooses among the active keys: ``uniform``, or ``zipf`` (the i-th oldest
    active key with weight 1 / i^``zipf_s``), which makes the oldest few keys hot — many
    writers at once on one key, what dotted version vectors and sibling merges exist for. A
    hot key that retires hands the heat to the next oldest."""

    active: int = 2
    ops_per_key: int = 100
    prefix: str = "k"
    distribution: str = "uniform"
    zipf_s: float = 1.2
    _keys: list[str] = field(default_factory=list)
    _uses: dict[str, int] = field(default_factory=dict)
    _next: int = 0
    used: list[str] = field(default_factory=list)  # every key ever handed out, in order
    _weights: list[float] = field(default_factory=list)  # zipf: by rank among the active

    def __post_init__(self) -> None:
        if self.active < 1:
            raise ValueError(f"active keys must be at least 1, got {self.active}")
        if self.ops_per_key < 1:
            raise ValueError(f"ops per key must be at least 1, got {self.ops_per_key}")
        if self.distribution not in KEY_DISTRIBUTIONS:
            raise ValueError(
                f"key distribution must be one of {', '.join(KEY_DISTRIBUTIONS)},"
                f" got {self.distribution!r}"
            )
        self._weights = [1.0 / (rank**self.zipf_s) for rank in range(1, self.active + 1)]
        while len(self._keys) < self.active:
            self._open()

    def _open(self) -> None:
        key = f"{self.prefix}{self._next}"
        self._next += 1
        self._keys.append(key)
        self._uses[key] = 0
        self.used.append(key)

    def choose(self, rng: random.Random) -> str:
        if self.distribution == "zipf":
            key = rng.choices(self._keys, weights=self._weights)[0]
        else:
            key = rng.choice(self._keys)
        self._uses[key] += 1
        if self._uses[key] >= self.ops_per_key:
            self._keys.remove(key)
            self._open()
        return key


async def read(
    client: Client, key: str, node: str, quorum: Quorum, final: bool = False
) -> GetResult:
    """A get with the run's R and timeout; a ``final`` read asks every primary (R = PR = N), so
    it sees the union of what the key's owners hold or fails."""
    r = quorum.n if final else quorum.r
    pr = quorum.n if final else None
    return await get(client, Get(key, node, r=r, pr=pr, timeout_ms=quorum.timeout_ms))


def read_fields(result: GetResult, quorum: Quorum, r: int | None = None) -> dict[str, Any]:
    """The Dynamo fields of a completed read (docs/history.md)."""
    return {
        "n": quorum.n,
        "r": quorum.r if r is None else r,
        "coordinator": result.coordinator,
        "replicas": result.replicas,
        "fallbacks": result.fallbacks,
        "siblings": len(result.values),
        "context": result.clock,
    }


def write_fields(
    seen: GetResult, result: PutResult, quorum: Quorum, r: int | None = None
) -> dict[str, Any]:
    """The Dynamo fields of a completed read-modify-write: the put's quorum and replicas, the
    context it wrote back (what its read returned) and the version it created."""
    return {
        "n": quorum.n,
        "r": quorum.r if r is None else r,
        "w": quorum.w,
        "coordinator": result.coordinator,
        "replicas": result.replicas,
        "fallbacks": result.fallbacks,
        "context": seen.clock,
        "version": result.version,
    }


async def write_back(
    client: Client, key: str, value: Any, node: str, seen: GetResult, quorum: Quorum
) -> dict[str, Any]:
    """The write half of a read-modify-write: put ``value`` under the context ``seen`` returned
    (so it supersedes what was read) with the run's W; the completion's Dynamo fields."""
    request = Put(key, value, node, context=seen.context, w=quorum.w, timeout_ms=quorum.timeout_ms)
    return write_fields(seen, await put(client, request), quorum)
