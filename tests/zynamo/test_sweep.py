"""Seed sweeps on the simulator (``--test-count``, ``--seeds``, ``--jobs``, ``--keep-all``) and
``--check-determinism``, through the command line a user types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nemesis.options import NemesisOptions
from zynamo.determinism import compare_runs, first_difference
from zynamo.options import TestOptions as Options
from zynamo.reproduce import reproduce_command

SHORT = ["--env", "sim", "--time-limit", "15", "--nemesis-interval", "3"]
ROOT = Path(__file__).resolve().parents[2]


def zynamo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zynamo", *args], capture_output=True, text=True, cwd=ROOT
    )


def summary_of(results: Path) -> dict[str, Any]:
    found = list(results.glob("*/sweep-*/summary.json"))
    assert len(found) == 1, found
    data: dict[str, Any] = json.loads(found[0].read_text())
    return data


def test_a_valid_sweep_keeps_only_its_summary_and_exits_0(tmp_path: Path) -> None:
    proc = zynamo("test", *SHORT, "--test-count", "4", "--seed", "20", "--jobs", "2",
                  "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(tmp_path)
    assert [run["seed"] for run in summary["runs"]] == [20, 21, 22, 23]
    assert summary["counts"]["valid"] == 4 and summary["exit_code"] == 0
    assert all(run["directory"] is None for run in summary["runs"])  # valid runs: deleted
    assert not list(tmp_path.glob("*/sweep-*/seed-*"))
    assert "[4/4] seed" in proc.stdout and "failures 0" in proc.stdout
    assert "seeds/min" in proc.stdout and "4 valid" in proc.stdout


def test_a_failing_sweep_keeps_the_failing_runs_with_reports_and_exits_1(tmp_path: Path) -> None:
    proc = zynamo("test", *SHORT, "--versioning", "lww", "--seeds", "5..7", "--jobs", "2",
                  "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    summary = summary_of(tmp_path)
    failed = [run for run in summary["runs"] if run["verdict"] == "INVALID"]
    assert failed and all("set" in run["failing"] and run["lost"] > 0 for run in failed)
    for run in failed:
        assert (Path(run["directory"]) / "index.html").exists()
        assert "--env sim" in run["reproduce"] and f"--seed {run['seed']}" in run["reproduce"]
    assert "INVALID" in proc.stdout and f"reproduce seed {failed[0]['seed']}" in proc.stdout


def test_keep_all_keeps_every_run(tmp_path: Path) -> None:
    proc = zynamo("test", *SHORT, "--test-count", "2", "--seed", "3", "--keep-all",
                  "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = summary_of(tmp_path)["runs"]
    assert all((Path(run["directory"]) / "history.jsonl").exists() for run in runs)


def test_the_same_seeds_give_the_same_summary_whatever_the_jobs(tmp_path: Path) -> None:
    rows = []
    for jobs in ("1", "2"):
        out = tmp_path / jobs
        proc = zynamo("test", *SHORT, "--seeds", "40..42", "--jobs", jobs, "--keep-all",
                      "--results", str(out))  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        runs = summary_of(out)["runs"]
        rows.append([{k: v for k, v in r.items() if k != "directory"} for r in runs])
        histories = sorted(out.glob("*/sweep-*/seed-*/history.jsonl"))
        rows.append([h.read_bytes() for h in histories])
    assert rows[0] == rows[2] and rows[1] == rows[3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "9..3"], "--seeds: expected A..B"),
        (["--seeds", "x"], "--seeds: expected A..B"),
        (["--test-count", "0"], "--test-count: must be at least 1"),
        (["--test-count", "2", "--seeds", "1..2"], "give one or the other"),
        (["--jobs", "0", "--test-count", "2"], "--jobs: must be at least 1"),
        (["--check-determinism", "--env", "real"], "only --env sim runs are deterministic"),
        (["--env", "cloud"], "--env: 'cloud' is not one of real, sim"),
    ],
)
def test_bad_sweep_options_are_named_and_exit_254(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = zynamo("test", "--results", str(tmp_path), *args)
    assert proc.returncode == 254 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_determinism_passes_for_a_simulated_run(tmp_path: Path) -> None:
    proc = zynamo("test", *SHORT, "--seed", "8", "--nemesis", "partition,kill,pause,clock",
                  "--check-determinism", "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "deterministic: history.jsonl (" in proc.stdout
    runs = sorted(tmp_path.glob("*/determinism-*/*/history.jsonl"))
    assert len(runs) == 2 and runs[0].read_bytes() == runs[1].read_bytes()


def test_two_differing_runs_are_told_apart_at_their_first_differing_line(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for directory, value in ((first, 1), (second, 2)):
        directory.mkdir()
        lines = ['{"index":0}', f'{{"index":1,"value":{value}}}', '{"index":2}']
        (directory / "history.jsonl").write_text("\n".join(lines) + "\n")
        (directory / "results.json").write_text('{"valid": true}\n')
    problems = compare_runs(first, second)
    assert problems == [
        'history.jsonl differs at line 2:\n  first:  {"index":1,"value":1}\n'
        '  second: {"index":1,"value":2}'
    ]
    (second / "history.jsonl").write_text('{"index":0}\n')
    assert "line 2:" in (first_difference(first / "history.jsonl", second / "history.jsonl") or "")


def test_the_reproduce_command_names_what_differs_from_the_defaults() -> None:
    options = Options(env="sim", seed=12, versioning="lww", nemesis=("partition",), rate=80.0)
    assert reproduce_command(options) == (
        "zynamo test --env sim --nemesis partition --versioning lww --rate 80 --seed 12"
    )
    assert reproduce_command(Options(seed=0)) == "zynamo test --seed 0"
    assert "--active-keys 5" in reproduce_command(Options(active_keys=5))
    unflagged = reproduce_command(Options(anti_entropy_interval_ms=500))
    assert "also set (no flag): anti_entropy_interval_ms=500" in unflagged
    nemesis = NemesisOptions(disk_modes=("power-loss",), disk_targets=("all", ("n1", "n2")))
    assert reproduce_command(
        Options(env="sim", seed=4, sync="off", nemesis=("disk",), nemesis_options=nemesis)
    ) == (
        "zynamo test --env sim --nemesis disk --sync off --seed 4"
        " --disk-targets all,n1+n2 --disk-modes power-loss"
    )
