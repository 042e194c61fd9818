"""Seed sweeps: one test over many seeds (``--test-count N`` or ``--seeds A..B``), in parallel
worker processes on the simulator, and a summary a person and CI can read.

Each seed is a whole ``run_test`` in its own directory under the sweep's
(``results/<test>/sweep-<timestamp>/seed-<seed>/``). A seed whose verdict is valid keeps only
its line in the summary and its directory is deleted, unless ``keep_all``; failing and unknown
seeds keep everything, report included. Progress prints after every seed (seeds done, failures
so far, rate, time left); the end is a table (seed, verdict, ops, lost, failing checkers) and
``summary.json`` (format: docs/history.md). The exit code is the worst verdict, as Jepsen's
test-all: harness failure (255) over invalid (1) over unknown (2) over valid (0).

Runs in the simulator go ``jobs`` at a time in worker processes; a run is a function of its seed,
so the results do not depend on ``jobs``. Real runs go one after another (they use both cores
already). Does file and process I/O.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zynamo.cli import EXIT_VALID
from zynamo.options import TestOptions
from zynamo.outcome import RunOutcome, failed_outcome, outcome_of, worst_exit_code
from zynamo.summary import summary_document, write_summary

Progress = Callable[[str], None]
TABLE_ROWS = 40  # the end-of-sweep table lists every run up to this many, else the failing


def parse_seed_range(text: str) -> range:
    """``"A..B"`` (both included) as a range; ``ValueError`` naming the form otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", text)
    if not match or int(match.group(1)) > int(match.group(2)):
        raise ValueError(f"--seeds: expected A..B with 0 <= A <= B, got {text!r}")
    return range(int(match.group(1)), int(match.group(2)) + 1)


# A sweep's run: the outcome every batch of runs shares (zynamo.outcome).
SeedResult = RunOutcome


def run_seed(options: TestOptions, directory: Path, keep_all: bool) -> SeedResult:
    """One seed's run in ``directory``: summarised, its directory kept only if it failed or
    ``keep_all``. Never raises for a failure of the run itself: that is a result too."""
    from zynamo.report import write_report
    from zynamo.runner import run_test

    started = time.monotonic()
    try:
        result = run_test(options, progress=lambda line: None, directory=directory, report=False)
    except Exception as err:
        (directory / "harness-error.txt").write_text(traceback.format_exc())
        message = f"{type(err).__name__}: {err}"
        return failed_outcome(options, directory, message, time.monotonic() - started)
    history = load_run_history(directory) if result.valid is not True else None
    outcome = outcome_of(options, result.results, directory, history, time.monotonic() - started)
    keep = keep_all or outcome.exit_code != EXIT_VALID
    if keep:
        write_report(directory)
    else:
        shutil.rmtree(directory, ignore_errors=True)
    return outcome.with_directory(str(directory) if keep else None)


def load_run_history(directory: Path) -> list[dict[str, Any]] | None:
    """The run's history, for findings in words; None when it cannot be read."""
    from zynamo.report.history import load_history

    try:
        return load_history(directory / "history.jsonl")
    except (OSError, ValueError):
        return None


def _run_seed_in_worker(options: TestOptions, directory: str, keep_all: bool) -> SeedResult:
    return run_seed(options, Path(directory), keep_all)


def _new_sweep_dir(options: TestOptions) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    directory = options.results_dir / options.test_name / f"sweep-{stamp}"
    directory.mkdir(parents=True)
    latest = options.results_dir / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(directory.relative_to(options.results_dir), target_is_directory=True)
    return directory


def _results(
    options: TestOptions, seeds: list[int], directory: Path, jobs: int, keep_all: bool
) -> Iterator[SeedResult]:
    """Each seed's result as it finishes (in parallel in the simulator)."""
    runs = [(dataclasses.replace(options, seed=s), directory / f"seed-{s}") for s in seeds]
    if jobs <= 1 or options.env != "sim":
        for run_options, run_dir in runs:
            yield run_seed(run_options, run_dir, keep_all)
        return
    context = multiprocessing.get_context("fork")  # the parent holds no threads or sockets
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: set[Future[SeedResult]] = set()
        queue = list(reversed(runs))
        while queue or pending:
            while queue and len(pending) < 2 * jobs:  # a short queue: Ctrl-C stops quickly
                run_options, run_dir = queue.pop()
                pending.add(pool.submit(_run_seed_in_worker, run_options, str(run_dir), keep_all))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


def sweep(
    options: TestOptions,
    seeds: list[int],
    jobs: int = 1,
    keep_all: bool = False,
    progress: Progress = print,
    shard: str | None = None,
) -> tuple[int, Path, list[SeedResult]]:
    """Run ``options`` once per seed; (exit code, sweep directory, results by seed).
    ``shard`` ("I/N") only labels the summary: ``seeds`` are this shard's already."""
    directory = _new_sweep_dir(options)
    where = "the simulator" if options.env == "sim" else "real processes"
    parallel = jobs if options.env == "sim" else 1
    progress(
        f"sweep of {options.test_name}: {len(seeds)} seeds on {where},"
        f" {parallel} at a time → {directory}"
    )
    started = time.monotonic()
    results: list[SeedResult] = []
    failures = 0
    for result in _results(options, seeds, directory, jobs, keep_all):
        results.append(result)
        failures += result.exit_code != EXIT_VALID
        elapsed = time.monotonic() - started
        rate = len(results) / elapsed if elapsed > 0 else 0.0
        left = (len(seeds) - len(results)) / rate if rate else 0.0
        note = "" if result.exit_code == EXIT_VALID else f" ({', '.join(result.failing)})"
        progress(
            f"[{len(results):>{len(str(len(seeds)))}}/{len(seeds)}] seed {result.seed}:"
            f" {result.verdict}{note} | failures {failures} | {rate * 60:.0f} seeds/min"
            f" | {left:.0f} s left"
        )
    results.sort(key=lambda r: r.seed)
    elapsed = time.monotonic() - started
    code = worst_exit_code([r.exit_code for r in results])
    document = summary_document(
        "sweep",
        results,
        elapsed,
        test=options.test_name,
        env=options.env,
        options=options.to_json(),
        seeds=len(seeds),
        shard=shard,
        jobs=parallel,
    )
    write_summary(directory / "summary.json", document)
    counts: dict[str, int] = document["counts"]
    progress(summary_table(results))
    progress(
        f"{len(results)} seeds in {elapsed:.1f} s: "
        + ", ".join(f"{n} {word}" for word, n in counts.items() if n)
        + f"; summary: {directory / 'summary.json'}"
    )
    return code, directory, results


def summary_table(results: list[SeedResult]) -> str:
    """The end-of-sweep table: every run when there are few, else the ones that failed."""
    shown = results if len(results) <= TABLE_ROWS else [r for r in results if r.exit_code]
    lines = [f"{'seed':>8}  {'verdict':<14}  {'ops':>6}  {'lost':>5}  failing checkers"]
    for r in shown:
        failing = ", ".join(r.failing) or r.error or "-"
        lines.append(f"{r.seed:>8}  {r.verdict:<14}  {r.ops:>6}  {r.lost:>5}  {failing}")
    if len(shown) < len(results):
        lines.append(f"… and {len(results) - len(shown)} valid seeds (every run: summary.json)")
    failed = [r for r in results if r.exit_code]
    if failed:
        lines.append(f"reproduce seed {failed[0].seed}: {failed[0].reproduce}")
    return "\n".join(lines)
