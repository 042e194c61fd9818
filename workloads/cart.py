"""The cart workload: the shopping cart with removes, where a removed item must stay removed.

Dynamo's cart merges siblings by union, so a remove made on one branch is undone by the merge
(the paper, §4.4: "deleted items can resurface"). A cart that keeps its removes needs the
removes in the value: each sibling here is ``{"adds": [...], "removes": [...]}`` (a two-phase
set; elements are never re-added, every add uses a fresh one), siblings merge by the union of
both lists, and the cart is ``adds - removes``. A remove then survives any merge; an element
that comes back after its remove was acknowledged means a version carrying the remove was lost
— **resurrection**, which the cart checker names with the remove and the read that saw the
element again.

Ops: ``add`` (a read-modify-write adding a new element), ``remove`` (a read-modify-write
removing an element an earlier add of this key used, acknowledged or not), ``read``. No I/O
beyond the client calls.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from checker.base import Checker
from checker.dynamo import (
    CartChecker,
    ConvergenceChecker,
    LostVersionsChecker,
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


def merged(values: list[Any]) -> tuple[set[Any], set[Any]]:
    """(adds, removes) of every sibling together; siblings not of the cart's shape are ignored."""
    adds: set[Any] = set()
    removes: set[Any] = set()
    for sibling in values:
        if isinstance(sibling, dict):
            adds.update(sibling.get("adds", []))
            removes.update(sibling.get("removes", []))
    return adds, removes


def contents(values: list[Any]) -> list[Any]:
    """What the cart holds: added and not removed, sorted."""
    adds, removes = merged(values)
    return sorted(adds - removes)


class CartWorkload:
    name: str = "cart"
    checkers: Sequence[Checker] = (
        CartChecker(),
        ConvergenceChecker(),
        VersionsChecker(),
        LostVersionsChecker(),
        *CLUSTER_CHECKERS,
    )

    def __init__(self, read_fraction: float = 0.2, remove_fraction: float = 0.3) -> None:
        for name, value in (("read", read_fraction), ("remove", remove_fraction)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} fraction must be between 0 and 1, got {value}")
        self.read_fraction = read_fraction
        self.remove_fraction = remove_fraction
        self._added: dict[str, list[int]] = defaultdict(list)
        self._removable: dict[str, list[int]] = defaultdict(list)

    def next_op(self, rng: random.Random, keys: KeyPool) -> Invocation:
        key = keys.choose(rng)
        if rng.random() < self.read_fraction:
            return Invocation("read", key)
        removable = self._removable[key]
        if removable and rng.random() < self.remove_fraction:
            element = removable.pop(rng.randrange(len(removable)))
            return Invocation("remove", key, element)
        element = len(self._added[key]) + 1
        self._added[key].append(element)
        removable.append(element)
        return Invocation("add", key, element)

    async def apply(
        self, client: Client, op: Invocation, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, op.key, node, quorum)
        if op.f == "read":
            return {"value": contents(seen.values), **read_fields(seen, quorum)}
        adds, removes = merged(seen.values)
        (adds if op.f == "add" else removes).add(op.value)
        cart = {"adds": sorted(adds), "removes": sorted(removes)}
        return {"value": op.value, **await write_back(client, op.key, cart, node, seen, quorum)}

    async def final_read(
        self, client: Client, key: str, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, key, node, quorum, final=True)
        return {"value": contents(seen.values), **read_fields(seen, quorum, r=quorum.n)}
