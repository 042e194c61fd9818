"""The sans-IO half of a Zynamo client: which node to ask, the request to send, and what its
reply means. The ZeroMQ clients (``cluster.net``) and the simulator's client (``cluster.sim``)
are shells around it, so a workload sees the same results and the same errors in both.

Errors are ``ClientError`` with ``definite``: True when the request certainly changed nothing
(the coordinator refused it, or it could not even be sent), False when the outcome is unknown
(a timeout, a lost connection, too few acks after sending). A harness records the first as
``fail`` and the second as ``info``. When in doubt: indefinite. No I/O (a seeded
``random.Random`` chooses nodes).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import Any, Self

import msgspec

from cluster.core.messages import (
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    GetReply,
    PutReply,
)
from cluster.core.ring import Ring

# Keys whose primaries a client remembers (forgotten all at once when full).
KEY_CACHE = 1 << 16

# How long past the coordinator's own deadline (which the request carries) the client still
# waits: the coordinator answers "timeout" itself at its deadline, and that answer should win
# over a client-side guess.
REPLY_MARGIN_MS = 200


class ClientError(Exception):
    """A request that did not succeed. ``definite``: nothing was written anywhere.
    ``sent``: False when the request never left the client (no connection to ``node``), so
    it is safe to send it to another node."""

    def __init__(self, message: str, definite: bool, node: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.definite = definite
        self.node = node
        self.sent = sent

    def __str__(self) -> str:
        kind = "definite" if self.definite else "indefinite"
        return f"{self.node}: {self.message} ({kind})"


class GetResult(msgspec.Struct, frozen=True):
    """What a get returned: every sibling, the context to write back, and who answered."""

    values: list[Any]
    context: str
    found: bool
    coordinator: str
    replicas: list[str]
    fallbacks: list[str]
    clock: dict[str, int] = {}  # (msgspec copies an empty default for each instance)
    node: str = ""  # the node the client asked (the coordinator may differ after forwarding)


class PutResult(msgspec.Struct, frozen=True):
    """What a put or delete returned: the version created and who acknowledged it."""

    coordinator: str
    replicas: list[str]
    fallbacks: list[str]
    version: dict[str, int] = {}
    node: str = ""


def get_result(reply: GetReply, node: str) -> GetResult:
    if not reply.ok:
        raise ClientError(reply.error or "get failed", reply.definite, node)
    return GetResult(
        values=list(reply.values),
        context=reply.context,
        found=reply.found,
        coordinator=reply.coordinator,
        replicas=list(reply.replicas),
        fallbacks=list(reply.fallbacks),
        clock=dict(reply.clock),
        node=node,
    )


def put_result(reply: PutReply, node: str) -> PutResult:
    if not reply.ok:
        raise ClientError(reply.error or "put failed", reply.definite, node)
    return PutResult(
        coordinator=reply.coordinator,
        replicas=list(reply.replicas),
        fallbacks=list(reply.fallbacks),
        version=dict(reply.version),
        node=node,
    )


def admin_result(reply: AdminReply, node: str, op: str) -> Any:
    if not reply.ok:
        raise ClientError(reply.error or f"admin {op} failed", True, node)
    return reply.data


EXPECTED_REPLY: dict[type[Any], type[Any]] = {
    ClientGet: GetReply,
    ClientPut: PutReply,
    AdminRequest: AdminReply,
}


class ClientBase:
    """What both flavours share: node choice, request ids, request building."""

    def __init__(
        self,
        endpoints: Mapping[str, str],
        timeout_ms: int = 1000,
        rng: random.Random | None = None,
        ring: Ring | None = None,
        n: int = 3,
    ) -> None:
        if not endpoints:
            raise ValueError("endpoints: at least one node is needed")
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, got {timeout_ms}")
        self.endpoints = dict(endpoints)
        self.timeout_ms = timeout_ms
        self.rng = rng if rng is not None else random.Random(0)
        self._names = sorted(self.endpoints)
        self._req_ids = itertools.count(1)
        self.ring = ring
        self.n = n
        self._primaries: dict[int, list[str]] = {}  # by partition: the ring walk is not free
        self._key_primaries: dict[str, list[str]] = {}  # by key: nor is hashing it

    def pick(self, node: str | None, key: str | None = None) -> str:
        """The node to ask: ``node`` if given; else, with a ring, one of the key's primaries at
        random (a partition-aware client, Dynamo §4.5: no forwarding hop); else any node at
        random. Random choices come from the seeded rng."""
        if node is None:
            if self.ring is not None and key is not None:
                primaries = self._key_primaries.get(key)
                if primaries is None:
                    primaries = self._partition_primaries(self.ring.partition_of(key))
                    if len(self._key_primaries) >= KEY_CACHE:
                        self._key_primaries.clear()
                    self._key_primaries[key] = primaries
                if primaries:
                    return self.rng.choice(primaries)
            return self.rng.choice(self._names)
        if node not in self.endpoints:
            raise ValueError(f"unknown node {node!r}; known: {', '.join(self._names)}")
        return node

    def _partition_primaries(self, partition: int) -> list[str]:
        primaries = self._primaries.get(partition)
        if primaries is None:
            assert self.ring is not None
            walk = self.ring.partition_primaries(partition, self.n)
            primaries = self._primaries[partition] = [p for p in walk if p in self.endpoints]
        return primaries

    def _timeout(self, timeout_ms: int | None) -> int:
        return self.timeout_ms if timeout_ms is None else timeout_ms

    def _get_request(self, key: str, r: int | None, pr: int | None, timeout_ms: int) -> ClientGet:
        return ClientGet(next(self._req_ids), key, r=r, pr=pr, timeout_ms=timeout_ms)

    def _put_request(
        self,
        key: str,
        value: Any,
        context: str,
        w: int | None,
        pw: int | None,
        timeout_ms: int,
    ) -> ClientPut:
        return ClientPut(
            next(self._req_ids), key, value, context=context, w=w, pw=pw, timeout_ms=timeout_ms
        )

    def _admin_request(self, op: str, args: dict[str, Any]) -> AdminRequest:
        return AdminRequest(next(self._req_ids), op, args)


class AsyncClientBase(ClientBase):
    """The client calls as coroutines — get, put, delete, admin — over one abstract
    ``_call(node, request, wait_ms)`` that a shell implements: it delivers the request and
    returns the reply, or raises ``ClientError`` (indefinite on a timeout; definite when the
    request was never sent). The ZeroMQ ``AsyncClient`` and the simulator's client are the
    two shells, so both answer exactly alike."""

    async def _call(self, node: str, request: Any, wait_ms: int) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        """Release the shell's connections (nothing to release here)."""

    async def get(
        self,
        key: str,
        *,
        r: int | None = None,
        pr: int | None = None,
        node: str | None = None,
        timeout_ms: int | None = None,
    ) -> GetResult:
        name = self.pick(node, key)
        timeout = self._timeout(timeout_ms)
        request = self._get_request(key, r, pr, timeout)
        return get_result(await self._call(name, request, timeout + REPLY_MARGIN_MS), name)

    async def put(
        self,
        key: str,
        value: Any,
        *,
        context: str = "",
        w: int | None = None,
        pw: int | None = None,
        node: str | None = None,
        timeout_ms: int | None = None,
    ) -> PutResult:
        name = self.pick(node, key)
        timeout = self._timeout(timeout_ms)
        request = self._put_request(key, value, context, w, pw, timeout)
        return put_result(await self._call(name, request, timeout + REPLY_MARGIN_MS), name)

    async def delete(
        self,
        key: str,
        *,
        context: str,
        w: int | None = None,
        pw: int | None = None,
        node: str | None = None,
        timeout_ms: int | None = None,
    ) -> PutResult:
        """Write a tombstone over the versions ``context`` covers."""
        return await self.put(
            key, None, context=context, w=w, pw=pw, node=node, timeout_ms=timeout_ms
        )

    async def admin(
        self, node: str, op: str, /, *, timeout_ms: int | None = None, **args: Any
    ) -> Any:
        name = self.pick(node)
        request = self._admin_request(op, args)
        return admin_result(await self._call(name, request, self._timeout(timeout_ms)), name, op)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
