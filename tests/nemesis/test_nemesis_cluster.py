"""The nemesis against a real local cluster behind per-link proxies (the embedded Toxiproxy as a
child process): what a user of ``zynamo test`` relies on each fault doing, and heal-all leaving
nothing behind. One cluster is shared by the module; every test heals it afterwards."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cluster.core.config import ClusterConfig
from cluster.core.ring import Ring
from cluster.net.client import Client, ClientError
from cluster.net.local import LocalCluster
from nemesis.base import FaultOp
from nemesis.combined import CombinedNemesis, build_nemesis
from nemesis.environment import ClusterFaults
from nemesis.network import ProxyNet
from nemesis.toxiproxy import ToxiproxyClient, ToxiproxyProcess

NODES = ("n1", "n2", "n3", "n4", "n5")
PACKAGES = ("partition", "kill", "pause", "clock", "latency")
SHORT_MS = 400  # client-side timeout for requests expected to fail


@dataclass
class Rig:
    cluster: LocalCluster
    net: ProxyNet
    nemesis: CombinedNemesis
    client: Client
    config: ClusterConfig


@contextmanager
def running_rig(directory: Path) -> Iterator[Rig]:
    """A 5-node cluster behind its per-link proxies and the nemesis; everything is healed and
    stopped on the way out."""
    config = ClusterConfig(nodes=NODES, partitions=16)
    with ToxiproxyProcess(log_path=directory / "toxiproxy.log") as toxiproxy:
        net = ProxyNet(ToxiproxyClient(toxiproxy.url), NODES, prefix="nemesis-test-")
        cluster = LocalCluster(directory / "cluster", config, dial=net.dial)
        net.setup(cluster.ports)
        try:
            with cluster:
                cluster.start()
                env = ClusterFaults(cluster, network=net)
                nemesis = build_nemesis(PACKAGES, env=env, rng=random.Random(11), options=None)
                try:
                    with Client(cluster.endpoints, timeout_ms=1000) as client:
                        yield Rig(cluster, net, nemesis, client, config)
                finally:
                    nemesis.heal()
                    nemesis.teardown()
                    env.close()
        finally:
            net.teardown()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with running_rig(tmp_path_factory.mktemp("nemesis-cluster")) as shared:
        yield shared


@pytest.fixture
def fresh_rig(tmp_path: Path) -> Iterator[Rig]:
    """A cluster of its own, whose failure detectors have seen no earlier fault."""
    with running_rig(tmp_path) as fresh:
        yield fresh


@pytest.fixture(autouse=True)
def healed_after(rig: Rig) -> Iterator[None]:
    yield
    rig.nemesis.heal()
    rig.cluster.wait_ready()


def eventually(check: Callable[[], bool], within_s: float, step_s: float = 0.02) -> float:
    """Seconds until ``check()`` held; fails the test if it did not within ``within_s``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"not within {within_s} s: {check.__doc__ or check}")
        time.sleep(step_s)
    return time.monotonic() - started


def up_view(rig: Rig, node: str) -> set[str]:
    """The peers ``node``'s failure detector believes up (itself included)."""
    return set(rig.client.admin(node, "status")["up"])


