"""``SimClient``: the asyncio client of a simulated cluster, for code on a ``VirtualTimeLoop``.

The same calls, results and errors as the ZeroMQ ``AsyncClient`` (both are shells of
``cluster.core.client.AsyncClientBase``), so a workload cannot tell the environments apart.
A request reaches its node at once (clients are not partitioned); the reply wakes the waiting
coroutine at its virtual arrival time. Failures match the real client's:

- no reply by the deadline (the coordinator's timeout plus a margin): ``timeout``,
  indefinite — the request may have been applied;
- the node was down when the request arrived: ``could not connect: request not sent``,
  definite, at the deadline — as a ZeroMQ request that never found a connection.

No I/O: everything happens inside the simulator.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from cluster.core import AsyncClientBase, ClientError, Ring
from cluster.sim.loop import VirtualTimeLoop
from cluster.sim.simulator import EXPIRED, Simulator


class SimClient(AsyncClientBase):
    """Asyncio client calls against ``loop.sim``'s nodes (``endpoints`` names them)."""

    def __init__(
        self,
        loop: VirtualTimeLoop,
        nodes: Mapping[str, str] | None = None,
        timeout_ms: int = 1000,
        rng: random.Random | None = None,
        ring: Ring | None = None,
        n: int = 3,
    ) -> None:
        sim: Simulator = loop.sim
        super().__init__(nodes or {name: name for name in sim.names}, timeout_ms, rng, ring, n)
        self.loop = loop
        self.sim = sim

    async def _call(self, node: str, request: Any, wait_ms: int) -> Any:
        loop = self.loop
        future: asyncio.Future[Any] = loop.create_future()

        def answered(reply: Any) -> None:
            if not future.done():
                future.set_result(reply)
                loop.wake()

        # The simulator keeps the deadline (``EXPIRED`` at ``wait_ms``): a timer of its own
        # queue costs less than an asyncio timer handle per request.
        ticket = self.sim.submit(node, request, on_reply=answered, deadline_ms=wait_ms)
        try:
            reply = await future
        finally:
            ticket.on_reply = None  # a reply after the deadline is dropped, as a late frame
        if reply is EXPIRED:
            if not ticket.arrived:
                raise ClientError("could not connect: request not sent", True, node, sent=False)
            raise ClientError("timeout: no reply from the coordinator", False, node)
        return reply
