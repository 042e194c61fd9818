"""The register with deletes: reads, writes of unique values and deletes on independent keys,
for tombstones and their reaping end to end.

A write is a read-modify-write of a fresh value (unique per key, an increasing integer). A
delete reads the key and writes a tombstone with the context it read, so it removes exactly
the values that read saw; the completion records them as ``removed``. Once reaping runs (a
short ``tombstone_grace_ms`` in tests), a tombstone removed too early lets an old copy of a
removed value come back: **resurrection**, which the deletes checker
(``checker.dynamo.deletes``) names with the write, the delete and the final read. Reads record
every sibling value (``values``) besides the register value (the largest). No I/O beyond the
client calls.

The version-level lost-writes check is not among its checkers: it cannot tell a version
whose superseding tombstone was reaped (as it should be) from one that was lost.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from checker.base import Checker
from checker.dynamo import (
    ConvergenceChecker,
    DeletesChecker,
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
from workloads.register import resolve


class RegisterDeleteWorkload:
    name = "register-delete"
    checkers: Sequence[Checker] = (
        DeletesChecker(),
        ConvergenceChecker(),
        *CLUSTER_CHECKERS,
    )

    def __init__(self, read_fraction: float = 0.4, delete_fraction: float = 0.25) -> None:
        for name, value in (("read", read_fraction), ("delete", delete_fraction)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} fraction must be between 0 and 1, got {value}")
        self.read_fraction = read_fraction
        self.delete_fraction = delete_fraction
        self._next_value: dict[str, int] = defaultdict(int)

    def next_op(self, rng: random.Random, keys: KeyPool) -> Invocation:
        key = keys.choose(rng)
        draw = rng.random()
        if draw < self.read_fraction:
            return Invocation("read", key)
        if draw < self.read_fraction + self.delete_fraction:
            return Invocation("delete", key)
        self._next_value[key] += 1
        return Invocation("write", key, self._next_value[key])

    async def apply(
        self, client: Client, op: Invocation, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, op.key, node, quorum)
        values = sorted(v for v in seen.values if isinstance(v, int))
        if op.f == "read":
            return {"value": resolve(seen.values), "values": values, **read_fields(seen, quorum)}
        # A delete is a put of None: a tombstone.
        fields = await write_back(client, op.key, op.value, node, seen, quorum)
        if op.f == "delete":
            return {"value": None, "removed": values, **fields}
        return {"value": op.value, **fields}

    async def final_read(
        self, client: Client, key: str, node: str, quorum: Quorum
    ) -> dict[str, Any]:
        seen = await read(client, key, node, quorum, final=True)
        values = sorted(v for v in seen.values if isinstance(v, int))
        return {
            "value": resolve(seen.values),
            "values": values,
            **read_fields(seen, quorum, r=quorum.n),
        }
