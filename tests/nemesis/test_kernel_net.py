"""Kernel-level partitions (``--net kernel``): nodes in network namespaces of their own, links cut
by nftables rules. What a user relies on: the run's namespaces are created and all gone after it
(even when it fails half-way, or an earlier run was killed), a cut link really drops packets in
the kernel and a heal restores it, and a one-way cut is noticed by the failure detector of the
node that no longer hears its peer — and only by it.

Needs root, ``ip`` and ``nft`` (``apt-get install nftables``); skipped otherwise."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.core import ClusterConfig
from cluster.net import Client, LocalCluster
from nemesis.base import FaultOp
from nemesis.combined import CombinedNemesis, build_nemesis
from nemesis.environment import ClusterFaults
from nemesis.kernel_net import KernelNet
from nemesis.netns import NamespaceTopology, find_tool, list_namespaces, sweep_stale
from zynamo.env.real import RealEnvironment

if os.geteuid() != 0:
    pytest.skip("kernel partitions need root (network namespaces)", allow_module_level=True)
if find_tool("ip") is None or find_tool("nft") is None:
    pytest.skip(
        "kernel partitions need `ip` and `nft` (apt-get install iproute2 nftables)",
        allow_module_level=True,
    )

NODES = ("n1", "n2", "n3")


@dataclass
class Rig:
    topology: NamespaceTopology
    cluster: LocalCluster
    net: KernelNet
    nemesis: CombinedNemesis
    client: Client


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    directory = tmp_path_factory.mktemp("kernel-net")
    config = ClusterConfig(nodes=NODES, partitions=16)
    with NamespaceTopology() as topology:
        cluster = LocalCluster(directory / "cluster", config, hosting=topology)
        net = KernelNet(topology, NODES, lambda node: cluster.ports[node])
        with cluster:
            cluster.start()
            env = ClusterFaults(cluster, network=net)
            nemesis = build_nemesis(("partition",), env=env, rng=random.Random(3), options=None)
            try:
                with Client(cluster.endpoints, timeout_ms=1000) as client:
                    yield Rig(topology, cluster, net, nemesis, client)
            finally:
                nemesis.heal()
                env.close()


@pytest.fixture(autouse=True)
def healed_after(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "rig" in request.fixturenames:
        shared: Rig = request.getfixturevalue("rig")
        shared.nemesis.heal()
        shared.cluster.wait_ready()


def eventually(check: Callable[[], bool], within_s: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"not within {within_s} s: {check.__doc__ or check}")
        time.sleep(0.02)
    return time.monotonic() - started


def up_view(rig: Rig, node: str) -> set[str]:
    return set(rig.client.admin(node, "status")["up"])


def connects(rig: Rig, src: str, dst: str) -> bool:
    """Whether a TCP connection from ``src``'s namespace to ``dst``'s port is made in 1 s."""
    address, port = rig.topology.address(dst), rig.cluster.ports[dst]
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({address!r}, {port}), timeout=1).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    argv = ["ip", "netns", "exec", rig.topology.namespace(src), sys.executable, "-c", probe]
    return subprocess.run(argv, capture_output=True, timeout=10).returncode == 0


def test_each_node_has_its_own_namespace_and_address(rig: Rig) -> None:
    names = set(rig.topology.namespaces())
    assert {rig.topology.namespace(node) for node in NODES} | {rig.topology.hub} == names
    addresses = {rig.topology.address(node) for node in NODES}
    assert len(addresses) == len(NODES)
    # the harness reaches every node on its control socket, from outside the namespaces
    assert all(rig.client.admin(node, "ping") is not None for node in NODES)


def test_a_two_way_cut_drops_packets_in_the_kernel_and_heal_restores(rig: Rig) -> None:
    assert connects(rig, "n1", "n2")
    done = rig.nemesis.invoke(
        FaultOp("start-partition", {"grudge": {"n1": ["n2"], "n2": ["n1"]}, "mode": "drop"})
    )
    assert sorted(done["links"]) == ["n1->n2", "n2->n1"]
    assert not connects(rig, "n1", "n2") and not connects(rig, "n2", "n1")
    assert connects(rig, "n1", "n3") and connects(rig, "n3", "n2")

    def noticed() -> bool:
        """n1 and n2 see each other down; n3 still sees both"""
        return (
            "n2" not in up_view(rig, "n1")
            and "n1" not in up_view(rig, "n2")
            and up_view(rig, "n3") == set(NODES)
        )

    eventually(noticed, 5.0)
    assert sum(rig.net.state().values()) > 0  # the kernel's counters saw the dropped packets
    stopped = rig.nemesis.invoke(FaultOp("stop-partition"))
    assert "packets dropped by the kernel" in stopped["effect"]["summary"]
    assert rig.net.state() == {}
    assert connects(rig, "n1", "n2")

    def flowing() -> bool:
        """every detector sees everyone up and n1 writes with n2 as a replica again"""
        return all(up_view(rig, node) == set(NODES) for node in NODES)

    eventually(flowing, 5.0)


def test_refuse_mode_resets_connections_at_once(rig: Rig) -> None:
    rig.nemesis.invoke(
        FaultOp("start-partition", {"shape": "isolate", "node": "n3", "mode": "refuse"})
    )
    started = time.monotonic()
    assert not connects(rig, "n1", "n3")
    assert time.monotonic() - started < 0.9  # refused at once, not a 1 s connect timeout

    def noticed() -> bool:
        """n3 sees only itself up"""
        return up_view(rig, "n3") == {"n3"}

    eventually(noticed, 5.0)


def test_a_one_way_kernel_cut_is_noticed_by_the_failure_detector(rig: Rig) -> None:
    done = rig.nemesis.invoke(
        FaultOp("start-partition", {"shape": "one-way", "src": "n2", "dst": "n1", "mode": "drop"})
    )
    assert done["links"] == ["n2->n1"]

    def noticed() -> bool:
        """n1, which no longer hears n2, marks it down"""
        return "n2" not in up_view(rig, "n1")

    eventually(noticed, 5.0)
    time.sleep(1.0)  # longer than the detector needed: the other direction still flows
    assert up_view(rig, "n2") == set(NODES)
    assert rig.net.state().keys() == {("n2", "n1")}
    rig.nemesis.invoke(FaultOp("stop-partition"))

    def back() -> bool:
        """n1 sees n2 up again"""
        return "n2" in up_view(rig, "n1")

    eventually(back, 5.0)


def ours() -> set[str]:
    """This process's namespaces and control-socket directories that exist now."""
    prefix = f"zyn-{os.getpid()}-"
    directories = {p.name for p in Path(tempfile.gettempdir()).glob(prefix + "*")}
    return {n for n in list_namespaces() if n.startswith(prefix)} | directories


