"""The Client interface: what a workload calls to act on a cluster (Jepsen's client).

``open()`` before the first request, ``invoke(request)`` for each, ``close()`` at the end. A
request is a ``Get`` or a ``Put``; ``invoke`` returns the ``GetResult`` or ``PutResult`` of
``cluster.net`` or raises ``cluster.net.ClientError``, whose ``definite`` says whether the
outcome is known (``fail``) or not (``info``). ``get`` and ``put`` are typed shorthands.

Implementations: ``workloads.protocol_client.ProtocolClient`` (a cluster, real over ZeroMQ or
simulated, through its protocol client) and ``workloads.memory_client.MemoryClient`` (an
in-memory store that answers at once: a workload's dry run, and tests). An environment makes
the client for its cluster. No I/O here.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from cluster.net import GetResult, PutResult


class Get(msgspec.Struct, frozen=True):
    """Read ``key`` through ``node``: R (and PR) replies, within ``timeout_ms``."""

    key: str
    node: str
    r: int | None = None
    pr: int | None = None
    timeout_ms: int | None = None


class Put(msgspec.Struct, frozen=True):
    """Write ``value`` to ``key`` through ``node``, superseding the versions ``context`` names."""

    key: str
    value: Any
    node: str
    context: str = ""
    w: int | None = None
    timeout_ms: int | None = None


Request = Get | Put
Reply = GetResult | PutResult


class Client(Protocol):
    """A connection to a cluster that workloads use; one per run, shared by its processes."""

    async def open(self) -> None:
        """Prepare to send requests (connect, or nothing if connections are lazy)."""
        ...

    async def invoke(self, request: Request) -> Reply:
        """Carry out ``request``; its result, or ``ClientError``."""
        ...

    async def close(self) -> None:
        """Release what ``open`` and the requests took. Idempotent."""
        ...


async def get(client: Client, request: Get) -> GetResult:
    """``client.invoke`` of a ``Get``, typed."""
    reply = await client.invoke(request)
    if not isinstance(reply, GetResult):
        raise TypeError(f"a get returned {type(reply).__name__}, not GetResult")
    return reply


async def put(client: Client, request: Put) -> PutResult:
    """``client.invoke`` of a ``Put``, typed."""
    reply = await client.invoke(request)
    if not isinstance(reply, PutResult):
        raise TypeError(f"a put returned {type(reply).__name__}, not PutResult")
    return reply
