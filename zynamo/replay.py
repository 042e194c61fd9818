"""Running a stored schedule again, and judging whether a run failed the way another did.

``replay(schedule, directory, env)`` runs the schedule's operations and faults at their times
(``zynamo.runner.run_test`` with a ``script``): in the simulator the replay of a simulated run
is exact, the same history to the byte; on real processes it applies the same faults with the
same targets at the same offsets and the same operations, as closely as timing allows.

A ``Failure`` is how a run failed: the checker that found it invalid and the anomalies it
counted (a set that lost acknowledged adds: ``set`` with ``lost > 0``). ``failure_of`` reads it
from a run's results and ``Failure.matches`` says whether another run failed the same way —
what replay reports and what shrinking preserves. Does file I/O through the runner.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zynamo.options import TestOptions
from zynamo.runner import RunResult, run_test
from zynamo.schedule import RunSchedule

# Counters that say *how* a checker found a history invalid, in the order they are preferred
# as the failure to preserve (the first one above zero in the original run).
ANOMALY_COUNTERS = (
    "lost",
    "unexpected",
    "failed_but_read",
    "violation_count",
    "anomaly_count",
    "stale",
)


@dataclass(frozen=True)
class Failure:
    """A checker found the history invalid, with ``anomaly`` above zero (when given)."""

    checker: str
    anomaly: str | None = None

    def matches(self, results: Mapping[str, Any]) -> bool:
        """Whether ``results`` (a run's results.json) show this same failure."""
        result = results.get("checkers", {}).get(self.checker)
        if not isinstance(result, Mapping) or result.get("valid") is not False:
            return False
        if self.anomaly is None:
            return True
        count = result.get(self.anomaly)
        return isinstance(count, int | float) and count > 0

    def text(self) -> str:
        return f"{self.checker} invalid" + (f" with {self.anomaly} > 0" if self.anomaly else "")

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "anomaly": self.anomaly}


def failure_of(results: Mapping[str, Any], checker: str | None = None) -> Failure | None:
    """How ``results`` failed: ``checker`` (default: the first invalid one, in the order the
    workload runs them) and its first non-zero anomaly counter; None when it did not fail."""
    checkers = results.get("checkers", {})
    names = [checker] if checker else list(checkers)
    for name in names:
        result = checkers.get(name)
        if isinstance(result, Mapping) and result.get("valid") is False:
            anomaly = next(
                (
                    counter
                    for counter in ANOMALY_COUNTERS
                    if isinstance(result.get(counter), int | float) and result[counter] > 0
                ),
                None,
            )
            return Failure(name, anomaly)
    return None


def schedule_options(
    schedule: RunSchedule, env: str = "sim", results_dir: Path | None = None
) -> TestOptions:
    """The options to run ``schedule`` with, in ``env``."""
    options = TestOptions.from_json(schedule.options)
    changes: dict[str, Any] = {"env": env}
    if env == "sim":
        changes["net"] = "proxy"  # a kernel-partitioned run's cuts are the simulator's cuts
    if results_dir is not None:
        changes["results_dir"] = results_dir
    return dataclasses.replace(options, **changes)


def _quiet(line: str) -> None:
    pass


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def replay(
    schedule: RunSchedule,
    directory: Path,
    env: str = "sim",
    progress: Callable[[str], None] = _stderr,
    report: bool = True,
) -> RunResult:
    """Run ``schedule`` in ``env`` into ``directory`` (a complete run directory)."""
    options = schedule_options(schedule, env, directory.parent)
    return run_test(options, progress, directory=directory, report=report, script=schedule)


def replay_quietly(schedule: Mapping[str, Any] | RunSchedule, directory: Path) -> RunResult:
    """Replay a schedule (or its JSON form) in the simulator, without progress or report: what
    a generated regression test calls."""
    if not isinstance(schedule, RunSchedule):
        schedule = RunSchedule.from_json(schedule)
    return replay(schedule, directory, "sim", progress=_quiet, report=False)
