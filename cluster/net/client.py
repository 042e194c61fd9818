"""The Zynamo client: get / put / delete / admin against a cluster's nodes, over ZeroMQ.

``Client`` is synchronous (one DEALER per node, a poll with a deadline per request);
``AsyncClient`` offers the same calls as coroutines and multiplexes any number of concurrent
requests over one DEALER per node, matching replies to requests by id. Both do
network I/O. Workloads and the CLI use them; nothing here knows about the protocol beyond the
messages in ``cluster.core.messages``.

Errors are ``ClientError`` with ``definite``: True when the request certainly changed nothing
(the coordinator refused it, or it could not even be sent), False when the outcome is unknown
(a timeout, a lost connection, too few acks after sending). A harness records the first as
``fail`` and the second as ``info``. When in doubt: indefinite.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import zmq

from cluster.core import (
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    GetReply,
    PutReply,
    Ring,
    encode,
)
from cluster.net.frames import batches, pack, unpack
from cluster.net.io_threads import defer_new_io_threads, threads
from cluster.net.server import dialing_socket_options

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


@dataclass(frozen=True)
class GetResult:
    """What a get returned: every sibling, the context to write back, and who answered."""

    values: list[Any]
    context: str
    found: bool
    coordinator: str
    replicas: list[str]
    fallbacks: list[str]
    clock: dict[str, int] = field(default_factory=dict)
    node: str = ""  # the node the client asked (the coordinator may differ after forwarding)


@dataclass(frozen=True)
class PutResult:
    """What a put or delete returned: the version created and who acknowledged it."""

    coordinator: str
    replicas: list[str]
    fallbacks: list[str]
    version: dict[str, int] = field(default_factory=dict)
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


_EXPECTED_REPLY: dict[type[Any], type[Any]] = {
    ClientGet: GetReply,
    ClientPut: PutReply,
    AdminRequest: AdminReply,
}


class _Base:
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


def _matching_reply(frame: bytes, request: Any) -> Any | None:
    """The decoded reply in ``frame`` that answers ``request``; None for late or foreign
    frames."""
    expected = _EXPECTED_REPLY[type(request)]
    for reply in unpack(frame)[0]:
        if getattr(reply, "req", None) == request.req and isinstance(reply, expected):
            return reply
    return None


# --------------------------------------------------------------------------- synchronous


class Client(_Base):
    """A blocking client; not thread-safe (use one per thread).

    ``endpoints`` maps node names to addresses (``tcp://127.0.0.1:PORT``). Requests without a
    ``node`` go to a node chosen by the seeded ``rng``: any node, or, given the cluster's
    ``ring`` and ``n``, one of the key's primaries.
    """

    def __init__(
        self,
        endpoints: Mapping[str, str],
        timeout_ms: int = 1000,
        rng: random.Random | None = None,
        ring: Ring | None = None,
        n: int = 3,
    ) -> None:
        super().__init__(endpoints, timeout_ms, rng, ring, n)
        self._context = zmq.Context()
        self._sockets: dict[str, zmq.Socket[bytes]] = {}

    def _socket(self, node: str) -> zmq.Socket[bytes]:
        sock = self._sockets.get(node)
        if sock is None:
            before = None if self._sockets else threads()
            sock = self._context.socket(zmq.DEALER)
            if before is not None:  # the context's first socket started its I/O threads
                defer_new_io_threads(before)
            dialing_socket_options(sock)
            sock.connect(self.endpoints[node])
            self._sockets[node] = sock
        return sock

    def _call(self, node: str, request: Any, wait_ms: int) -> Any:
        sock = self._socket(node)
        deadline = time.monotonic() + wait_ms / 1000
        frame = encode(request)
        # IMMEDIATE=1: the socket is writable only once a connection is up. A request that
        # cannot be handed to a live connection before the deadline was never sent: definite.
        if not sock.poll(wait_ms, zmq.POLLOUT):
            raise ClientError("could not connect: request not sent", True, node, sent=False)
        try:
            sock.send(frame, zmq.NOBLOCK)
        except zmq.Again:
            raise ClientError("could not send: request not sent", True, node, sent=False) from None
        while True:
            left_ms = (deadline - time.monotonic()) * 1000
            if left_ms <= 0 or not sock.poll(int(left_ms) + 1, zmq.POLLIN):
                if time.monotonic() < deadline:
                    continue
                raise ClientError("timeout: no reply from the coordinator", False, node)
            reply = _matching_reply(sock.recv(), request)
            if reply is not None:
                return reply

    def get(
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
        return get_result(self._call(name, request, timeout + REPLY_MARGIN_MS), name)

    def put(
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
        return put_result(self._call(name, request, timeout + REPLY_MARGIN_MS), name)

    def delete(
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
        return self.put(key, None, context=context, w=w, pw=pw, node=node, timeout_ms=timeout_ms)

    def admin(self, node: str, op: str, /, *, timeout_ms: int | None = None, **args: Any) -> Any:
        name = self.pick(node)
        request = self._admin_request(op, args)
        return admin_result(self._call(name, request, self._timeout(timeout_ms)), name, op)

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close(0)
        self._sockets.clear()
        self._context.term()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- asyncio

# Plain ints: pyzmq's flag enums cost a conversion on every call in the hot path.
_POLLIN = int(zmq.POLLIN)
_NOBLOCK = int(zmq.NOBLOCK)

# While no connection to a node is up yet, retry the send this often (until the deadline).
_CONNECT_RETRY_S = 0.005


class _Connection:
    """One DEALER to one node, shared by every concurrent request to it.

    A plain (not ``zmq.asyncio``) socket whose file descriptor is watched by the event loop:
    replies are read in batches and handed to the waiting futures by request id, which costs a
    fraction of ``zmq.asyncio``'s per-message machinery. ZeroMQ's descriptor is edge-like (it
    signals "events may have changed" and is reset by any socket operation), so the socket is
    drained until empty whenever it fires *and* after every send.
    """

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], endpoint: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.sock = context.socket(zmq.DEALER)
        dialing_socket_options(self.sock)
        self.sock.connect(endpoint)
        self.fd = cast(int, self.sock.getsockopt(zmq.FD))
        self.waiting: dict[int, tuple[type[Any], asyncio.Future[Any]]] = {}
        self.outbox: dict[int, bytes] = {}  # request id -> frame, waiting for ``flush``
        self._flush: asyncio.Handle | None = None
        self._readable = [(self.sock, _POLLIN)]
        self.loop.add_reader(self.fd, self.drain)

    def drain(self) -> None:
        """Hand every queued reply to the request waiting for it; drop late and foreign ones."""
        sock = self.sock
        readable = self._readable
        # A zero-timeout poll reads the socket's EVENTS, which also resets the descriptor;
        # asking first avoids raising (and paying for) a zmq.Again on every wake-up, and the
        # poll skips the option-name lookup ``getsockopt`` makes.
        waiting = self.waiting
        while zmq.zmq_poll(readable, 0):
            for reply in unpack(sock.recv(_NOBLOCK))[0]:  # garbage is dropped
                entry = waiting.get(getattr(reply, "req", -1))
                if entry is None:
                    continue  # a late reply: its request already gave up
                expected, future = entry
                if isinstance(reply, expected) and not future.done():
                    future.set_result(reply)

    def enqueue(self, req: int, frame: bytes) -> None:
        """Send ``frame`` (request ``req``) at the end of this turn of the event loop, together
        with whatever else this turn's tasks send to the same node: the replies one node
        answers in a batch wake several tasks at once, and their next requests then leave as
        one frame (``cluster.net.frames``) — one ZeroMQ send, one wake-up of the I/O thread."""
        self.outbox[req] = frame
        if self._flush is None:
            self._flush = self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what is queued; while no connection is up to take it (``IMMEDIATE=1``),
        try again shortly (each request gives up at its own deadline, unsent)."""
        self._flush = None
        outbox = self.outbox
        if not outbox:
            return
        try:
            for batch in batches(list(outbox.values())):
                self.sock.send(pack(batch), _NOBLOCK)
                for req in list(outbox)[: len(batch)]:
                    del outbox[req]  # sent
        except zmq.Again:
            self._flush = self.loop.call_later(_CONNECT_RETRY_S, self.flush)
        finally:
            self.drain()  # the send may have consumed the descriptor's signal

    def withdraw(self, req: int) -> bool:
        """Take request ``req`` back if it was never sent; whether it was still unsent."""
        return self.outbox.pop(req, None) is not None

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self.loop.remove_reader(self.fd)
        self.sock.close(0)


class _Deadlines:
    """The deadlines of an event loop's outstanding requests, with one loop timer set for the
    earliest rather than one per request: asyncio keeps its timers in a heap ordered by a
    Python-level comparison, which costs more than the request itself at thousands a second.
    A future whose deadline passes gets a ``TimeoutError``; finished ones are skipped."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._heap: list[tuple[float, int, asyncio.Future[Any]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def add(self, deadline: float, future: asyncio.Future[Any]) -> None:
        heapq.heappush(self._heap, (deadline, next(self._seq), future))
        if deadline < self._timer_at:
            self._arm(deadline)

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        heap = self._heap
        now = self.loop.time()
        while heap and heap[0][0] <= now:
            future = heapq.heappop(heap)[2]
            if not future.done():
                future.set_exception(TimeoutError())
        while heap and heap[0][2].done():  # answered: no need to wake up for them
            heapq.heappop(heap)
        if heap:
            self._arm(heap[0][0])

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, math.inf
        self._heap.clear()


class AsyncClient(_Base):
    """The same calls as ``Client``, as coroutines; safe for many concurrent tasks of one
    event loop, which all share one connection per node."""

    def __init__(
        self,
        endpoints: Mapping[str, str],
        timeout_ms: int = 1000,
        rng: random.Random | None = None,
        ring: Ring | None = None,
        n: int = 3,
    ) -> None:
        super().__init__(endpoints, timeout_ms, rng, ring, n)
        self._context = zmq.Context()
        self._connections: dict[str, _Connection] = {}
        self._deadlines: _Deadlines | None = None

    def _connection(self, node: str) -> _Connection:
        conn = self._connections.get(node)
        if conn is None:
            before = None if self._connections else threads()
            conn = _Connection(self._context, self.endpoints[node])
            if before is not None:  # the context's first socket started its I/O threads
                defer_new_io_threads(before)
            self._connections[node] = conn
        elif conn.loop is not asyncio.get_running_loop():
            raise RuntimeError("an AsyncClient must be used from one event loop only")
        return conn

    async def _call(self, node: str, request: Any, wait_ms: int) -> Any:
        conn = self._connection(node)
        loop = conn.loop
        deadline = loop.time() + wait_ms / 1000
        future: asyncio.Future[Any] = loop.create_future()
        conn.waiting[request.req] = (_EXPECTED_REPLY[type(request)], future)
        deadlines = self._deadlines
        if deadlines is None:
            deadlines = self._deadlines = _Deadlines(loop)
        deadlines.add(deadline, future)
        try:
            conn.enqueue(request.req, encode(request))
            try:
                return await future
            except TimeoutError:
                # A request never handed to a connection was never sent: definite.
                if conn.withdraw(request.req):
                    raise ClientError(
                        "could not connect: request not sent", True, node, sent=False
                    ) from None
                raise ClientError("timeout: no reply from the coordinator", False, node) from None
        finally:
            conn.withdraw(request.req)  # cancelled before it left: it never will
            conn.waiting.pop(request.req, None)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # the deadline may fire while still connecting: consumed

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

    async def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        if self._deadlines is not None:
            self._deadlines.close()
        self._context.term()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
