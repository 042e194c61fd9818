"""The ``Client`` of a Zynamo cluster: a protocol client behind the workload interface.

``ProtocolClient`` adapts either shell of ``cluster.core.AsyncClientBase`` — the ZeroMQ
``cluster.net.AsyncClient`` of a real cluster, or the simulator's ``cluster.sim.SimClient`` —
made by the ``connect`` callable it is given when the client is opened. Requests go to the node
each names. Must be used from one event loop. Does I/O only through the shell.
"""

from __future__ import annotations

from collections.abc import Callable

from cluster.core import AsyncClientBase
from workloads.client import Get, Reply, Request


class ProtocolClient:
    """Adapts the protocol client ``connect()`` makes to ``workloads.client.Client``."""

    def __init__(self, connect: Callable[[], AsyncClientBase]) -> None:
        self._connect = connect
        self._client: AsyncClientBase | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = self._connect()

    async def invoke(self, request: Request) -> Reply:
        if self._client is None:
            raise RuntimeError("ProtocolClient: open() it before invoking requests")
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