def succeeds(action: Callable[[], Any]) -> bool:
    try:
        action()
    except ClientError:
        return False
    return True


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_drop_partition_is_noticed_and_healed_within_two_seconds(fresh_rig: Rig) -> None:
    # First in the file, so that it runs before the shared cluster exists: it times the nodes.
    rig = fresh_rig
    others = {"n1", "n3", "n4", "n5"}
    done = rig.nemesis.invoke(
        FaultOp("start-partition", {"shape": "isolate", "node": "n2", "mode": "drop"})
    )
    assert done["mode"] == "drop"
    cut = rig.net.state()
    assert all(cut[(src, dst)].enabled for src, dst in rig.net.links)  # connections stay open

    def noticed() -> bool:
        """every node's detector sees the other side of the partition down"""
        return up_view(rig, "n2") == {"n2"} and all("n2" not in up_view(rig, n) for n in others)

    noticed_s = eventually(noticed, 5.0)
    rig.nemesis.invoke(FaultOp("stop-partition"))
    c = rig.client

    def flowing() -> bool:
        """n2 coordinates quorum writes and every detector sees everyone up again"""
        return succeeds(lambda: c.put("after-drop", 1, node="n2", w=2, timeout_ms=SHORT_MS)) and (
            up_view(rig, "n2") == set(NODES) and all("n2" in up_view(rig, n) for n in others)
        )

    flowing_s = eventually(flowing, 5.0)
    assert noticed_s < 3.0, f"the drop partition was noticed after {noticed_s:.2f} s"
    assert flowing_s < 3.0, f"traffic flowed again {flowing_s:.2f} s after the heal"


def test_isolating_one_node_fails_its_quorum_ops_while_the_majority_serves(rig: Rig) -> None:
    done = rig.nemesis.invoke(
        FaultOp("start-partition", {"shape": "isolate", "node": "n1", "mode": "refuse"})
    )
    assert done["grudge"]["n1"] == ["n2", "n3", "n4", "n5"]
    assert done["mode"] == "refuse" and len(done["links"]) == 8
    c = rig.client

    def noticed() -> bool:
        """both sides see the partition"""
        return up_view(rig, "n1") == {"n1"} and all(
            "n1" not in up_view(rig, n) for n in ("n2", "n3", "n4", "n5")
        )

    # How fast is the next test's subject; detectors that saw earlier faults take longer.
    eventually(noticed, 10.0)
    for i in range(5):
        key = f"isolated-{i}"
        with pytest.raises(ClientError):
            c.put(key, i, node="n1", w=2, timeout_ms=SHORT_MS)
        with pytest.raises(ClientError):
            c.get(key, node="n1", r=2, timeout_ms=SHORT_MS)
    for i, node in enumerate(("n2", "n3", "n4", "n5") * 2):
        key = f"majority-{i}"
        c.put(key, i, node=node, w=2)
        assert c.get(key, node=node, r=2).values == [i]
    rig.nemesis.invoke(FaultOp("stop-partition"))
    eventually(lambda: succeeds(lambda: c.put("isolated-0", "back", node="n1", w=2)), 3.0)


def test_a_killed_node_restarts_with_its_acknowledged_data(rig: Rig) -> None:
    ring = Ring.build(NODES, rig.config.partitions)
    key = "survives-kill-9"
    victim = ring.primaries(key, rig.config.n)[0]
    written = rig.client.put(key, "acknowledged", node=victim, w=rig.config.n)
    assert victim in written.replicas
    old_pid = rig.cluster.pid(victim)
    done = rig.nemesis.invoke(FaultOp("start-kill", {"targets": [victim]}))
    assert done["nodes"] == [victim] and done["effect"]["mattered"]
    assert not rig.cluster.is_running(victim)
    with pytest.raises(ClientError):
        rig.client.get(key, node=victim, timeout_ms=SHORT_MS)
    restarted = rig.nemesis.invoke(FaultOp("stop-kill"))
    assert restarted["nodes"] == [victim]
    assert restarted["effect"]["summary"].startswith(f"{victim}: down ")
    assert rig.cluster.pid(victim) != old_pid
    replica = rig.client.admin(victim, "replica", key=key)
    assert replica["values"] == ["acknowledged"]


def test_a_paused_node_times_out_and_serves_after_resume(rig: Rig) -> None:
    victim = "n3"
    rig.client.put("paused-key", 0, node=victim)  # a client already connected, as a workload's
    done = rig.nemesis.invoke(FaultOp("start-pause", {"targets": [victim]}))
    assert done["nodes"] == [victim] and done["effect"]["mattered"]
    assert process_state(rig.cluster.pid(victim)) == "T"
    with pytest.raises(ClientError) as failed:
        rig.client.get("paused-key", node=victim, timeout_ms=SHORT_MS)
    assert "timeout" in failed.value.message and not failed.value.definite
    resumed = rig.nemesis.invoke(FaultOp("stop-pause"))
    assert (
        resumed["nodes"] == [victim] and f"{victim} resumed after" in resumed["effect"]["summary"]
    )
    assert process_state(rig.cluster.pid(victim)) != "T"
    eventually(lambda: succeeds(lambda: rig.client.put("paused-key", 1, node=victim)), 3.0)


