"""The simulator fails a run on trouble nobody asked for: a node's warning-level log line stops
it with ``UnexpectedLog``, unless the run declared that it expects that line."""

from __future__ import annotations

import pytest

from cluster.core import ClusterConfig
from cluster.core.messages import AaeNodes
from cluster.sim import Simulator, UnexpectedLog

NODES = ("n1", "n2", "n3")
GARBAGE = AaeNodes("n2", 0, [["not", "a", "node"]])


def test_a_dropped_peer_message_fails_the_run_and_names_the_node() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=3)
    sim.run_for(500)
    sim.send("n2", "n1", GARBAGE)
    with pytest.raises(UnexpectedLog, match=r"n1 logged at warning level .*dropped AaeNodes"):
        sim.run_for(100)


def test_an_expected_warning_is_recorded_and_the_run_goes_on() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=3, expected_logs=[r"dropped AaeNodes"])
    sim.run_for(500)
    sim.send("n2", "n1", GARBAGE)
    sim.run_for(100)
    assert [text for _, node, level, text in sim.logs if level == "warning"] == [
        "dropped AaeNodes from n2: aae-nodes: bad node ['not', 'a', 'node']:"
        " expected [partition, index, hash]"
    ]
    assert sim.put("k", 1, node="n1").ok  # still serving


def test_expect_log_declares_a_pattern_later_in_the_run() -> None:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=3)
    sim.run_for(500)
    sim.expect_log(r"^dropped AaeNodes from n2")
    sim.send("n2", "n1", GARBAGE)
    sim.run_for(100)
    assert any(level == "warning" for _, _, level, _ in sim.logs)
    sim.send("n2", "n3", GARBAGE)  # the same pattern covers any node
    sim.run_for(100)
    assert [node for _, node, level, _ in sim.logs if level == "warning"] == ["n1", "n3"]
