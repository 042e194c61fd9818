"""Dynamo under failure with real node processes: a killed primary's writes go to fallbacks
and come back to it as hints; a replica cut off from writes catches up through anti-entropy
alone; a deleted key stays deleted after repair; no acknowledged write is lost while a node
joins and another leaves under load."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.core.config import ClusterConfig
from cluster.core.ring import Ring
from cluster.net import Client, ClientError
from cluster.net.local import LocalCluster
from nemesis.network import ProxyNet
from nemesis.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient

NODES = ("n1", "n2", "n3", "n4", "n5")
CONFIG = ClusterConfig(
    nodes=NODES,
    partitions=16,
    gossip_interval_ms=500,
    anti_entropy_interval_ms=500,
    handoff_interval_ms=300,
    tombstone_grace_ms=1000,
)
RING = Ring.build(NODES, CONFIG.partitions)


def walk(key: str) -> list[str]:
    return RING.walk(RING.partition_of(key))


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting until {what}")
        time.sleep(0.05)


def admin(client: Client, node: str, op: str, **args: Any) -> Any:
    return client.admin(node, op, timeout_ms=2000, **args)


def sees_down(client: Client, observer: str, node: str) -> bool:
    return node not in admin(client, observer, "status")["up"]


def sees_up(client: Client, observer: str, node: str) -> bool:
    return node in admin(client, observer, "status")["up"]


def hints_anywhere(client: Client, nodes: tuple[str, ...] = NODES) -> int:
    return sum(sum(admin(client, n, "status")["hints"].values()) for n in nodes)


def replicas_agree(client: Client) -> bool:
    """Every partition's primaries report the same Merkle root, and no node holds hints."""
    reports = {n: admin(client, n, "merkle") for n in NODES}
    if any(r["hints"] or r["misplaced"] for r in reports.values()):
        return False
    for partition in range(RING.partitions):
        roots = {
            reports[p]["roots"][str(partition)] for p in RING.partition_primaries(partition, 3)
        }
        if len(roots) > 1:
            return False
    return True


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path / "cluster", CONFIG) as local:
        local.start()
        yield local


def test_writes_succeed_through_fallbacks_and_the_hints_reach_the_restarted_primary(
    cluster: LocalCluster,
) -> None:
    victim = "n3"
    keys = [f"k{i}" for i in range(200) if victim in walk(f"k{i}")[:3]][:20]
    with cluster.client(timeout_ms=2000) as client:
        cluster.kill(victim)
        wait_for(
            "the others see the primary down",
            lambda: all(sees_down(client, n, victim) for n in NODES if n != victim),
        )
        for key in keys:
            coordinator = next(p for p in walk(key)[:3] if p != victim)
            put = client.put(key, f"value of {key}", node=coordinator, w=3)
            assert put.fallbacks, put  # a fallback stood in for the dead primary
            assert victim not in put.replicas
        fallbacks = {walk(key)[3] for key in keys}
        alive = tuple(n for n in NODES if n != victim)
        assert hints_anywhere(client, alive) == len(keys)
        # Hints are durable: kill -9 a fallback that holds some, and it still has them.
        holder = sorted(fallbacks)[0]
        held = admin(client, holder, "status")["hints"]
        cluster.kill(holder)
        cluster.start_node(holder)
        assert admin(client, holder, "status")["hints"] == held
        cluster.start_node(victim)
        wait_for("every hint is handed off", lambda: hints_anywhere(client) == 0)
        for key in keys:
            replica = admin(client, victim, "replica", key=key)
            assert replica["values"] == [f"value of {key}"]


