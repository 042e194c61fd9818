"""Storage faults on real node processes (``zynamo.env.real``): a power loss of every replica at
once loses acknowledged writes with ``--sync off`` and none with ``--sync full``; a node whose
database file was bit-flipped while it was down refuses to start with one clear log line, and
the nemesis removes it by force rather than let it serve what the flip made of its data."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from cluster.core import ClusterConfig
from cluster.net import Client, ClientError
from cluster.storage import REFUSAL
from nemesis.base import FaultOp
from nemesis.combined import build_nemesis
from zynamo.env.real import RealEnvironment

NODES = ("n1", "n2", "n3")
CONFIG = ClusterConfig(nodes=NODES, n=3, r=2, w=2, anti_entropy_interval_ms=0)


def _acknowledged(client: Client, count: int) -> list[str]:
    acked = []
    for i in range(count):
        try:
            client.put(f"k{i}", i)
            acked.append(f"k{i}")
        except ClientError:
            pass
    return acked


def _found(client: Client, keys: list[str]) -> set[str]:
    """The keys every replica answers for with a value (a read that errs, e.g. while a node
    reconnects after its restart, is tried again)."""
    found = set()
    for key in keys:
        for _ in range(20):
            try:
                if client.get(key, r=3).values:
                    found.add(key)
                break
            except ClientError:
                time.sleep(0.1)
    return found


@pytest.mark.parametrize(("sync", "loses"), [("off", True), ("full", False)])
def test_power_loss_on_every_replica_loses_acknowledged_writes_unless_synced(
    tmp_path: Path, sync: str, loses: bool
) -> None:
    with RealEnvironment(tmp_path, CONFIG, seed=1, sync=sync) as env:
        env.start()
        nemesis = build_nemesis("disk", env=env, rng=random.Random(1))
        try:
            with Client(env.processes.endpoints, timeout_ms=3000) as client:
                acked = _acknowledged(client, 40)
                assert len(acked) == 40
                done = nemesis.invoke(
                    FaultOp("start-disk", {"mode": "power-loss", "targets": "all"})
                )
                lost = sum(r["transactions_lost"] for r in done["lost"].values())
                nemesis.invoke(FaultOp("stop-disk"))
                env.wait_ready(20)
                found = _found(client, acked)
        finally:
            try:
                nemesis.heal()
            finally:
                env.stop()  # even when the heal fails: no node process is left behind
    if loses:
        assert lost > 0 and found != set(acked)
    else:
        assert lost == 0 and found == set(acked)


# Once flaky (a forced removal that a newer generation of the node undid could not be asked
# again, so the wait for it ran out): the removal is now asked again until it sticks
# (cluster.core.leave_and_wait, Membership.remove).
def test_a_bit_flipped_store_is_refused_and_its_node_removed(tmp_path: Path) -> None:
    with RealEnvironment(tmp_path, CONFIG, seed=1) as env:
        env.start()
        nemesis = build_nemesis("disk", env=env, rng=random.Random(1))
        try:
            with Client(env.processes.endpoints, timeout_ms=3000) as client:
                acked = _acknowledged(client, 30)
                nemesis.invoke(FaultOp("start-disk", {"mode": "bitflip", "targets": ["n2"]}))
                back = nemesis.invoke(FaultOp("stop-disk"))
                assert REFUSAL in back["refused"]["n2"] and back["removed"] == ["n2"]
                log = (tmp_path / "cluster" / "n2" / "node.log").read_text()
                assert len([line for line in log.splitlines() if REFUSAL in line]) == 1
                assert "fails its checksum" in back["refused"]["n2"]
                assert "n2" not in env.processes.nodes
                # the others still serve every acknowledged write, with the right values
                for key in acked:
                    assert client.get(key, r=2, node="n1").values == [int(key[1:])]
        finally:
            try:
                nemesis.heal()
            finally:
                env.stop()  # even when the heal fails: no node process is left behind
