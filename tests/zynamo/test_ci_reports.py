"""What a CI job reads: JUnit XML, summary.json and --shard (issue 14, item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from zynamo.junit import junit_xml
from zynamo.options import TestOptions as Options
from zynamo.outcome import CheckerOutcome, failed_outcome, outcome_of
from zynamo.shard import parse_shard

ROOT = Path(__file__).resolve().parents[2]
SIM = ["--env", "sim", "--time-limit", "8", "--nemesis-interval", "3"]


def zynamo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zynamo", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_shards_are_disjoint_cover_everything_and_balanced() -> None:
    items = list(range(11))
    parts = [parse_shard(f"{i}/4").select(items) for i in range(1, 5)]
    assert sorted(x for part in parts for x in part) == items
    assert {len(part) for part in parts} == {2, 3}
    assert parse_shard("2/4").select(items) == parts[1]  # a function of I, N and the list


def test_junit_of_a_failing_run_names_the_finding_and_the_reproduce_command() -> None:
    options = Options(env="sim", versioning="lww", seed=7)
    results: dict[str, Any] = {
        "valid": False,
        "checkers": {
            "set": {"valid": False, "lost": 3, "summary": "3 acknowledged adds lost"},
            "stats": {"valid": True, "ops": 10},
        },
    }
    failing = outcome_of(options, results, Path("/r/run"))
    broken = failed_outcome(Options(env="sim", seed=8), None, "OSError: disk full")
    root = ET.fromstring(junit_xml([failing, broken]))
    assert root.get("tests") == "4" and root.get("failures") == "2" and root.get("errors") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"seed 7", "seed 7: set", "seed 7: stats", "seed 8"}
    failure = cases["seed 7: set"].find("failure")
    assert failure is not None and "3 acknowledged adds lost" in failure.get("message", "")
    assert "zynamo test --env sim --versioning lww --seed 7" in (failure.text or "")
    assert cases["seed 7: stats"].find("failure") is None
    error = cases["seed 8"].find("error")
    assert error is not None and "disk full" in error.get("message", "")
    assert CheckerOutcome("valid", "").to_json()["findings"] == []


def test_a_sharded_sweep_writes_junit_and_a_summary_with_its_seeds(tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "junit.xml"
    proc = zynamo("test", *SIM, "--versioning", "lww", "--seeds", "5..8", "--shard", "2/2",
                  "--jobs", "2", "--results", str(tmp_path / "r"),
                  "--junit", str(junit))  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    (summary_path,) = (tmp_path / "r").glob("*/sweep-*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["kind"] == "sweep" and summary["shard"] == "2/2"
    assert [run["seed"] for run in summary["runs"]] == [6, 8]
    failed = [run for run in summary["runs"] if run["verdict"] == "INVALID"]
    assert failed and all(run["checkers"]["set"]["findings"] for run in failed)
    root = ET.parse(junit).getroot()
    messages = [f.get("message", "") for f in root.iter("failure")]
    assert any("missing from the final read" in m for m in messages), messages
    bodies = "".join(f.text or "" for f in root.iter("failure"))
    assert "--seed 6" in bodies or "--seed 8" in bodies


def test_a_single_run_writes_its_summary_and_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    proc = zynamo("test", *SIM, "--seed", "3", "--results", str(tmp_path), "--junit", str(junit))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    assert summary["kind"] == "test" and summary["exit_code"] == 0
    (run,) = summary["runs"]
    assert run["seed"] == 3 and run["verdict"] == "valid" and "stats" in run["checkers"]
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and int(root.get("tests", "0")) > 1


def test_test_all_shards_its_matrix(tmp_path: Path) -> None:
    rows = []
    for shard in ("1/2", "2/2"):
        out = tmp_path / shard.replace("/", "of")
        proc = zynamo("test-all", *SIM, "--workloads", "set,register", "--nemeses",
                      "none;partition", "--seed", "4", "--shard", shard, "--results", str(out),
                      "--junit", str(out / "junit.xml"))  # fmt: skip
        assert proc.returncode in (0, 1, 2), proc.stderr
        (summary_path,) = out.glob("test-all/*/summary.json")
        summary = json.loads(summary_path.read_text())
        assert summary["kind"] == "test-all" and summary["shard"] == shard
        rows += [(run["workload"], run["nemesis"]) for run in summary["runs"]]
        assert ET.parse(out / "junit.xml").getroot().get("tests")
    assert sorted(rows) == sorted(
        [("set", "none"), ("set", "partition"), ("register", "none"), ("register", "partition")]
    )


def test_availability_inside_fault_windows_below_the_fraction_is_invalid(tmp_path: Path) -> None:
    common = ["--env", "sim", "--time-limit", "10", "--nemesis", "partition",
              "--nemesis-interval", "2", "--seed", "3", "--results", str(tmp_path)]  # fmt: skip
    strict = zynamo("test", *common, "--availability", "1.0")
    assert strict.returncode == 1, strict.stderr
    assert "availability   INVALID" in strict.stdout and "inside fault windows" in strict.stdout
    assert "--availability 1" in strict.stdout  # the reproduce command keeps it
    lenient = zynamo("test", *common, "--availability", "0.1")
    assert lenient.returncode == 0, lenient.stdout


def test_a_log_pattern_that_matches_fails_the_run_and_analyze_agrees(tmp_path: Path) -> None:
    proc = zynamo("test", *SIM, "--seed", "2", "--results", str(tmp_path),
                  "--log-pattern", "starting as member")  # fmt: skip
    assert proc.returncode == 1 and "logs           INVALID" in proc.stdout, proc.stdout
    again = zynamo("analyze", str(tmp_path / "latest"))
    assert again.returncode == 1 and "logs" in again.stdout