def test_a_replica_cut_off_from_writes_catches_up_through_anti_entropy_alone(
    tmp_path: Path,
) -> None:
    """n4 keeps sending (its peers hear it, so none writes a hint for it) but receives nothing
    while the writes happen; after the heal no client reads anything, yet it converges."""
    victim = "n4"
    with EmbeddedToxiproxy() as toxiproxy:
        net = ProxyNet(ToxiproxyClient(toxiproxy.url), NODES, prefix="aae-test-")
        local = LocalCluster(tmp_path / "cluster", CONFIG, dial=net.dial)
        net.setup(local.ports)
        try:
            with local, local.client(timeout_ms=2000) as client:
                local.start()
                wait_for(
                    "everyone sees everyone",
                    lambda: all(len(admin(client, n, "status")["up"]) == len(NODES) for n in NODES),
                )
                net.cut([(n, victim) for n in NODES if n != victim], "refuse")
                keys = [f"k{i}" for i in range(300) if victim in walk(f"k{i}")[:3]][:60]
                for key in keys:
                    coordinator = next(p for p in walk(key)[:3] if p != victim)
                    put = client.put(key, key.upper(), node=coordinator)
                    assert victim not in put.replicas and not put.fallbacks
                assert hints_anywhere(client) == 0
                assert all(admin(client, victim, "replica", key=k)["empty"] for k in keys)
                net.uncut()
                wait_for("all replicas agree", lambda: replicas_agree(client), timeout_s=20)
                for key in keys:
                    assert admin(client, victim, "replica", key=key)["values"] == [key.upper()]
        finally:
            net.teardown()


def test_a_deleted_key_stays_deleted_after_repair(cluster: LocalCluster) -> None:
    key = next(f"k{i}" for i in range(100) if walk(f"k{i}")[2] == "n5")
    primaries = walk(key)[:3]
    with cluster.client(timeout_ms=2000) as client:
        client.put(key, "old", node=primaries[0], w=3)
        cluster.kill("n5")  # keeps "old" while the key is deleted
        wait_for("n5 is seen down", lambda: sees_down(client, primaries[0], "n5"))
        got = client.get(key, node=primaries[0])
        client.delete(key, context=got.context, node=primaries[0])
        cluster.start_node("n5")
        wait_for("n5 is seen up", lambda: sees_up(client, primaries[0], "n5"))

        def gone_everywhere() -> bool:
            for node in NODES:
                replica = admin(client, node, "replica", key=key)
                if not replica["empty"] or replica["hints"]:
                    return False
            return True

        wait_for("the tombstone is reaped everywhere", gone_everywhere, timeout_s=20)
        time.sleep(2.0)  # several more anti-entropy and handoff rounds
        assert gone_everywhere()
        assert not client.get(key, node="n5", r=3).found


class Writer(threading.Thread):
    """Writes unique keys, one after another, to random running nodes, until told to stop;
    records the keys whose writes were acknowledged."""

    def __init__(self, cluster: LocalCluster) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.acked: dict[str, int] = {}
        self.failed = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        rng = random.Random(7)
        endpoints = dict(self.cluster.endpoints)  # the nodes there were when it started
        with Client(endpoints, timeout_ms=1000) as client:
            i = 0
            while not self.stopping.is_set():
                i += 1
                node = rng.choice([n for n in self.cluster.nodes if n in endpoints])
                try:
                    client.put(f"load-{i}", i, node=node)
                except ClientError:
                    self.failed += 1
                    continue
                self.acked[f"load-{i}"] = i


def test_no_acknowledged_write_is_lost_across_a_join_and_a_leave_under_load(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(CONFIG, nodes=("n1", "n2", "n3", "n4"))
    with LocalCluster(tmp_path / "cluster", config) as local:
        local.start()
        writer = Writer(local)
        writer.start()
        try:
            time.sleep(0.5)  # writes before, during and after each change
            local.join("n5")
            local.wait_settled(30)
            assert local.leave("n2", timeout_s=60)
            local.wait_settled(30)
            time.sleep(0.5)
        finally:
            writer.stopping.set()
            writer.join(10)
        assert len(writer.acked) > 100, (len(writer.acked), writer.failed)
        members = {n: local.endpoints[n] for n in local.nodes}
        with Client(members, timeout_ms=3000) as client:
            ring = Ring.from_json(admin(client, "n1", "ring"))
            assert sorted(ring.nodes) == ["n1", "n3", "n4", "n5"]

            def converged() -> bool:
                reports = {n: admin(client, n, "merkle") for n in local.nodes}
                if any(r["hints"] or r["misplaced"] for r in reports.values()):
                    return False
                return all(
                    len({reports[p]["roots"][str(q)] for p in ring.partition_primaries(q, 3)}) == 1
                    for q in range(ring.partitions)
                )

            wait_for("every replica agrees on the new ring", converged, timeout_s=30)
            lost = [
                key for key, value in writer.acked.items() if client.get(key, r=3).values != [value]
            ]
        assert lost == []
