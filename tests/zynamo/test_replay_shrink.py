"""Schedules, replay and shrinking: every run writes the schedule it ran; a simulated run
replays from it to the byte; a failing run shrinks, deterministically, to a small schedule that
fails the same way, with a report and a regression test that fails while the bug is there."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nemesis.base import FaultOp
from zynamo.cli import main
from zynamo.options import TestOptions as Options
from zynamo.replay import Failure, failure_of, replay
from zynamo.runner import RunResult, run_test
from zynamo.schedule import RunSchedule, load
from zynamo.schedule_record import resolved_value
from zynamo.schedule_summary import summary
from zynamo.shrink import cut_at, shifted, shrink, with_key_merged, without_last_node

# lww loses concurrent adds: a failing simulated run in a few seconds of CPU.
FAILING: dict[str, Any] = {
    "env": "sim",
    "versioning": "lww",
    "seed": 3,
    "time_limit_s": 12.0,
    "nemesis_interval_s": 2.0,
}


def quiet(line: str) -> None:
    pass


def run(tmp_path: Path, **options: Any) -> RunResult:
    return run_test(
        Options(results_dir=tmp_path, **{**FAILING, **options}), progress=quiet, report=False
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run(tmp_path_factory.mktemp("failing"))


def test_the_schedule_holds_every_operation_and_fault_the_history_shows(
    failing_run: RunResult,
) -> None:
    schedule = load(failing_run.directory)
    history = lines(failing_run.directory / "history.jsonl")
    invoked = [
        (op["process"], op["f"], op["key"], op["value"], op["node"])
        for op in history
        if op["type"] == "invoke" and isinstance(op["process"], int) and not op.get("final")
    ]
    scheduled = [(op.process, op.f, op.key, op.value, op.node) for op in schedule.operations]
    assert sorted(scheduled, key=repr) == sorted(invoked, key=repr)
    faults = [
        (op["f"], op["value"])
        for op in history
        if op["process"] == "nemesis" and op["type"] == "invoke" and op["f"] != "stop-all"
    ]
    assert len(schedule.faults) >= 4
    assert [(s.f, s.asked) for s in schedule.faults] == faults[: len(schedule.faults)]
    kills = [s for s in schedule.faults if s.f == "start-kill"]
    assert kills and all(s.value["targets"] == s.did["nodes"] for s in kills)
    assert schedule.keys and set(schedule.keys) >= {op.key for op in schedule.operations}
    assert schedule.options["seed"] == 3 and schedule.time_limit_s == 12.0


def test_a_simulated_run_replays_from_its_schedule_to_the_byte(
    failing_run: RunResult, tmp_path: Path
) -> None:
    replayed = replay(load(failing_run.directory), tmp_path / "replay", progress=quiet)
    for artifact in ("history.jsonl", "results.json"):
        assert (replayed.directory / artifact).read_bytes() == (
            failing_run.directory / artifact
        ).read_bytes(), artifact
    original, again = load(failing_run.directory), load(replayed.directory)
    assert again == original.with_options(results_dir=again.options["results_dir"])


def test_a_run_without_a_schedule_is_the_seeded_run_of_before(
    failing_run: RunResult, tmp_path: Path
) -> None:
    """The generated path does not depend on recording: the same seed, the same history."""
    again = run(tmp_path)
    assert (again.directory / "history.jsonl").read_bytes() == (
        failing_run.directory / "history.jsonl"
    ).read_bytes()


def test_faults_are_recorded_with_the_targets_they_hit() -> None:
    grudge = {"n1": ["n2"], "n2": ["n1"]}
    partition = FaultOp("start-partition", {"shape": "random-halves", "mode": "drop"})
    assert resolved_value(partition, {"grudge": grudge, "mode": "drop", "links": []}) == {
        "grudge": grudge,
        "mode": "drop",
        "shape": "random-halves",
    }
    kill = FaultOp("start-kill", {"targets": "minority"})
    assert resolved_value(kill, {"nodes": ["n2", "n4"]}) == {"targets": ["n2", "n4"]}
    assert resolved_value(kill, {"nodes": []}) == {"targets": "minority"}  # hit nothing
    bump = FaultOp("start-clock", {"mode": "bump", "targets": "all"})
    value = resolved_value(
        bump, {"mode": "bump", "offsets": {"n1": 300.0, "n2": -50.0}}, {"n1": 100.0}
    )
    assert value == {"mode": "bump", "targets": ["n1", "n2"], "bumps_ms": {"n1": 200, "n2": -50}}
    assert resolved_value(FaultOp("stop-kill"), {"nodes": ["n2"]}) == {}


def test_the_failure_kept_is_the_first_invalid_checker_and_its_anomaly() -> None:
    results = {
        "valid": False,
        "checkers": {
            "set": {"valid": False, "lost": 3, "stale": 2},
            "quorum": {"valid": False, "violation_count": 1},
        },
    }
    assert failure_of(results) == Failure("set", "lost")
    assert failure_of(results, "quorum") == Failure("quorum", "violation_count")
    assert failure_of({"valid": True, "checkers": {"set": {"valid": True}}}) is None
    assert not Failure("set", "lost").matches({"checkers": {"set": {"valid": False, "lost": 0}}})
    assert not Failure("set", "lost").matches({"checkers": {"set": {"valid": "unknown"}}})


def test_schedule_edits_cut_time_and_nodes(failing_run: RunResult) -> None:
    schedule = load(failing_run.directory)
    cut = cut_at(schedule, 3.0)
    assert all(op.at_s < 3.0 for op in cut.operations)
    assert all(step.at_s < 3.0 for step in cut.faults)
    last = max(op.at_s for op in cut.operations)
    assert cut.time_limit_s == round(max(3.0, last + 2.1), 3)  # every op completes before
    smaller = without_last_node(schedule)
    assert smaller is not None and smaller.options["nodes"] == 4
    assert all(op.node != "n5" for op in smaller.operations)
    assert "n5" not in json.dumps([s.value for s in smaller.faults])
    assert without_last_node(schedule.with_options(nodes=3)) is None  # N=3 needs 3 nodes


def test_schedule_edits_start_earlier_and_merge_keys(failing_run: RunResult) -> None:
    schedule = load(failing_run.directory)
    first = min([op.at_s for op in schedule.operations] + [s.at_s for s in schedule.faults])
    moved = shifted(schedule, first)
    assert moved.time_limit_s == round(schedule.time_limit_s - first, 3)
    assert min(op.at_s for op in moved.operations) >= 0.0
    assert [op.at_s for op in moved.operations] == [
        round(op.at_s - first, 6) for op in schedule.operations
    ]
    assert [s.at_s for s in moved.faults] == [round(s.at_s - first, 6) for s in schedule.faults]
    keys = sorted({op.key for op in schedule.operations})
    merged = with_key_merged(schedule, keys[1], keys[0])
    assert merged.size().keys == schedule.size().keys - 1
    assert merged.size().operations == schedule.size().operations
    assert keys[1] not in merged.keys and keys[0] in merged.keys


def test_a_bound_on_candidates_ends_the_search_at_the_same_schedule_every_time(
    failing_run: RunResult,
) -> None:
    schedule = load(failing_run.directory)
    failure = failure_of(failing_run.results)
    assert failure is not None
    first = shrink(schedule, failure, budget_s=900, max_candidates=8)
    second = shrink(schedule, failure, budget_s=900, max_candidates=8)
    assert first.candidates == 8 and first.candidates_spent and not first.budget_spent
    assert first.to_json()["candidates_spent"] is True
    assert first.minimal.to_json() == second.minimal.to_json()
    assert first.minimal.size().operations < schedule.size().operations


def test_a_bound_on_candidates_below_one_is_refused(
    failing_run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["shrink", str(failing_run.directory), "--max-candidates", "0"]) == 254
    assert "--max-candidates: must be at least 1, got 0" in capsys.readouterr().err


def test_shrinking_finds_a_small_reproducer_and_is_deterministic(
    failing_run: RunResult, tmp_path: Path
) -> None:
    schedule = load(failing_run.directory)
    failure = failure_of(failing_run.results)
    assert failure == Failure("set", "lost")
    first = shrink(schedule, failure, budget_s=240)
    second = shrink(schedule, failure, budget_s=240)
    assert not first.budget_spent
    assert first.minimal.to_json() == second.minimal.to_json()
    size = first.minimal.size()
    assert size.faults <= 3 and size.operations <= 50
    assert size.operations < schedule.size().operations
    assert size.time_limit_s < schedule.time_limit_s
    assert first.removed()["operations"] == schedule.size().operations - size.operations
    rerun = replay(first.minimal, tmp_path / "minimal", progress=quiet, report=False)
    assert failure.matches(rerun.results)
    assert summary(first.minimal).startswith(f"{size.faults} faults, {size.operations} oper")


def test_zynamo_shrink_leaves_a_report_and_a_regression_test_that_fails_while_the_bug_is_there(
    failing_run: RunResult, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["shrink", str(failing_run.directory), "--time-limit", "240"]) == 0
    out = capsys.readouterr().out
    shrunk = failing_run.directory / "shrunk"
    assert f"report: {shrunk / 'index.html'}" in out and "summary: " in out
    info = json.loads((shrunk / "schedule.json").read_text())["shrink"]
    assert info["failure"] == {"checker": "set", "anomaly": "lost"} and info["reproduced"]
    assert info["from"]["operations"] > info["to"]["operations"]
    page = (shrunk / "index.html").read_text()
    assert "<h2>Shrunk</h2>" in page and "<h2>Schedule</h2>" in page
    (test_file,) = shrunk.glob("test_regression_*.py")
    # Dropped into a test suite, it passes the project's own lint and format checks.
    for command in (["check"], ["format", "--check"]):
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(test_file)], capture_output=True, text=True
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
    spec = importlib.util.spec_from_file_location("regression", test_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (test,) = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    with pytest.raises(AssertionError, match="still fails"):
        test(tmp_path / "with-the-bug")
    # The same schedule on a system without the bug (dvv keeps concurrent adds) passes.
    module.SCHEDULE["options"]["versioning"] = "dvv"
    test(tmp_path / "fixed")


def test_zynamo_replay_says_the_verdict_and_the_history_reproduced(
    failing_run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(failing_run.directory)]) == 1
    out = capsys.readouterr().out
    assert "verdict reproduced: set invalid with lost > 0" in out
    assert "history.jsonl and results.json identical to the original run" in out


def test_shrinking_a_valid_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    valid = run(tmp_path, versioning="dvv", time_limit_s=3.0)
    assert valid.valid is True
    assert main(["shrink", str(valid.directory)]) == 254
    assert "nothing to shrink" in capsys.readouterr().err


def test_a_real_process_run_writes_its_schedule_and_is_replayed_in_the_simulator_first(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [
            sys.executable, "-m", "zynamo", "test", "--results", str(tmp_path),
            "--versioning", "lww", "--nemesis", "kill", "--time-limit", "4", "--rate", "60",
            "--nemesis-interval", "1.5", "--recovery", "15", "--seed", "5",
        ],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    run_dir = (tmp_path / "latest").resolve()
    schedule = load(run_dir)
    assert schedule.options["env"] == "real" and schedule.operations, proc.stderr
    assert any(step.f == "start-kill" and step.did["nodes"] for step in schedule.faults)
    if proc.returncode != 1:
        pytest.skip(f"this real run did not fail (exit {proc.returncode}): nothing to shrink")
    shrunk = subprocess.run(
        [sys.executable, "-m", "zynamo", "shrink", str(run_dir), "--time-limit", "120"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "replaying it in the simulator first" in shrunk.stderr
    assert (run_dir / "replay-sim" / "results.json").is_file()
    if shrunk.returncode == 0:
        assert (run_dir / "shrunk" / "index.html").is_file()
    else:
        assert shrunk.returncode == 2
        assert "did NOT reproduce" in shrunk.stdout and "--env real" in shrunk.stdout


def test_every_schedule_round_trips_through_json(failing_run: RunResult) -> None:
    schedule = load(failing_run.directory)
    assert RunSchedule.from_json(json.loads(schedule.dumps())) == schedule


def test_the_summary_and_the_report_say_what_each_fault_did() -> None:
    from zynamo.report.schedule import schedule_section
    from zynamo.schedule import ClientStep, FaultStep, ProcessStream

    schedule = RunSchedule(
        options={**Options(env="sim").to_json(), "time_limit_s": 4.0},
        faults=(
            FaultStep(1.2, "start-kill", {"targets": ["n3"]}, {"nodes": ["n3"]}),
            FaultStep(2.5, "stop-kill", {}, {"nodes": ["n3"]}),
        ),
        processes=(
            ProcessStream(0, (ClientStep(0.5, "add", "k0", 1, "n1", 0),)),
            ProcessStream(4, (ClientStep(0.6, "add", "k0", 2, "n2", 4),)),
        ),
        keys=("k0",),
    )
    text = summary(schedule)
    assert text.startswith("1 fault, 2 operations, 1 key, 2 processes: kill n3 from 1.20 s")
    assert "2 add on k0 through n1, n2" in text
    page = schedule_section(schedule.to_json())
    assert "<td>start-kill</td><td>n3</td><td>kill n3</td>" in page
    assert "<td>stop-kill</td><td></td><td>restart n3</td>" in page
    assert schedule_section(None) == ""
