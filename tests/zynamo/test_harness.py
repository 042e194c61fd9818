"""The three things the harness must show, each a short real run through the `zynamo` CLI.

- the defaults (dvv, R=W=2) lose no acknowledged add and every replica converges;
- last-write-wins and the paper's vector clocks lose acknowledged adds (exit code 1);
- a register with R=W=1 under partitions is not linearizable, with the operations named.

Each run starts real node processes behind the embedded Toxiproxy; they are short (seconds of
workload) so the suite stays fast. Longer runs over several seeds are marked ``slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SHORT = [
    "--time-limit", "8",
    "--rate", "60",
    "--concurrency", "8",
    "--nemesis-interval", "2.5",
    "--recovery", "20",
    "--ops-per-key", "60",
]  # fmt: skip


def zynamo_test(results: Path, *args: str) -> tuple[int, dict[str, Any], Path, str]:
    """Run `zynamo test`; return the exit code, results.json, the run directory and stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "zynamo", "test", "--results", str(results), *SHORT, *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    latest = results / "latest"
    assert latest.exists(), proc.stdout + proc.stderr
    run_dir = latest.resolve()
    data = json.loads((run_dir / "results.json").read_text())
    return proc.returncode, data, run_dir, proc.stdout


def test_defaults_lose_nothing_and_converge(tmp_path: Path) -> None:
    code, results, run_dir, stdout = zynamo_test(tmp_path, "--seed", "11")
    checkers = results["checkers"]
    assert checkers["set"]["valid"] is True, checkers["set"]
    assert checkers["convergence"]["valid"] is True, checkers["convergence"]
    assert code == 0, stdout
    assert "set" in stdout and "valid" in stdout  # the verdict table
    for artifact in ("index.html", "timeline.html", "latency-raw.png", "history.jsonl"):
        assert (run_dir / artifact).stat().st_size > 0
    options = json.loads((run_dir / "test.json").read_text())
    assert options["seed"] == 11 and options["versioning"] == "dvv"
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    faults = {op["f"] for op in history if op["process"] == "nemesis"}
    assert faults & {"start-partition", "start-kill"}, faults  # the nemesis really acted

    # `zynamo analyze` re-checks the stored history and reaches the same verdicts.
    (run_dir / "results.json").unlink()
    again = subprocess.run(
        [sys.executable, "-m", "zynamo", "analyze", str(tmp_path / "latest")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    rechecked = json.loads((run_dir / "results.json").read_text())
    assert {k: v["valid"] for k, v in rechecked["checkers"].items()} == {
        k: v["valid"] for k, v in checkers.items()
    }


@pytest.mark.parametrize("versioning", ["lww", "vclock"])
def test_weaker_versioning_loses_acknowledged_adds(tmp_path: Path, versioning: str) -> None:
    code, results, _, stdout = zynamo_test(
        tmp_path, "--versioning", versioning, "--nemesis", "none", "--seed", "5"
    )
    set_result = results["checkers"]["set"]
    assert set_result["valid"] is False, set_result
    assert set_result["lost"] > 0 and set_result["lost_elements"]
    assert code == 1, stdout


def test_register_with_r1_w1_under_partitions_is_not_linearizable(tmp_path: Path) -> None:
    code, results, _, stdout = zynamo_test(
        tmp_path,
        "--workload", "register",
        "--r", "1",
        "--w", "1",
        "--nemesis", "partition",
        "--partition", "halves,isolate",
        "--seed", "3",
    )  # fmt: skip
    lin = results["checkers"]["linearizable"]
    assert lin["valid"] is False, lin
    assert code == 1, stdout
    failures = lin.get("failures") or [lin]
    assert any(f.get("op") for f in failures), lin  # the offending operation is named
