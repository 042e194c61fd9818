"""Membership changes on real node processes behind Toxiproxy (``zynamo.env.real``): a node
that has just joined can be sent away at once — the leave waits until the newcomer is in the
ring, then it hands its partitions back and stops."""

from __future__ import annotations

import random
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
            nemesis.heal()
            env.stop()
