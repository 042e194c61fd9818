"""The ``Client`` of a real cluster: ``cluster.net.AsyncClient`` behind the workload interface.

Requests go over ZeroMQ to the node each names; connections open lazily, on the first request
to a node. Must be used from one event loop. Does network I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from cluster.net import AsyncClient
from workloads.client import Get, Reply, Request


class NetClient:
    """Adapts ``AsyncClient`` (nodes at ``endpoints``) to ``workloads.client.Client``."""

    def __init__(self, endpoints: Mapping[str, str], timeout_ms: int) -> None:
        self._endpoints = dict(endpoints)
        self._timeout_ms = timeout_ms
        self._client: AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = AsyncClient(self._endpoints, timeout_ms=self._timeout_ms)

    async def invoke(self, request: Request) -> Reply:
        if self._client is None:
            raise RuntimeError("NetClient: open() it before invoking requests")
        if isinstance(request, Get):
            return await self._client.get(
                request.key,
                node=request.node,
                r=request.r,
                pr=request.pr,
                timeout_ms=request.timeout_ms,
            )
        return await self._client.put(
            request.key,
            request.value,
            context=request.context,
            node=request.node,
            w=request.w,
            timeout_ms=request.timeout_ms,
        )

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
