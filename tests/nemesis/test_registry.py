"""Faults plug in by name: a fault registered from here is accepted, scheduled, dispatched and
healed without editing any list, and the errors for unknown faults name it among the accepted."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from nemesis.base import FaultOp
from nemesis.combined import build_nemesis, check_op
from nemesis.environment import FaultEnvironment
from nemesis.options import NemesisOptions
from nemesis.registry import Fault, fault_names, parse_packages, register_fault, unregister_fault
from nemesis.schedule import Schedule
from zynamo import options as zynamo_options
from zynamo.env.memory import MemoryEnvironment

NODES = ("n1", "n2", "n3")


class DiskNemesis:
    """A stand-in for a new fault: fills a node's disk, and empties it on stop or heal."""

    def __init__(self, env: FaultEnvironment) -> None:
        self.env = env
        self.full: set[str] = set()
        self.heals = 0

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.starts:
            self.full.add(op.value["node"])
        else:
            self.full.clear()
        return {"full": sorted(self.full)}

    def heal(self) -> None:
        self.heals += 1
        self.full.clear()


@pytest.fixture
def disk() -> Iterator[list[DiskNemesis]]:
    built: list[DiskNemesis] = []

    def build(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> DiskNemesis:
        built.append(DiskNemesis(env))
        return built[-1]

    def start_value(opts: NemesisOptions, rng: random.Random) -> dict[str, Any]:
        return {"node": rng.choice(NODES)}

    register_fault(Fault("fill-disk", build, start_value))
    try:
        yield built
    finally:
        unregister_fault("fill-disk")


def test_a_registered_fault_is_accepted_scheduled_dispatched_and_healed(
    disk: list[DiskNemesis],
) -> None:
    assert "fill-disk" in fault_names() and parse_packages("kill,fill-disk") == (
        "kill",
        "fill-disk",
    )
    schedule = Schedule("fill-disk", 1.0, random.Random(3), NODES)
    start = schedule.next_op()
    assert start is not None and start.f == "start-fill-disk" and start.value["node"] in NODES
    env = MemoryEnvironment(NODES)
    env.start()
    nemesis = build_nemesis("fill-disk,kill", env=env, rng=random.Random(1))
    assert nemesis.invoke(start) == {"full": [start.value["node"]]}
    killed = nemesis.invoke(FaultOp("start-kill", {"targets": "one"}))["nodes"]
    assert env.running == set(NODES) - set(killed)
    nemesis.heal()
    assert disk[-1].full == set() and disk[-1].heals == 1
    assert env.running == set(NODES)
    assert schedule.final_ops() == [FaultOp("stop-fill-disk")]


def test_errors_for_unknown_faults_name_the_registered_ones(disk: list[DiskNemesis]) -> None:
    with pytest.raises(ValueError, match=r"accepted: none, partition, .*membership, .*fill-disk"):
        parse_packages("flood")
    with pytest.raises(ValueError, match=r"fault one of partition, .*, fill-disk"):
        check_op(FaultOp("start-flood"))
    with pytest.raises(ValueError, match=r"--nemesis: 'flood' is not one of none, .*, fill-disk"):
        zynamo_options.TestOptions(nemesis=("flood",))
    assert zynamo_options.TestOptions(nemesis=("fill-disk",)).faults == ("fill-disk",)


def test_an_unregistered_fault_is_no_longer_accepted() -> None:
    register_fault(Fault("flood", lambda env, rng, opts: DiskNemesis(env)))
    unregister_fault("flood")
    assert "flood" not in fault_names()
    with pytest.raises(ValueError, match="'flood' is not accepted"):
        parse_packages("flood")


def test_names_are_unique_and_usable(disk: list[DiskNemesis]) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_fault(Fault("fill-disk", lambda env, rng, opts: DiskNemesis(env)))
    for bad in ("", "none", "a,b", "a+b"):
        with pytest.raises(ValueError, match="fault name"):
            register_fault(Fault(bad, lambda env, rng, opts: DiskNemesis(env)))


def test_a_fault_the_environment_cannot_support_is_refused_before_anything_runs() -> None:
    class NoNetwork(MemoryEnvironment):
        @property
        def network(self) -> None:
            return None

    with pytest.raises(ValueError, match="partition, latency need the per-link proxies"):
        build_nemesis("partition,latency,kill", env=NoNetwork(NODES), rng=random.Random(1))
