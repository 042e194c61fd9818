"""The fault schedule: alternation per package, a stop for every start, determinism by seed,
and option validation that names the option and the accepted values."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis.base import FaultOp
from nemesis.faults import BUILTIN_FAULTS
from nemesis.options import NemesisOptions, coerce_options
from nemesis.registry import parse_packages
from nemesis.schedule import Schedule
from nemesis.shapes import PARTITION_MODES, PARTITION_SHAPES
from nemesis.targets import TARGETS

NODES = ("n1", "n2", "n3", "n4", "n5")

PACKAGES = tuple(fault.name for fault in BUILTIN_FAULTS)
package_sets = st.lists(st.sampled_from(PACKAGES), min_size=1, unique=True)


def run(schedule: Schedule, steps: int) -> list[FaultOp]:
    ops = []
    for _ in range(steps):
        op = schedule.next_op()
        assert op is not None
        ops.append(op)
    return ops + schedule.final_ops()


@given(packages=package_sets, seed=st.integers(), steps=st.integers(0, 60))
def test_each_package_alternates_start_and_stop_and_every_start_is_stopped(
    packages: list[str], seed: int, steps: int
) -> None:
    ops = run(Schedule(packages, 1.0, random.Random(seed), NODES), steps)
    for package in packages:
        mine = [op.f for op in ops if op.fault == package]
        assert mine == [f"start-{package}", f"stop-{package}"] * (len(mine) // 2)
    assert {op.fault for op in ops} <= set(packages)


@given(packages=package_sets, seed=st.integers(), steps=st.integers(1, 40))
def test_same_seed_same_schedule(packages: list[str], seed: int, steps: int) -> None:
    first = run(Schedule(packages, 1.0, random.Random(seed), NODES), steps)
    again = run(Schedule(packages, 1.0, random.Random(seed), NODES), steps)
    assert first == again


def test_different_seeds_give_different_schedules() -> None:
    runs = {
        tuple(op.f for op in run(Schedule(PACKAGES, 1.0, random.Random(seed), NODES), 12))
        for seed in range(10)
    }
    assert len(runs) > 1


@given(seed=st.integers())
def test_start_values_come_from_the_options(seed: int) -> None:
    options = NemesisOptions(
        partition_shapes=("isolate", "bridge"),
        partition_modes=("drop",),
        kill_targets=("majority", ("n1", "n2")),
        latency_ms=70,
        jitter_ms=7,
        clock_modes=("bump", "strobe"),
    )
    schedule = Schedule(PACKAGES, 1.0, random.Random(seed), NODES, options)
    for op in run(schedule, 40):
        if not op.starts:
            assert op.value == {}
        elif op.fault == "partition":
            assert op.value["shape"] in ("isolate", "bridge")
            assert op.value["mode"] == "drop"
        elif op.fault == "kill":
            assert op.value["targets"] in ("majority", ["n1", "n2"])
        elif op.fault == "latency":
            assert (op.value["latency_ms"], op.value["jitter_ms"]) == (70, 7)
        elif op.fault == "clock":
            assert op.value["mode"] in ("bump", "strobe")
            assert op.value["targets"] in TARGETS
        else:
            assert "targets" in op.value


def test_final_ops_close_exactly_the_active_faults() -> None:
    schedule = Schedule(["partition", "kill", "pause"], 1.0, random.Random(3), NODES)
    for _ in range(7):
        schedule.next_op()
    active = schedule.active
    assert [op.f for op in schedule.final_ops()] == [f"stop-{p}" for p in active]
    assert schedule.active == ()
    assert schedule.final_ops() == []


def test_no_packages_means_no_ops() -> None:
    schedule = Schedule("none", 1.0, random.Random(0), NODES)
    assert schedule.next_op() is None
    assert schedule.final_ops() == []


def test_defaults_offer_every_shape_and_mode() -> None:
    options = NemesisOptions()
    assert options.partition_shapes == PARTITION_SHAPES
    assert options.partition_modes == PARTITION_MODES


def test_bad_values_name_the_option_and_what_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"nemesis package: 'fire'.*accepted: none, partition"):
        parse_packages("partition,fire")
    with pytest.raises(ValueError, match="cannot be combined"):
        parse_packages("none,kill")
    with pytest.raises(ValueError, match=r"partition_shapes: 'circle'.*accepted: halves"):
        NemesisOptions.from_mapping({"partition_shapes": "halves,circle"})
    with pytest.raises(ValueError, match=r"partition_modes: 'smash'.*accepted: refuse, drop"):
        NemesisOptions(partition_modes=("smash",))
    with pytest.raises(ValueError, match="latency_ms: expected an integer"):
        NemesisOptions.from_mapping({"latency_ms": "fast"})
    with pytest.raises(ValueError, match="unknown nemesis options colour"):
        NemesisOptions.from_mapping({"colour": "red"})
    with pytest.raises(ValueError, match=r"kill_targets: unknown target 'n9'"):
        Schedule("kill", 1.0, random.Random(0), NODES, {"kill_targets": "one,n9"})
    with pytest.raises(ValueError, match="nemesis interval"):
        Schedule("kill", 0, random.Random(0), NODES)


def test_options_read_from_strings_and_from_a_wider_settings_object() -> None:
    options = NemesisOptions.from_mapping(
        {"kill_targets": "one,n1+n3", "latency_ms": "25", "partition_modes": "drop"}
    )
    assert options.kill_targets == ("one", ("n1", "n3"))
    assert options.latency_ms == 25
    assert options.partition_modes == ("drop",)
    settings = SimpleNamespace(partition_shapes=("isolate",), partition_mode="refuse", seed=4)
    coerced = coerce_options(settings)
    assert coerced.partition_shapes == ("isolate",)
    assert coerced.partition_modes == ("refuse",)
    assert coerce_options(None) == NemesisOptions()
