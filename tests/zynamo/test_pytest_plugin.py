"""The pytest plugin: its example passes, and a failing nemesis test prints the findings and
the reproduce command and keeps its run (issue 14, item 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILING = """
import pytest

@pytest.mark.zynamo_seed(5)
def test_lww_keeps_every_add(zynamo_run):
    zynamo_run(workload="set", versioning="lww", nemesis=("partition",)).assert_valid()

@pytest.mark.zynamo_seed(1, 2)
def test_two_seeds(zynamo_run, zynamo_seed):
    assert zynamo_run(time_limit_s=5.0).outcome.seed == zynamo_seed
"""


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=240,
    )


def test_the_documented_example_passes(tmp_path: Path) -> None:
    example = ROOT / "docs" / "examples" / "test_nemesis_example.py"
    proc = pytest_run(str(example), "--zynamo-results", str(tmp_path), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # passing tests leave no runs behind


def test_a_failing_nemesis_test_explains_itself_and_keeps_its_run(tmp_path: Path) -> None:
    (tmp_path / "test_failing.py").write_text(FAILING)
    results = tmp_path / "runs"
    proc = pytest_run("test_failing.py", "--zynamo-results", str(results), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 2 passed" in proc.stdout
    assert "zynamo runs" in proc.stdout and "set: INVALID" in proc.stdout
    assert "missing from the final read" in proc.stdout
    assert "reproduce: zynamo test --env sim --nemesis partition --versioning lww" in proc.stdout
    assert "--seed 5" in proc.stdout
    (kept,) = results.glob("test_lww_keeps_every_add/*/*/index.html")
    assert (kept.parent / "history.jsonl").exists()
    assert sorted(p.name for p in results.iterdir()) == ["test_lww_keeps_every_add"]
