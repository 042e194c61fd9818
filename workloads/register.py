"""The register workload: reads and writes of unique values on independent keys.

Each write stores a value no other write of that key uses (an increasing integer per key), so
the linearizability checker can tell writes apart. A write is a read-modify-write: it reads
the key for its causal context and writes back with it, superseding what it saw, as a Dynamo
client should. A read that returns several siblings (concurrent writes) reports the largest
value — the most recently invoked write, which is how a register client resolves siblings —
and records how many siblings it saw. No I/O beyond the client calls.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from checker.base import Checker
from checker.dynamo import (
    ConvergenceChecker,
    LinearizableChecker,
    LostVersionsChecker,
    QuorumChecker,
)
from workloads.base import (
    CLUSTER_CHECKERS,
    Invocation,
    KeyPool,
    Quorum,
    read,
    read_fields,
    write_back,
)
from workloads.client import Client


def resolve(values: list[Any]) -> Any:
    """The register value a read with these siblings reports (None when not found)."""
    numbers = [v for v in values if isinstance(v, int)]
    return max(numbers) if numbers else None


class RegisterWorkload:
    name: str = "register"
    # Concurrent writes of a register are resolved by the reader, so no version-graph check.
    checkers: Sequence[Checker] = (
        LinearizableChecker("register"),
        ConvergenceChecker(),
        QuorumChecker(),
        LostVersionsChecker(),
        *CLUSTER_CHECKERS,
    )

    def __init__(self, read_fraction: float = 0.5) -> None:
        if not 0.0 <= read_fraction <= 1.0:
            raise ValueError(f"read fraction must be between 0 and 1, got {read_fraction}")
        self.read_fraction = read_fraction
        self._next_value: dict[str, int] = defaultdict(int)

    def next_op(self, rng: random.Random, keys: KeyPool) -> Invocation:
        key = keys.choose(rng)
        if rng.random() < self.read_fraction:
            return Invocation("read", key)
        self._next_value[key] += 1
        return Invocation("write", key, self._next_value[key])

    async def apply(
        self, client: Client, op: Invocation, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, op.key, node, quorum)
        if op.f == "read":
            return {"value": resolve(seen.values), **read_fields(seen, quorum)}
        return {"value": op.value, **await write_back(client, op.key, op.value, node, seen, quorum)}

    async def final_read(
        self, client: Client, key: str, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, key, node, quorum, final=True)
        return {"value": resolve(seen.values), **read_fields(seen, quorum, r=quorum.n)}
