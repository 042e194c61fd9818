"""The set workload: Dynamo's shopping cart (DeCandia et al. §4.4, Jepsen's set-full).

An add reads the cart, merges its siblings (their union: the paper's "merge the branches"),
adds one element no other add uses, and writes the union back with the read's context. A read
returns the union of the siblings. Under dotted version vectors no acknowledged add is lost;
under per-node vector clocks or last-write-wins, concurrent adds overwrite each other, and the
set checker reports the acknowledged elements missing from the final reads. No I/O beyond the
client calls.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from checker.base import Checker
from checker.dynamo import (
    ConvergenceChecker,
    LostVersionsChecker,
    QuorumChecker,
    SetChecker,
    VersionsChecker,
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


def union(values: list[Any]) -> list[Any]:
    """The merged cart: every element of every sibling, sorted."""
    elements: set[Any] = set()
    for sibling in values:
        if isinstance(sibling, list):
            elements.update(sibling)
    return sorted(elements)


class SetWorkload:
    name: str = "set"
    checkers: Sequence[Checker] = (
        SetChecker(),
        ConvergenceChecker(),
        QuorumChecker(),
        VersionsChecker(),
        LostVersionsChecker(),
        *CLUSTER_CHECKERS,
    )

    def __init__(self, read_fraction: float = 0.2) -> None:
        if not 0.0 <= read_fraction <= 1.0:
            raise ValueError(f"read fraction must be between 0 and 1, got {read_fraction}")
        self.read_fraction = read_fraction
        self._next_element: dict[str, int] = defaultdict(int)

    def next_op(self, rng: random.Random, keys: KeyPool) -> Invocation:
        key = keys.choose(rng)
        if rng.random() < self.read_fraction:
            return Invocation("read", key)
        self._next_element[key] += 1
        return Invocation("add", key, self._next_element[key])

    async def apply(
        self, client: Client, op: Invocation, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, op.key, node, quorum)
        if op.f == "read":
            return {"value": union(seen.values), **read_fields(seen, quorum)}
        cart = sorted({*union(seen.values), op.value})
        return {"value": op.value, **await write_back(client, op.key, cart, node, seen, quorum)}

    async def final_read(
        self, client: Client, key: str, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, key, node, quorum, final=True)
        return {"value": union(seen.values), **read_fields(seen, quorum, r=quorum.n)}
