"""What one finished run amounts to for CI: its verdict, exit code, each checker's verdict with
the finding in words, where its files are and the command that reproduces it.

``outcome_of(options, results, directory, history)`` builds it from a run's ``results.json``
content (and history, for findings that name operations); ``failed_outcome`` is a run the
harness could not finish. Sweeps, ``test-all``, single runs, the JUnit report and
``summary.json`` all use this one record (format: docs/ci.md). Pure; no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zynamo.cli import EXIT_HARNESS_FAILED, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID
from zynamo.options import TestOptions
from zynamo.reproduce import reproduce_command
from zynamo.verdicts import verdict_word

FINDINGS_PER_CHECKER = 5  # in words, in the summary and the JUnit failure; the report has all
# Worst first: what a batch's exit code is when any run had it.
SEVERITY = (EXIT_HARNESS_FAILED, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID)


def exit_code_of(valid: Any) -> int:
    if valid is True:
        return EXIT_VALID
    return EXIT_INVALID if valid is False else EXIT_UNKNOWN


def worst_exit_code(codes: Sequence[int]) -> int:
    """Jepsen's test-all: harness failure over invalid over unknown over valid."""
    return next((c for c in SEVERITY if c in codes), EXIT_VALID)


@dataclass(frozen=True)
class CheckerOutcome:
    verdict: str  # valid, INVALID, unknown
    summary: str  # one line of figures or the checker's own summary
    findings: tuple[str, ...] = ()  # what went wrong, in words (at most FINDINGS_PER_CHECKER)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "summary": self.summary, "findings": list(self.findings)}


@dataclass(frozen=True)
class RunOutcome:
    """One run of a test, a sweep or a matrix, as summary.json and JUnit hold it."""

    test: str
    seed: int
    verdict: str  # valid, INVALID, unknown, or "harness failed"
    exit_code: int
    reproduce: str
    directory: str | None  # the run's directory, or None when deleted (a valid sweep seed)
    elapsed_s: float = 0.0  # wall time; in JUnit only, so summaries of one seed range agree
    ops: int = 0
    lost: int = 0  # acknowledged writes lost (the set checker's count)
    checkers: dict[str, CheckerOutcome] = field(default_factory=dict)
    error: str = ""  # the harness's own failure, if any
    workload: str = ""
    nemesis: str = ""

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(n for n, c in self.checkers.items() if c.verdict != "valid")

    def with_directory(self, directory: str | None) -> RunOutcome:
        return dataclasses.replace(self, directory=directory)

    def to_json(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "workload": self.workload,
            "nemesis": self.nemesis,
            "seed": self.seed,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "ops": self.ops,
            "lost": self.lost,
            "failing": list(self.failing),
            "checkers": {name: c.to_json() for name, c in self.checkers.items()},
            "directory": self.directory,
            "reproduce": self.reproduce,
            "error": self.error,
        }


def _findings_in_words(
    results: dict[str, Any], history: Sequence[dict[str, Any]] | None
) -> dict[str, list[str]]:
    from zynamo.report.findings import find
    from zynamo.report.history import HistoryView

    words: dict[str, list[str]] = {}
    try:
        found = find(results, HistoryView.of(list(history or [])))
    except Exception:  # findings only explain; the verdict stands without them
        return words
    for finding in found.items:
        listed = words.setdefault(finding.checker, [])
        if len(listed) < FINDINGS_PER_CHECKER:
            listed.append(finding.text)
    return words


def outcome_of(
    options: TestOptions,
    results: dict[str, Any],
    directory: Path | None,
    history: Sequence[dict[str, Any]] | None = None,
    elapsed_s: float = 0.0,
) -> RunOutcome:
    """The outcome of a finished run from its checkers' results."""
    from zynamo.verdicts import checker_summary

    checkers: dict[str, Any] = results.get("checkers", {})
    words = (
        _findings_in_words(results, history)
        if any(isinstance(r, dict) and r.get("valid") is not True for r in checkers.values())
        else {}
    )
    outcomes = {}
    for name, result in checkers.items():
        result = result if isinstance(result, dict) else {"valid": result}
        outcomes[name] = CheckerOutcome(
            verdict_word(result.get("valid")),
            checker_summary(result),
            tuple(words.get(name, ())),
        )
    valid = results.get("valid", "unknown")
    figures = {n: r for n, r in checkers.items() if isinstance(r, dict)}
    return RunOutcome(
        test=options.test_name,
        seed=options.seed,
        verdict=verdict_word(valid),
        exit_code=exit_code_of(valid),
        reproduce=reproduce_command(options),
        directory=str(directory) if directory is not None else None,
        elapsed_s=elapsed_s,
        ops=_count(figures.get("stats", {}).get("ops")),
        lost=_count(figures.get("set", {}).get("lost")),
        checkers=outcomes,
        workload=options.workload,
        nemesis="+".join(options.nemesis),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def failed_outcome(
    options: TestOptions, directory: Path | None, error: str, elapsed_s: float = 0.0
) -> RunOutcome:
    """A run the harness could not finish (exit 255)."""
    return RunOutcome(
        test=options.test_name,
        seed=options.seed,
        verdict="harness failed",
        exit_code=EXIT_HARNESS_FAILED,
        reproduce=reproduce_command(options),
        directory=str(directory) if directory is not None else None,
        elapsed_s=elapsed_s,
        error=error,
        workload=options.workload,
        nemesis="+".join(options.nemesis),
    )
