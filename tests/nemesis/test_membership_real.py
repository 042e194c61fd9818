"""Membership changes on real node processes behind Toxiproxy (``zynamo.env.real``): a node
that has just joined can be sent away at once — the leave waits until the newcomer is in the
ring, then it hands its partitions back and stops; and a dead node is removed by force even
through a member that never heard from it, whose removal a better-informed peer undoes."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from cluster.core import ClusterConfig
from nemesis.base import FaultOp
from nemesis.combined import build_nemesis
from zynamo.env.real import RealEnvironment

NODES = ("n1", "n2", "n3")
CONFIG = ClusterConfig(nodes=NODES, n=3, r=2, w=2, anti_entropy_interval_ms=0)


def test_a_node_that_joins_can_leave_at_once(tmp_path: Path) -> None:
    with RealEnvironment(tmp_path, CONFIG, seed=1) as env:
        env.start()
        nemesis = build_nemesis("membership", env=env, rng=random.Random(1))
        try:
            joined = nemesis.invoke(FaultOp("start-membership", {"mode": "join"}))
            assert joined["joined"] == ["n4"] and "n4" in env.processes.nodes
            # At once, before gossip had time to put n4 in the ring.
            gone = nemesis.invoke(FaultOp("stop-membership"))
            assert gone["left"] == ["n4"], gone
            assert "n4" not in env.processes.nodes
            log = (tmp_path / "cluster" / "n4" / "node.log").read_text()
            assert "n4 handed off all its data and has left the cluster" in log
            for node in NODES:  # every member saw it leave
                assert env.admin(node, "status")["peers"]["n4"]["status"] == "left"
        finally:
            try:
                nemesis.heal()
            finally:
                env.stop()  # even when the heal fails: no node process is left behind


def test_a_forced_removal_through_a_member_that_never_heard_from_the_node_completes(
    tmp_path: Path,
) -> None:
    """n1 hears neither n2 nor n3 (their links to it are cut from the start): it records n2's
    removal at generation 0, n3 knows generation 1 and, once the links heal, n2 is back as a
    joiner everywhere. The removal is asked again from n1's merged view, and sticks."""
    with RealEnvironment(tmp_path, CONFIG, seed=1) as env:
        net, cluster = env.network, env.processes
        assert net is not None
        net.cut([("n2", "n1"), ("n3", "n1")], "refuse")
        env.start()
        deadline = time.monotonic() + 20
        while env.admin("n3", "status")["peers"]["n2"]["generation"] < 1:
            assert time.monotonic() < deadline, "n3 never heard from n2"
            time.sleep(0.1)
        cluster.stop_node("n2")
        healing = threading.Timer(3.0, net.heal)
        healing.start()
        try:
            membership = env.membership
            assert membership is not None
            membership.leave("n2")
            for node in ("n1", "n3"):
                seen = env.admin(node, "status")["peers"]["n2"]
                assert seen["status"] == "left" and seen["generation"] == 1
                assert "n2" not in env.admin(node, "ring")["owners"]
        finally:
            healing.join()
            env.stop()
