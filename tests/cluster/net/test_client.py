"""The client against fake nodes that misbehave on purpose: replies matched by request id (late,
foreign and garbage frames dropped), timeouts are indefinite, unreachable nodes are definite,
the coordinator's own verdict is passed on, and coordinators are chosen as asked."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq

from cluster.core.codec import encode
from cluster.core.messages import (
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    GetReply,
    PutReply,
)
from cluster.core.ring import Ring
from cluster.net import AsyncClient, Client, ClientError
from cluster.net.frames import unpack
from cluster.net.local import free_ports

Respond = Callable[[Any], list[bytes]]


class FakeNode:
    """A ROUTER in a thread that answers each request with the frames ``respond`` returns,
    after collecting ``batch`` requests (answered in reverse order: out of order)."""

    def __init__(self, respond: Respond, batch: int = 1) -> None:
        self.respond = respond
        self.batch = batch
        self.received: list[Any] = []
        self.frames = 0
        self._context = zmq.Context()
        self._sock = self._context.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        port = self._sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        pending: list[tuple[bytes, Any]] = []
        while not self._stop.is_set():
            if not self._sock.poll(20):
                continue
            ident, frame = self._sock.recv_multipart()
            self.frames += 1
            messages, errors = unpack(frame)  # the async client sends batches
            assert not errors, errors
            for msg in messages:
                self.received.append(msg)
                pending.append((ident, msg))
            if len(pending) >= self.batch:
                for who, request in reversed(pending):
                    for out in self.respond(request):
                        self._sock.send_multipart([who, out])
                pending.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close(0)
        self._context.term()


@pytest.fixture
def fake_node() -> Iterator[Callable[..., FakeNode]]:
    made: list[FakeNode] = []

    def make(respond: Respond, batch: int = 1) -> FakeNode:
        made.append(FakeNode(respond, batch))
        return made[-1]

    yield make
    for node in made:
        node.close()


def answer(request: Any, **fields: Any) -> bytes:
    """The right kind of successful reply to ``request``."""
    if isinstance(request, ClientGet):
        values = fields.pop("values", [f"value of {request.key}"])
        return encode(GetReply(request.req, True, values=values, found=bool(values), **fields))
    if isinstance(request, ClientPut):
        return encode(PutReply(request.req, True, **fields))
    assert isinstance(request, AdminRequest)
    return encode(AdminReply(request.req, True, {"op": request.op, **request.args}))


def test_late_foreign_and_garbage_frames_are_dropped(fake_node: Callable[..., FakeNode]) -> None:
    def noisy(request: Any) -> list[bytes]:
        late = GetReply(request.req + 1000, True, values=["stale"], found=True)
        wrong_kind = PutReply(request.req, True, coordinator="confused")
        return [b"\x00garbage", encode(late), encode(wrong_kind), answer(request)]

    node = fake_node(noisy)
    with Client({"n1": node.endpoint}) as client:
        for key in ("a", "b", "c"):
            assert client.get(key).values == [f"value of {key}"]


def test_results_carry_what_the_coordinator_saw(fake_node: Callable[..., FakeNode]) -> None:
    seen = {"coordinator": "n3", "replicas": ["n3", "n5"], "fallbacks": ["n5"]}

    def respond(request: Any) -> list[bytes]:
        if isinstance(request, ClientGet):
            return [answer(request, context="CTX", clock={"n3": 4}, **seen)]
        return [answer(request, version={"n3": 5}, **seen)]

    node = fake_node(respond)
    with Client({"n1": node.endpoint}) as client:
        read = client.get("k", r=1, pr=0, timeout_ms=700)
        written = client.put("k", [1, 2], context="CTX", w=3, pw=1)
        client.delete("k", context="CTX2")
    assert (read.node, read.coordinator, read.replicas, read.fallbacks) == (
        "n1",
        "n3",
        ["n3", "n5"],
        ["n5"],
    )
    assert (read.context, read.clock, read.found) == ("CTX", {"n3": 4}, True)
    assert (written.coordinator, written.version, written.node) == ("n3", {"n3": 5}, "n1")
    get, put, delete = node.received
    assert (get.key, get.r, get.pr, get.timeout_ms) == ("k", 1, 0, 700)
    assert (put.value, put.context, put.w, put.pw, put.timeout_ms) == ([1, 2], "CTX", 3, 1, 1000)
    assert (delete.value, delete.context) == (None, "CTX2")


@pytest.mark.parametrize("definite", [True, False])
def test_a_failed_reply_keeps_the_coordinators_verdict(
    fake_node: Callable[..., FakeNode], definite: bool
) -> None:
    def refuse(request: Any) -> list[bytes]:
        return [encode(PutReply(request.req, False, error="nope", definite=definite))]

    node = fake_node(refuse)
    with Client({"n1": node.endpoint}) as client, pytest.raises(ClientError) as failed:
        client.put("k", "v")
    assert failed.value.definite is definite and failed.value.message == "nope"
    assert failed.value.sent and failed.value.node == "n1"


def test_no_reply_is_an_indefinite_timeout(fake_node: Callable[..., FakeNode]) -> None:
    node = fake_node(lambda request: [])
    with Client({"n1": node.endpoint}) as client:
        started = time.monotonic()
        with pytest.raises(ClientError) as timed_out:
            client.put("k", "v", timeout_ms=200)
        elapsed = time.monotonic() - started
    assert not timed_out.value.definite and "timeout" in timed_out.value.message
    assert 0.2 <= elapsed < 2.0


def test_an_unreachable_node_fails_definitely_without_sending() -> None:
    (port,) = free_ports(1)  # nothing listens there
    client = Client({"n1": f"tcp://127.0.0.1:{port}"}, timeout_ms=150)
    with client, pytest.raises(ClientError) as failed:
        client.put("k", "v")
    assert failed.value.definite and not failed.value.sent


def test_coordinator_choice_is_seeded_named_or_ring_aware() -> None:
    endpoints = {f"n{i}": f"tcp://127.0.0.1:{20000 + i}" for i in range(1, 6)}
    picks = [Client(endpoints, rng=random.Random(7)) for _ in range(2)]
    try:
        first = [picks[0].pick(None) for _ in range(30)]
        assert first == [picks[1].pick(None) for _ in range(30)]  # same seed, same choices
        assert set(first) == set(endpoints)  # and every node gets some
        assert picks[0].pick("n4") == "n4"
        with pytest.raises(ValueError, match="unknown node 'n9'"):
            picks[0].pick("n9")
    finally:
        for client in picks:
            client.close()
    ring = Ring.build(endpoints, 64)
    with Client(endpoints, rng=random.Random(1), ring=ring, n=3) as aware:
        for key in (f"key-{i}" for i in range(50)):
            assert aware.pick(None, key) in ring.primaries(key, 3)


def test_async_client_matches_out_of_order_replies(fake_node: Callable[..., FakeNode]) -> None:
    node = fake_node(lambda request: [answer(request)], batch=10)

    async def scenario() -> list[list[Any]]:
        async with AsyncClient({"n1": node.endpoint}, timeout_ms=3000) as client:
            reads = await asyncio.gather(*(client.get(f"k{i}") for i in range(30)))
            return [r.values for r in reads]

    assert asyncio.run(scenario()) == [[f"value of k{i}"] for i in range(30)]


def test_async_requests_started_together_leave_together(
    fake_node: Callable[..., FakeNode],
) -> None:
    node = fake_node(lambda request: [answer(request)])

    async def scenario() -> list[list[Any]]:
        async with AsyncClient({"n1": node.endpoint}, timeout_ms=3000) as client:
            reads = await asyncio.gather(*(client.get(f"k{i}") for i in range(20)))
            return [r.values for r in reads]

    assert asyncio.run(scenario()) == [[f"value of k{i}"] for i in range(20)]
    assert len(node.received) == 20
    assert node.frames == 1  # one frame, one ZeroMQ send, for the twenty requests


def test_async_client_errors_are_classified_like_the_sync_ones(
    fake_node: Callable[..., FakeNode],
) -> None:
    silent = fake_node(lambda request: [])
    (dead_port,) = free_ports(1)

    async def scenario() -> tuple[ClientError, ClientError]:
        endpoints = {"silent": silent.endpoint, "dead": f"tcp://127.0.0.1:{dead_port}"}
        async with AsyncClient(endpoints, timeout_ms=150) as client:
            with pytest.raises(ClientError) as timed_out:
                await client.get("k", node="silent")
            with pytest.raises(ClientError) as unreachable:
                await client.put("k", "v", node="dead")
            return timed_out.value, unreachable.value

    timed_out, unreachable = asyncio.run(scenario())
    assert not timed_out.definite and timed_out.sent
    assert unreachable.definite and not unreachable.sent