def test_clock_bump_is_visible_through_the_admin_channel_and_stop_resets_it(rig: Rig) -> None:
    done = rig.nemesis.invoke(FaultOp("start-clock", {"mode": "bump", "targets": ["n4", "n5"]}))
    assert set(done["offsets"]) == {"n4", "n5"}
    for node, offset in done["offsets"].items():
        assert offset != 0
        assert rig.client.admin(node, "status")["clock_skew_ms"] == offset
    assert rig.client.admin("n1", "status")["clock_skew_ms"] == 0
    rig.nemesis.invoke(FaultOp("stop-clock"))
    assert all(rig.client.admin(n, "status")["clock_skew_ms"] == 0 for n in NODES)


def test_latency_slows_the_links_of_its_targets(rig: Rig) -> None:
    def put_ms(node: str) -> float:
        started = time.monotonic()
        rig.client.put(f"slow-{node}", 1, node=node, w=2, timeout_ms=3000)
        return (time.monotonic() - started) * 1000

    done = rig.nemesis.invoke(
        FaultOp("start-latency", {"targets": ["n5"], "latency_ms": 300, "jitter_ms": 0})
    )
    assert done["nodes"] == ["n5"] and len(done["links"]) == 8
    assert put_ms("n5") >= 300  # every ack n5 waits for crosses a slowed link
    rig.nemesis.invoke(FaultOp("stop-latency"))
    assert all(state.healthy for state in rig.net.state().values())
    eventually(lambda: put_ms("n5") < 300, 3.0)


def test_heal_all_leaves_no_link_cut_no_process_paused_no_clock_skewed(rig: Rig) -> None:
    nemesis = rig.nemesis
    nemesis.invoke(FaultOp("start-clock", {"mode": "bump", "targets": "all"}))
    nemesis.invoke(FaultOp("start-partition", {"shape": "random-halves", "mode": "drop"}))
    nemesis.invoke(FaultOp("start-latency", {"targets": "one", "latency_ms": 50}))
    nemesis.invoke(FaultOp("start-kill", {"targets": ["n1"]}))
    nemesis.invoke(FaultOp("start-pause", {"targets": ["n2", "n3"]}))
    rig.net.cut([("n4", "n5")], "refuse")  # a cut outside any fault op is healed too
    assert not all(state.healthy for state in rig.net.state().values())
    nemesis.heal()
    nemesis.heal()  # idempotent
    states = rig.net.state()
    assert len(states) == len(NODES) * (len(NODES) - 1)
    assert all(state.enabled and not state.toxics for state in states.values())
    for node in NODES:
        assert rig.cluster.is_running(node)
        assert process_state(rig.cluster.pid(node)) != "T"
        assert rig.client.admin(node, "status")["clock_skew_ms"] == 0


def test_a_second_drop_partition_is_noticed_as_quickly(rig: Rig) -> None:
    others = {"n1", "n2", "n3", "n5"}

    def noticed() -> bool:
        """the isolated node's peers all see it down"""
        return all("n4" not in up_view(rig, n) for n in others)

    for _ in range(2):
        rig.nemesis.invoke(
            FaultOp("start-partition", {"shape": "isolate", "node": "n4", "mode": "drop"})
        )
        eventually(noticed, 3.0)
        time.sleep(1.0)  # the partition lasts a little, then the heal
        rig.nemesis.invoke(FaultOp("stop-partition"))
        eventually(lambda: all("n4" in up_view(rig, n) for n in others), 3.0)
