"""`zynamo test` (one test run) and `zynamo test-all` (a matrix of workloads × nemeses).

Flags map onto ``TestOptions``; bad values exit 254 with a message naming the option and the
accepted values. A run prints progress, a verdict table and the report's path, and exits with
the verdict: 0 valid, 1 invalid, 2 unknown, 255 when the harness itself failed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import traceback
from pathlib import Path
from typing import Any

from nemesis.registry import accepted_packages
from nemesis.shapes import ACCEPTED_SHAPES, PARTITION_MODES
from zynamo.cli import EXIT_HARNESS_FAILED, UsageError
from zynamo.nemesis_flags import add_nemesis_flags, flag_message, nemesis_values
from zynamo.options import ENVIRONMENTS, WORKLOADS, TestOptions
from zynamo.reproduce import reproduce_command
from zynamo.verdicts import exit_code, verdict_table, verdict_word

DEFAULTS = TestOptions()


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_test_flags(parser: argparse.ArgumentParser, matrix: bool = False) -> None:
    if not matrix:
        parser.add_argument(
            "--workload", default=DEFAULTS.workload, help=f"one of {', '.join(WORKLOADS)}"
        )
        parser.add_argument(
            "--nemesis",
            default=",".join(DEFAULTS.nemesis),
            help=f"comma-separated faults: {', '.join(accepted_packages())} (default %(default)s)",
        )
    parser.add_argument(
        "--env",
        default=DEFAULTS.env,
        help=f"where the test runs: {', '.join(ENVIRONMENTS)} (default %(default)s: local"
        " processes behind Toxiproxy; sim: the deterministic simulator, in virtual time)",
    )
    parser.add_argument(
        "--partition",
        default=",".join(DEFAULTS.partition_shapes),
        help=f"partition shapes to choose from: {', '.join(ACCEPTED_SHAPES)}",
    )
    parser.add_argument(
        "--partition-mode",
        default=DEFAULTS.partition_mode,
        help=f"how a cut link behaves: {', '.join(PARTITION_MODES)} (default %(default)s)",
    )
    parser.add_argument("--nodes", type=int, default=DEFAULTS.nodes)
    parser.add_argument("--n", type=int, default=DEFAULTS.n, help="replicas per key")
    parser.add_argument("--r", type=int, default=DEFAULTS.r, help="read quorum")
    parser.add_argument("--w", type=int, default=DEFAULTS.w, help="write quorum")
    parser.add_argument("--versioning", default=DEFAULTS.versioning, help="dvv, vclock or lww")
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULTS.time_limit_s, help="seconds of workload"
    )
    parser.add_argument("--rate", type=float, default=DEFAULTS.rate, help="total ops/s")
    parser.add_argument("--concurrency", type=int, default=DEFAULTS.concurrency)
    parser.add_argument(
        "--nemesis-interval",
        type=float,
        default=DEFAULTS.nemesis_interval_s,
        help="seconds between nemesis operations",
    )
    parser.add_argument("--seed", type=int, default=None, help="default: a random seed")
    parser.add_argument("--toxiproxy", default=None, help="URL of an external Toxiproxy")
    parser.add_argument("--results", type=Path, default=DEFAULTS.results_dir)
    parser.add_argument(
        "--recovery",
        type=float,
        default=DEFAULTS.recovery_s,
        help="longest wait (s) for replicas to agree after the heal",
    )
    parser.add_argument("--timeout-ms", type=int, default=DEFAULTS.timeout_ms)
    parser.add_argument("--ops-per-key", type=int, default=DEFAULTS.ops_per_key)
    parser.add_argument(
        "--active-keys",
        type=int,
        default=DEFAULTS.active_keys,
        help=f"keys in use at a time (default {DEFAULTS.active_keys})",
    )
    parser.add_argument(
        "--key-distribution",
        default=DEFAULTS.key_distribution,
        help="how an operation picks among the active keys: uniform, or zipf (a few hot keys)",
    )
    parser.add_argument(
        "--repairs",
        default=",".join(DEFAULTS.repairs),
        help="repair mechanisms left on, comma-separated: hints, read-repair, anti-entropy"
        " (default all; 'none' for none; docs/repair.md says what each alone must recover)",
    )
    add_nemesis_flags(parser, DEFAULTS)


def options_from(args: argparse.Namespace, **overrides: Any) -> TestOptions:
    values: dict[str, Any] = {
        "env": args.env,
        "partition_shapes": _csv(args.partition),
        "partition_mode": args.partition_mode,
        "nodes": args.nodes,
        "n": args.n,
        "r": args.r,
        "w": args.w,
        "versioning": args.versioning,
        "time_limit_s": args.time_limit,
        "rate": args.rate,
        "concurrency": args.concurrency,
        "nemesis_interval_s": args.nemesis_interval,
        "seed": args.seed if args.seed is not None else random.SystemRandom().randrange(2**31),
        "toxiproxy": args.toxiproxy,
        "results_dir": args.results,
        "recovery_s": args.recovery,
        "timeout_ms": args.timeout_ms,
        "ops_per_key": args.ops_per_key,
        "active_keys": args.active_keys,
        "key_distribution": args.key_distribution,
        "repairs": () if args.repairs == "none" else _csv(args.repairs),
    }
    if hasattr(args, "workload"):
        values["workload"] = args.workload
        values["nemesis"] = _csv(args.nemesis)
        values["name"] = args.name
    values.update(overrides)
    try:
        values.update(nemesis_values(args))
        return TestOptions(**values)
    except ValueError as err:
        raise UsageError(flag_message(str(err))) from None


def run_one(options: TestOptions) -> tuple[int, Any]:
    """Run a test, print its verdicts; return (exit code, result or None)."""
    from zynamo.runner import run_test

    try:
        result = run_test(options)
    except KeyboardInterrupt:
        print("interrupted: the cluster was healed and stopped", file=sys.stderr)
        return EXIT_HARNESS_FAILED, None
    except Exception:
        traceback.print_exc()
        print("the harness itself failed (exit 255)", file=sys.stderr)
        return EXIT_HARNESS_FAILED, None
    print(verdict_table(result.results))
    print(f"report: {result.directory / 'index.html'}")
    return exit_code(result.valid), result


def handle_test(args: argparse.Namespace) -> int:
    options = options_from(args)
    seeds = _sweep_seeds(args, options)
    if args.check_determinism:
        if seeds is not None:
            raise UsageError("--check-determinism: give one seed, not --test-count or --seeds")
        return check_determinism(options)
    if seeds is not None:
        from zynamo.sweep import sweep

        code, _, _ = sweep(options, seeds, jobs=args.jobs, keep_all=args.keep_all)
        return code
    code, result = run_one(options)
    if result is not None:
        print(f"reproduce: {reproduce_command(options)}")
    return code


def _sweep_seeds(args: argparse.Namespace, options: TestOptions) -> list[int] | None:
    """The seeds of a sweep (``--test-count`` from ``--seed`` on, or ``--seeds A..B``), or None
    for a single run."""
    from zynamo.sweep import parse_seed_range

    if args.jobs < 1:
        raise UsageError(f"--jobs: must be at least 1, got {args.jobs}")
    if args.test_count is not None and args.seeds is not None:
        raise UsageError("--test-count and --seeds: give one or the other")
    if args.seeds is not None:
        try:
            return list(parse_seed_range(args.seeds))
        except ValueError as err:
            raise UsageError(str(err)) from None
    if args.test_count is not None:
        if args.test_count < 1:
            raise UsageError(f"--test-count: must be at least 1, got {args.test_count}")
        return list(range(options.seed, options.seed + args.test_count))
    return None


def check_determinism(options: TestOptions) -> int:
    """Run the test twice; 255 naming the first difference if the runs differ, else the
    verdict's exit code."""
    from zynamo.determinism import compare_runs, determinism_dir, run_twice

    if options.env != "sim":
        raise UsageError("--check-determinism: only --env sim runs are deterministic")
    directory = determinism_dir(options)
    print(f"running {options.test_name} (seed {options.seed}) twice → {directory}")
    try:
        first, second = run_twice(options, directory)
    except Exception:
        traceback.print_exc()
        print("the harness itself failed (exit 255)", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    problems = compare_runs(first, second)
    if problems:
        for problem in problems:
            print(f"NOT deterministic: {problem}", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    from zynamo.verdicts import exit_code as verdict_exit_code

    results = json.loads((first / "results.json").read_text())
    lines = (first / "history.jsonl").read_text().count("\n")
    print(f"deterministic: history.jsonl ({lines} lines) and results.json identical in two runs")
    print(verdict_table(results))
    return verdict_exit_code(results.get("valid", "unknown"))


def handle_test_all(args: argparse.Namespace) -> int:
    workloads = _csv(args.workloads)
    nemeses = [_csv(group.replace("+", ",")) for group in args.nemeses.split(";")]
    rows: list[tuple[str, str, str, str]] = []
    worst = 0
    for workload in workloads:
        for nemesis in nemeses:
            options = options_from(args, workload=workload, nemesis=nemesis, name="")
            code, result = run_one(options)
            verdict: str = verdict_word(result.valid) if result else "harness failed"
            where = str(result.directory) if result else "-"
            rows.append((workload, "+".join(nemesis), verdict, where))
            worst = max(worst, code)
    print()
    print(f"{'workload':<10}  {'nemesis':<24}  {'verdict':<14}  report")
    for row in rows:
        print("{:<10}  {:<24}  {:<14}  {}".format(*row))
    return worst


def register(subparsers: Any) -> None:
    test = subparsers.add_parser(
        "test",
        help="run one nemesis test on a local cluster",
        description="Run a Jepsen-style test: a local cluster behind Toxiproxy, a workload "
        "under the nemesis, heal, check, report.",
    )
    add_test_flags(test)
    test.add_argument("--name", default="", help="the test's name in results/")
    sweeps = test.add_argument_group("seed sweeps and determinism")
    sweeps.add_argument(
        "--test-count",
        type=int,
        default=None,
        help="run N seeds, from --seed (default a random one) on; a summary at the end",
    )
    sweeps.add_argument("--seeds", default=None, help="run the seeds A..B (both included)")
    sweeps.add_argument(
        "--jobs", type=int, default=1, help="simulator runs at a time in a sweep (default 1)"
    )
    sweeps.add_argument(
        "--keep-all",
        action="store_true",
        help="keep every run's directory in a sweep (default: only failing and unknown ones)",
    )
    sweeps.add_argument(
        "--check-determinism",
        action="store_true",
        help="run the test twice (--env sim) and fail with 255 if the runs differ",
    )
    test.set_defaults(handler=handle_test)

    matrix = subparsers.add_parser(
        "test-all", help="run a matrix of workloads x nemeses, one row per test"
    )
    matrix.add_argument("--workloads", default="set,register", help="comma-separated")
    matrix.add_argument(
        "--nemeses",
        default="none;partition;kill;partition+kill",
        help="semicolon-separated nemesis sets, faults joined by + (default %(default)s)",
    )
    add_test_flags(matrix, matrix=True)
    matrix.set_defaults(handler=handle_test_all)
