"""Dynamo under failure, many seeds, through the harness users run: every fault kind at once,
often, message loss and duplication included, on the simulator — then heal, recover and check.
Every replica of every key must end with the same siblings, no hint may be left behind, and
every acknowledged write must still be there or causally superseded (the lost-versions check),
also with nodes joining and leaving under load.

These are the harness's own workloads, nemesis and checkers (``zynamo test --env sim``), so
what they prove here is what a user's sweep proves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nemesis.options import NemesisOptions
from zynamo.options import TestOptions as Options
from zynamo.runner import RunResult, run_test

EVERY_FAULT = ("partition", "kill", "pause", "clock", "latency", "message")
CHAOS: dict[str, Any] = {
    "env": "sim",
    "time_limit_s": 20.0,
    "nemesis_interval_s": 0.7,  # a fault or a heal every 0.7 s of virtual time
    "recovery_s": 60.0,
    "concurrency": 6,
    "rate": 120.0,
    "ops_per_key": 40,
}


def chaos(tmp_path: Path, seed: int, **options: Any) -> RunResult:
    return run_test(
        Options(results_dir=tmp_path, seed=seed, **{**CHAOS, **options}), progress=lambda _: None
    )


def warnings_in_logs(result: RunResult) -> list[str]:
    return [
        line
        for log in sorted(result.directory.glob("n*.log"))
        for line in log.read_text().splitlines()
        if " warning " in line or " error " in line
    ]


def check(result: RunResult, checkers: tuple[str, ...], faults_at_least: int = 20) -> None:
    verdicts = result.results["checkers"]
    for name in checkers:
        assert verdicts[name]["valid"] is True, (name, verdicts[name])
    faults = verdicts["nemesis"]["operations"]
    assert faults >= faults_at_least, "the run should have seen real trouble"
    assert verdicts["stats"]["ops"] > 300
    assert warnings_in_logs(result) == []


@pytest.mark.parametrize("seed", range(8))
def test_every_replica_converges_and_no_acknowledged_write_is_lost(
    tmp_path: Path, seed: int
) -> None:
    result = chaos(tmp_path, seed, nemesis=EVERY_FAULT)
    check(result, ("set", "convergence", "lost-versions", "leftovers", "nemesis"))
    assert result.valid is True


@pytest.mark.parametrize(("versioning", "seed"), [("vclock", 100), ("lww", 102)])
def test_the_other_versionings_converge_too(tmp_path: Path, versioning: str, seed: int) -> None:
    # They lose concurrent adds by design (the set check says so); they must still converge,
    # leave no hint behind, and (vclock) lose no version other than by a shared clock.
    result = chaos(tmp_path, seed, nemesis=EVERY_FAULT, versioning=versioning)
    check(result, ("convergence", "lost-versions", "leftovers", "nemesis"))


@pytest.mark.parametrize("seed", range(200, 204))
def test_joins_and_leaves_under_load_and_faults_lose_no_acknowledged_write(
    tmp_path: Path, seed: int
) -> None:
    result = chaos(
        tmp_path,
        seed,
        nemesis=("membership", "message", "clock"),
        nemesis_interval_s=2.0,
        time_limit_s=30.0,
        nemesis_options=NemesisOptions(membership_modes=("leave-rejoin", "join")),
    )
    # Leaves wait for their handoff, in virtual time: fewer fault operations fit.
    check(result, ("set", "convergence", "lost-versions", "leftovers", "nemesis"), 10)
    assert result.valid is True


def test_the_cart_keeps_every_remove_through_the_same_chaos(tmp_path: Path) -> None:
    result = chaos(tmp_path, 7, workload="cart", nemesis=EVERY_FAULT)
    check(result, ("cart", "convergence", "lost-versions", "leftovers", "nemesis"))
    assert result.results["checkers"]["cart"]["removes_acknowledged"] > 20
