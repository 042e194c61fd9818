"""asyncio code on the simulator's clock: sleeps and replies take virtual time, not wall time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from cluster.core import ClientGet, ClientPut, ClusterConfig, GetReply, PutReply
from cluster.sim import Simulator
from cluster.sim.loop import SimulationDeadlock, VirtualTimeLoop

NODES = ("n1", "n2", "n3")


def run(sim: Simulator, coro: Any, idle_limit_ms: float = 3_600_000) -> Any:
    loop = VirtualTimeLoop(sim, idle_limit_ms)
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def request(loop: VirtualTimeLoop, node: str, msg: Any) -> asyncio.Future[Any]:
    """A future answered when the simulated node replies."""
    future: asyncio.Future[Any] = loop.create_future()

    def answered(reply: Any) -> None:
        future.set_result(reply)
        loop.wake()

    loop.sim.submit(node, msg, on_reply=answered)
    return future


def test_an_hour_of_sleep_takes_no_wall_time_and_moves_the_cluster_on() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=1)
    start_ms = sim.now_ms

    async def sleeper() -> float:
        loop = asyncio.get_running_loop()
        before = loop.time()
        await asyncio.sleep(3600)
        return loop.time() - before

    wall = time.monotonic()
    slept_s = run(sim, sleeper())
    assert slept_s == pytest.approx(3600)
    assert sim.now_ms - start_ms == pytest.approx(3_600_000)
    assert time.monotonic() - wall < 30  # an hour of heartbeats and gossip, in seconds of CPU
    assert sim.delivered > 10_000  # the nodes ran meanwhile


def test_a_reply_wakes_the_waiting_coroutine_at_its_virtual_arrival_time() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=2)
    sim.run_for(1000)

    async def client() -> tuple[Any, Any, float]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualTimeLoop)
        put = await request(loop, "n1", ClientPut(1, "k", "v"))
        sent = loop.time()
        got = await request(loop, "n2", ClientGet(2, "k"))
        return put, got, loop.time() - sent

    put, got, took_s = run(sim, client())
    assert isinstance(put, PutReply) and put.ok
    assert isinstance(got, GetReply) and got.values == ["v"]
    # A get is a few simulated network hops: milliseconds, not the idle limit.
    assert 0 < took_s < 0.1


def test_concurrent_coroutines_interleave_the_same_way_for_the_same_seed() -> None:
    def trace(seed: int) -> list[tuple[str, float]]:
        sim = Simulator(ClusterConfig(nodes=NODES), seed=seed)
        events: list[tuple[str, float]] = []

        async def worker(name: str, node: str) -> None:
            loop = asyncio.get_running_loop()
            assert isinstance(loop, VirtualTimeLoop)
            for i in range(5):
                await request(loop, node, ClientPut(i, f"{name}{i}", i))
                events.append((name, loop.time()))
                await asyncio.sleep(0.01)

        async def main() -> None:
            await asyncio.gather(worker("a", "n1"), worker("b", "n2"), worker("c", "n3"))

        run(sim, main())
        return events

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_a_coroutine_nothing_will_ever_wake_is_a_deadlock_not_a_hang() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=3)

    async def forever() -> None:
        await asyncio.get_running_loop().create_future()

    with pytest.raises(SimulationDeadlock, match="nothing in the simulator answered"):
        run(sim, forever(), idle_limit_ms=60_000)
