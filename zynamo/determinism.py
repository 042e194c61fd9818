"""``zynamo test --check-determinism``: run a simulator test twice and prove the runs are the same.

Both runs go under ``results/<test>/determinism-<timestamp>/`` (``first/``, ``second/``); their
``history.jsonl`` and ``results.json`` must be byte-identical. When they are not, the first
differing history line of each run is shown — the first moment the two runs went apart, which is
where to look for the nondeterminism (a wall clock read, an unseeded random draw, iteration over
a set of strings) — and the exit code is 255: the harness, not the system under test, failed.
Does file I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path

from zynamo.options import TestOptions

ARTIFACTS = ("history.jsonl", "results.json")


def first_difference(first: Path, second: Path) -> str | None:
    """Where two text files first differ ("line N: ... / ..."), or None when they are equal."""
    with first.open(encoding="utf-8") as a, second.open(encoding="utf-8") as b:
        for number, (left, right) in enumerate(zip_longest(a, b), start=1):
            if left != right:
                shown = [
                    "(no such line)" if line is None else line.rstrip("\n")[:400]
                    for line in (left, right)
                ]
                return f"line {number}:\n  first:  {shown[0]}\n  second: {shown[1]}"
    return None


def compare_runs(first: Path, second: Path) -> list[str]:
    """Every artifact that differs between two run directories, with its first difference."""
    problems = []
    for name in ARTIFACTS:
        difference = first_difference(first / name, second / name)
        if difference is not None:
            problems.append(f"{name} differs at {difference}")
    return problems


def determinism_dir(options: TestOptions) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return options.results_dir / options.test_name / f"determinism-{stamp}"


def run_twice(options: TestOptions, directory: Path) -> tuple[Path, Path]:
    """The test twice, in ``directory/first`` and ``directory/second``."""
    from zynamo.runner import run_test

    first, second = directory / "first", directory / "second"
    run_test(dataclasses.replace(options), progress=lambda line: None, directory=first)
    run_test(dataclasses.replace(options), progress=lambda line: None, directory=second)
    return first, second
