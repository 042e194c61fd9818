"""`zynamo replay DIR` (run a stored schedule again) and `zynamo shrink DIR` (shrink a failing
run to a minimal reproducer with a regression test).

``replay`` runs ``DIR/schedule.json`` into ``DIR/replay-<env>-<timestamp>/``, prints the
verdicts and whether the original verdict reproduced (in the simulator, whether the history is
the same to the byte); it exits with the replay's verdict (0 valid, 1 invalid, 2 unknown).
``shrink`` needs a failing run: a real-process run is replayed in the simulator first and shrunk
only if it fails the same way there. It leaves ``DIR/shrunk/`` (a run directory with its
report, and ``test_regression_*.py``), prints the summary, and exits 0 when it produced a
minimal failing schedule, 2 when the failure did not reproduce in the simulator. Does file I/O
and runs the cluster (simulated or real).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zynamo.cli import EXIT_UNKNOWN, UsageError
from zynamo.options import ENVIRONMENTS
from zynamo.verdicts import exit_code, verdict_table

DEFAULT_SHRINK_BUDGET_S = 300.0
# zynamo.shrink.MAX_CANDIDATES, without importing the runner to build the parser.
DEFAULT_MAX_CANDIDATES = 1500


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run_dir(path: Path) -> Path:
    if not (path / "schedule.json").is_file():
        raise UsageError(
            f"{path}: no schedule.json here; give a run directory (e.g. results/latest)"
        )
    return path.resolve()


def _results(directory: Path) -> dict[str, Any] | None:
    path = directory / "results.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def handle_replay(args: argparse.Namespace) -> int:
    from zynamo.determinism import compare_runs
    from zynamo.preflight import preflight
    from zynamo.replay import failure_of, replay, schedule_options
    from zynamo.schedule import ScheduleError, load

    if args.env not in ENVIRONMENTS:
        raise UsageError(f"--env: {args.env!r} is not one of {', '.join(ENVIRONMENTS)}")
    directory = _run_dir(args.dir)
    try:
        schedule = load(directory)
    except ScheduleError as err:
        raise UsageError(str(err)) from None
    if args.toxiproxy:
        schedule = schedule.with_options(toxiproxy=args.toxiproxy)
    problem = preflight(schedule_options(schedule, args.env, directory))
    if problem:  # e.g. a kernel-partitioned run replayed without root
        raise UsageError(problem)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    out = directory / f"replay-{args.env}-{stamp}"
    _stderr(f"replaying {directory} ({schedule.size().text()}) in {args.env} → {out}")
    result = replay(schedule, out, args.env)
    print(verdict_table(result.results))
    print(f"report: {out / 'index.html'}")
    original = _results(directory)
    if original is not None:
        before, after = failure_of(original), failure_of(result.results)
        if original.get("valid") == result.valid and (
            before is None or before.matches(result.results)
        ):
            what = before.text() if before else f"valid = {result.valid}"
            print(f"verdict reproduced: {what}, as in the original run")
        else:
            was = before.text() if before else f"valid = {original.get('valid')}"
            now = after.text() if after else f"valid = {result.valid}"
            print(f"verdict NOT reproduced: the original run had {was}; the replay has {now}")
    if args.env == "sim" and schedule.options.get("env") == "sim":
        problems = compare_runs(directory, out)
        if problems:
            print("the replay differs from the original: " + "; ".join(problems))
        else:
            print("history.jsonl and results.json identical to the original run")
    return exit_code(result.valid)


def handle_shrink(args: argparse.Namespace) -> int:
    from zynamo.replay import failure_of, replay
    from zynamo.schedule import ScheduleError, load
    from zynamo.shrink import shrink
    from zynamo.shrink_output import write_shrunk

    if args.time_limit <= 0:
        raise UsageError(f"--time-limit: must be positive, got {args.time_limit}")
    if args.max_candidates < 1:
        raise UsageError(f"--max-candidates: must be at least 1, got {args.max_candidates}")
    directory = _run_dir(args.dir)
    try:
        schedule = load(directory)
    except ScheduleError as err:
        raise UsageError(str(err)) from None
    original = _results(directory)
    if original is None:
        raise UsageError(f"{directory}: no results.json: the run was not checked")
    failure = failure_of(original, args.checker)
    if failure is None:
        which = f"the {args.checker} checker" if args.checker else "no checker"
        raise UsageError(f"{directory}: {which} found this run invalid: nothing to shrink")
    _stderr(f"shrinking {directory}: {failure.text()}; {schedule.size().text()}")
    if schedule.options.get("env") != "sim":
        out = directory / "replay-sim"
        if out.exists():
            shutil.rmtree(out)  # what an earlier shrink left: replayed again just below
        _stderr(f"a real-process run: replaying it in the simulator first → {out}")
        simulated = replay(schedule, out, "sim", progress=lambda line: None)
        if not failure.matches(simulated.results):
            print(
                f"The failure ({failure.text()}) did NOT reproduce when this real-process run"
                f" was replayed in the simulator (see {out / 'index.html'}), so it cannot be"
                " shrunk there. The schedule still replays on real processes:"
                f" zynamo replay {directory} --env real"
            )
            return EXIT_UNKNOWN
        _stderr("it fails the same way in the simulator: shrinking there")
        schedule = schedule.with_options(env="sim")
    try:
        result = shrink(
            schedule,
            failure,
            args.time_limit,
            progress=_stderr,
            max_candidates=args.max_candidates,
        )
    except ValueError as err:
        print(f"cannot shrink: {err}")
        return EXIT_UNKNOWN
    run, test_file = write_shrunk(directory, result)
    info = json.loads((directory / "shrunk" / "schedule.json").read_text())["shrink"]
    print(
        f"shrunk in {result.elapsed_s:.0f} s, {result.candidates} candidate runs"
        + (" (stopped by --time-limit: the best found so far)" if result.budget_spent else "")
        + (
            " (stopped by --max-candidates: the best found so far)"
            if result.candidates_spent
            else ""
        )
    )
    print(f"  from: {result.original.size().text()}")
    print(f"  to:   {result.minimal.size().text()}")
    print(f"summary: {info['summary']}")
    print(verdict_table(run.results))
    print(f"report: {directory / 'shrunk' / 'index.html'}")
    print(f"regression test: {test_file}")
    print("  (copy it into your tests: it fails while the bug is there, passes once it is fixed)")
    return 0


def register(subparsers: Any) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="run a stored schedule again (exactly, in the simulator)",
        description="Run DIR/schedule.json again, into DIR/replay-<env>-<time>/, and say whether"
        " the verdict reproduced.",
    )
    replay.add_argument("dir", type=Path, help="a run directory (e.g. results/latest)")
    replay.add_argument(
        "--env", default="sim", help=f"{', '.join(ENVIRONMENTS)} (default %(default)s)"
    )
    replay.add_argument("--toxiproxy", default=None, help="URL of an external Toxiproxy (real)")
    replay.set_defaults(handler=handle_replay)

    shrink = subparsers.add_parser(
        "shrink",
        help="shrink a failing run to a minimal reproducer and a regression test",
        description="Search, in the simulator, for the smallest schedule that fails the way DIR"
        " did; leave DIR/shrunk/ (a run with its report) and a pytest regression test.",
    )
    shrink.add_argument("dir", type=Path, help="a failing run directory (e.g. results/latest)")
    shrink.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_SHRINK_BUDGET_S,
        help="wall-clock seconds to spend shrinking (default %(default)s); the best schedule"
        " found by then is the result",
    )
    shrink.add_argument(
        "--max-candidates",
        type=int,
        default=DEFAULT_MAX_CANDIDATES,
        help="candidate runs to try at most (default %(default)s); unlike --time-limit, this"
        " bound gives the same result on any machine",
    )
    shrink.add_argument(
        "--checker",
        default=None,
        help="the checker whose failure to keep (default: the first invalid one)",
    )
    shrink.set_defaults(handler=handle_shrink)
