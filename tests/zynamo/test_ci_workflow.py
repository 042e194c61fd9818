"""The GitHub Actions example (docs/ci/github-actions.yml) does what its steps say: every
`zynamo` and `pytest` step, run here with its matrix values and fewer seeds, exits 0 and leaves
the JUnit report and summary.json the publishing and upload steps expect."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
SMALL = {"SEEDS": "1..4", "TIME_LIMIT": "8", "SHARDS": "2"}  # the workflow's env, smaller


def steps() -> list[tuple[str, str]]:
    """(job, command) of every one-line ``run:`` step that calls zynamo or pytest."""
    found = []
    job = ""
    for line in WORKFLOW.read_text().splitlines():
        if match := re.fullmatch(r"  ([a-z-]+):", line):
            job = match.group(1)
        if match := re.fullmatch(r"\s+run: (.+)", line):
            command = match.group(1)
            if command.startswith(("zynamo ", "pytest ")):
                found.append((job, command))
    return found


def test_the_workflow_runs_sweeps_a_matrix_and_pytest_with_junit() -> None:
    jobs = [job for job, _ in steps()]
    assert jobs == ["sweep", "matrix", "pytest"]
    text = WORKFLOW.read_text()
    assert "shard: [1, 2, 3, 4]" in text and "upload-artifact" in text
    assert text.count("action-junit-report") == 3


def test_every_step_runs_locally(tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)  # where `zynamo` and `pytest` are installed
    env = {**os.environ, **SMALL, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    example = tmp_path / "docs" / "examples"
    example.mkdir(parents=True)
    (example / "test_nemesis_example.py").write_text(
        (ROOT / "docs" / "examples" / "test_nemesis_example.py").read_text()
    )
    seeds: list[int] = []
    for job, command in steps():
        for shard in ("1", "2") if job == "sweep" else ("",):
            line = command.replace("${{ matrix.shard }}", shard)
            proc = subprocess.run(
                ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True,
                timeout=300,
            )  # fmt: skip
            assert proc.returncode == 0, (line, proc.stdout[-3000:], proc.stderr[-3000:])
            if job == "sweep":
                junit = ET.parse(tmp_path / f"results/junit-sweep-{shard}.xml").getroot()
                cases = [c.get("name", "") for c in junit.iter("testcase")]
                seeds += [int(name.split()[1]) for name in cases if ":" not in name]
    assert sorted(seeds) == [1, 2, 3, 4]  # the two shards split the range between them
    assert list((tmp_path / "results").glob("*/sweep-*/summary.json"))
    assert list((tmp_path / "results").glob("test-all/*/summary.json"))
    assert ET.parse(tmp_path / "results/junit-matrix.xml").getroot().get("failures") == "0"
    assert ET.parse(tmp_path / "results/junit-pytest.xml").getroot() is not None
