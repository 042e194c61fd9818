"""The simulator's asyncio client answers like the ZeroMQ one: results, definite and
indefinite errors, node choice by the ring."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cluster.core import ClientError, ClusterConfig
from cluster.sim import SimClient, Simulator, VirtualTimeLoop

NODES = ("n1", "n2", "n3")


def run(sim: Simulator, body: Any) -> Any:
    loop = VirtualTimeLoop(sim)
    try:
        return loop.run_until_complete(body(SimClient(loop, timeout_ms=500, n=3)))
    finally:
        loop.close()


def test_put_then_get_returns_the_value_its_context_and_who_answered() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=1)
    sim.run_for(1000)

    async def body(client: SimClient) -> Any:
        put = await client.put("cart", ["milk"], node="n1")
        got = await client.get("cart", node="n3")
        await client.put("cart", ["milk", "eggs"], context=got.context, node="n2")
        return put, got, await client.get("cart", node="n1")

    put, got, final = run(sim, body)
    assert put.coordinator in NODES and len(put.replicas) >= 2 and put.version
    assert got.values == [["milk"]] and got.found and got.node == "n3"
    assert final.values == [["milk", "eggs"]]  # the context made it a successor: no siblings


def test_a_request_to_a_crashed_node_is_definite_and_never_sent() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=2)
    sim.run_for(1000)
    sim.crash("n2")

    async def body(client: SimClient) -> ClientError:
        with pytest.raises(ClientError) as caught:
            await client.put("k", 1, node="n2")
        return caught.value

    error = run(sim, body)
    assert error.definite and not error.sent and error.node == "n2"
    assert "could not connect" in error.message


def test_no_reply_in_time_is_indefinite() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=3)
    sim.run_for(1000)
    sim.partition([["n1"], ["n2", "n3"]])  # n1 answers nothing it cannot reach W for in time

    async def body(client: SimClient) -> tuple[ClientError, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ClientError) as caught:
            await client.put("k", 1, node="n1", w=3, timeout_ms=300)
        return caught.value, loop.time() - started

    error, waited_s = run(sim, body)
    assert not error.definite and error.sent
    # The coordinator's own timeout answer (at 300 ms, on its 20 ms grid) comes before the
    # client's deadline: it is the coordinator's word, "timeout: ...", indefinite.
    assert error.message.startswith("timeout") and 0.29 < waited_s < 0.5


def test_admin_calls_reach_the_node() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=4)

    async def body(client: SimClient) -> Any:
        return await client.admin("n3", "ping")

    assert run(sim, body) == {"node": "n3", "generation": 1}
