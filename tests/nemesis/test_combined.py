"""The combined nemesis on an in-memory cluster: dispatch, what each fault reports, and a
heal-all that is idempotent and keeps healing when one step fails."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from nemesis.base import FaultOp
from nemesis.combined import build_nemesis
from nemesis.environment import ClusterFaults
from nemesis.errors import HealError

NODES = ("n1", "n2", "n3", "n4", "n5")


class FakeCluster:
    """Node processes as flags: running, paused, a clock skew reachable through ``admin``."""

    def __init__(self, broken_restart: str | None = None) -> None:
        self.nodes = NODES
        self.endpoints = {n: f"tcp://127.0.0.1:{20000 + i}" for i, n in enumerate(NODES)}
        self.running = set(NODES)
        self.paused: set[str] = set()
        self.skew: dict[str, float] = dict.fromkeys(NODES, 0.0)
        self.broken_restart = broken_restart
        self.admin_calls = 0

    def is_running(self, node: str) -> bool:
        return node in self.running

    def is_paused(self, node: str) -> bool:
        return node in self.paused

    def kill(self, node: str) -> None:
        self.running.discard(node)
        self.paused.discard(node)
        self.skew[node] = 0.0  # the skew lives in the process

    def start_node(self, node: str, timeout_s: float = 1.0) -> None:
        if node == self.broken_restart:
            raise RuntimeError(f"node {node} did not answer a ping")
        self.running.add(node)

    def pause(self, node: str) -> None:
        self.paused.add(node)

    def resume(self, node: str) -> None:
        self.paused.discard(node)

    def admin(self, node: str, op: str, **args: Any) -> dict[str, Any]:
        assert op == "clock"
        assert node in self.running and node not in self.paused, f"{node} cannot answer"
        self.admin_calls += 1
        if "offset_ms" in args:
            self.skew[node] = float(args["offset_ms"])
        self.skew[node] += float(args.get("bump_ms", 0))
        return {"clock_skew_ms": self.skew[node]}


class MemberCluster(FakeCluster):
    def __init__(self) -> None:
        super().__init__()
        self.members = set(NODES)

    def leave(self, node: str) -> None:
        self.members.discard(node)

    def join(self, node: str) -> None:
        self.members.add(node)


def nemesis_for(cluster: FakeCluster, packages: str, **options: Any) -> Any:
    return build_nemesis(
        packages,
        env=ClusterFaults(cluster, admin=cluster.admin),
        rng=random.Random(7),
        options=options,
    )


def test_kill_reports_its_nodes_and_stop_restarts_them() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "kill")
    killed = nemesis.invoke(FaultOp("start-kill", {"targets": "minority"}))["nodes"]
    assert len(killed) == 2
    assert cluster.running == set(NODES) - set(killed)
    assert nemesis.invoke(FaultOp("stop-kill"))["nodes"] == killed
    assert cluster.running == set(NODES)


def test_process_faults_do_not_overlap() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "kill,pause")
    killed = nemesis.invoke(FaultOp("start-kill", {"targets": "majority"}))["nodes"]
    paused = nemesis.invoke(FaultOp("start-pause", {"targets": "all"}))["nodes"]
    assert set(paused) == set(NODES) - set(killed)
    assert cluster.paused == set(paused)


def test_clock_bump_skews_targets_within_bounds_and_stop_resets() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "clock", clock_max_skew_ms=300)
    done = nemesis.invoke(FaultOp("start-clock", {"mode": "bump", "targets": "all"}))
    assert done["mode"] == "bump"
    assert set(done["offsets"]) == set(NODES)
    assert all(0 < abs(skew) <= 300 for skew in done["offsets"].values())
    assert cluster.skew == done["offsets"]
    nemesis.invoke(FaultOp("stop-clock"))
    assert set(cluster.skew.values()) == {0.0}


def test_clock_strobe_flips_for_its_duration() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "clock")
    value = {"mode": "strobe", "targets": ["n2"], "delta_ms": 500, "period_ms": 10}
    started = time.monotonic()
    done = nemesis.invoke(FaultOp("start-clock", {**value, "duration_ms": 200}))
    assert time.monotonic() - started >= 0.2
    assert done["nodes"] == ["n2"] and done["delta_ms"] == 500
    assert done["flips"] >= 5
    assert cluster.skew["n2"] in (0.0, 500.0)
    assert all(cluster.skew[n] == 0.0 for n in NODES if n != "n2")


def test_heal_cuts_a_running_strobe_short_and_resets_the_clock() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "clock")
    op = FaultOp(
        "start-clock",
        {
            "mode": "strobe",
            "targets": "all",
            "delta_ms": 900,
            "period_ms": 20,
            "duration_ms": 30_000,
        },
    )
    strobe = threading.Thread(target=nemesis.invoke, args=(op,))
    started = time.monotonic()
    strobe.start()
    time.sleep(0.2)
    nemesis.heal()
    strobe.join(5)
    assert not strobe.is_alive()
    assert time.monotonic() - started < 5
    assert set(cluster.skew.values()) == {0.0}


def test_heal_all_undoes_every_fault_and_is_idempotent() -> None:
    cluster = FakeCluster()
    nemesis = nemesis_for(cluster, "kill,pause,clock")
    nemesis.invoke(FaultOp("start-kill", {"targets": "one"}))
    nemesis.invoke(FaultOp("start-clock", {"mode": "bump", "targets": "all"}))
    nemesis.invoke(FaultOp("start-pause", {"targets": "minority"}))
    cluster.paused.add("n5")  # paused by someone else, e.g. an interrupted earlier run
    nemesis.heal()
    assert cluster.running == set(NODES)
    assert cluster.paused == set()
    assert set(cluster.skew.values()) == {0.0}
    calls = cluster.admin_calls
    nemesis.heal()
    assert cluster.running == set(NODES) and cluster.paused == set()
    assert cluster.admin_calls > calls  # the clocks are reset again: nothing is assumed


def test_heal_keeps_going_when_a_step_fails_and_reports_it() -> None:
    cluster = FakeCluster(broken_restart="n1")
    nemesis = nemesis_for(cluster, "kill,pause,clock")
    nemesis.invoke(FaultOp("start-kill", {"targets": ["n1"]}))
    nemesis.invoke(FaultOp("start-pause", {"targets": ["n2", "n3"]}))
    cluster.skew["n4"] = 1234.0
    with pytest.raises(HealError, match="restart n1: node n1 did not answer") as caught:
        nemesis.heal()
    assert [f.split(":")[0] for f in caught.value.failures] == ["kill"]
    assert cluster.paused == set()  # the pause was healed all the same ...
    assert cluster.skew["n4"] == 0.0  # ... and the clocks
    cluster.broken_restart = None
    nemesis.heal()  # a later heal finishes the job
    assert cluster.running == set(NODES)


def test_ops_outside_the_packages_or_malformed_are_refused() -> None:
    nemesis = nemesis_for(FakeCluster(), "kill")
    with pytest.raises(ValueError, match=r"pause is not among this run's faults \(kill\)"):
        nemesis.invoke(FaultOp("start-pause", {"targets": "one"}))
    with pytest.raises(ValueError, match="expected start-<fault> or stop-<fault>"):
        nemesis.invoke(FaultOp("explode-kill"))
    with pytest.raises(ValueError, match="unknown target 'n9'"):
        nemesis.invoke(FaultOp("start-kill", {"targets": "n9"}))


def test_network_faults_need_the_proxies() -> None:
    with pytest.raises(ValueError, match="partition, latency need the per-link proxies"):
        nemesis_for(FakeCluster(), "partition,latency")


def test_membership_needs_join_and_leave() -> None:
    with pytest.raises(ValueError, match="membership need cluster join/leave"):
        nemesis_for(FakeCluster(), "membership")
    cluster = MemberCluster()
    nemesis = nemesis_for(cluster, "membership")
    left = nemesis.invoke(FaultOp("start-membership", {"targets": "one"}))["left"]
    assert len(left) == 1 and cluster.members == set(NODES) - set(left)
    nemesis.heal()
    assert cluster.members == set(NODES)
