"""An in-memory ``Client``: one copy of every key in a dict, answering at once, never failing.

``MemoryStore`` keeps, per key, its sibling values and a version counter; a put whose context
names the current version replaces the siblings, any other put (a stale or empty context) adds
a sibling beside them, as a Dynamo store keeps concurrent writes. ``MemoryClient`` serves
requests from one store (several clients may share it). Every request is "coordinated" by the
node it names, alone. For a workload's dry run and for tests of the harness; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cluster.net import GetResult, PutResult
from workloads.client import Get, Reply, Request


@dataclass
class _Entry:
    values: list[Any] = field(default_factory=list)
    version: int = 0


class MemoryStore:
    """Sibling values of every key written through the clients that share it."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def values(self, key: str) -> list[Any]:
        """The key's siblings now (empty when it was never written)."""
        entry = self._entries.get(key)
        return list(entry.values) if entry else []

    def clock(self, key: str) -> dict[str, int]:
        """The key's current version as a clock (it covers every version written before)."""
        entry = self._entries.get(key)
        return {"memory": entry.version} if entry and entry.version else {}

    def get(self, key: str, node: str) -> GetResult:
        entry = self._entries.get(key, _Entry())
        return GetResult(
            values=list(entry.values),
            context=str(entry.version) if entry.version else "",
            found=bool(entry.values),
            coordinator=node,
            replicas=[node],
            fallbacks=[],
            clock={"memory": entry.version} if entry.version else {},
            node=node,
        )

    def put(self, key: str, value: Any, context: str, node: str) -> PutResult:
        entry = self._entries.setdefault(key, _Entry())
        if context and context == str(entry.version):
            entry.values = [value]
        else:
            entry.values.append(value)
        entry.version += 1
        return PutResult(
            coordinator=node,
            replicas=[node],
            fallbacks=[],
            version={"memory": entry.version},
            node=node,
        )


class MemoryClient:
    """``workloads.client.Client`` over a ``MemoryStore`` (a fresh one unless given)."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.opened = False
        self.requests = 0

    async def open(self) -> None:
        self.opened = True

    async def invoke(self, request: Request) -> Reply:
        if not self.opened:
            raise RuntimeError("MemoryClient: open() it before invoking requests")
        self.requests += 1
        if isinstance(request, Get):
            return self.store.get(request.key, request.node)
        return self.store.put(request.key, request.value, request.context, request.node)

    async def close(self) -> None:
        self.opened = False