def test_namespaces_are_all_deleted_after_a_run_that_fails_half_way(tmp_path: Path) -> None:
    config = ClusterConfig(nodes=NODES, partitions=16)
    before = ours()
    env = RealEnvironment(tmp_path, config, net="kernel")
    with pytest.raises(RuntimeError, match="half-way"), env:
        env.start()
        made = ours() - before
        assert len(made) == len(NODES) + 2  # a namespace per node, the hub, the sockets' dir
        assert env.network is not None
        env.network.cut([("n1", "n2")], "drop")
        pids = [env.admin(node, "ping") and env.processes.pid(node) for node in NODES]
        raise RuntimeError("the harness failed half-way")
    assert not made & ours()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)  # no node outlives its run


def test_namespaces_are_all_deleted_after_a_normal_run(tmp_path: Path) -> None:
    before = ours()
    with RealEnvironment(tmp_path, ClusterConfig(nodes=("n1",), partitions=8), net="kernel") as env:
        env.start()
        made = ours() - before
        assert len(made) == 3
        env.stop()
    assert not made & ours()


def test_a_killed_runs_namespaces_are_swept_and_no_one_elses(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)  # a pid that has exited
    stale = f"zyn-{dead_pid}-1-n1"
    foreign = "zynamotest-keep-1"
    mine = f"zyn-{os.getpid()}-999-n1"
    for name in (stale, foreign, mine):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        deleted = sweep_stale()
        present = set(list_namespaces())
        assert stale in deleted and stale not in present
        assert foreign in present and mine in present
    finally:
        for name in (stale, foreign, mine):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
