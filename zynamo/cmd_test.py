"""`zynamo test` (one test run) and `zynamo test-all` (a matrix of workloads × nemeses).

Flags map onto ``TestOptions``; bad values exit 254 with a message naming the option and the
accepted values. A run prints progress, a verdict table and the report's path, and exits with
the verdict: 0 valid, 1 invalid, 2 unknown, 255 when the harness itself failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import traceback
from pathlib import Path
from typing import Any

from nemesis.registry import accepted_packages
from nemesis.shapes import ACCEPTED_SHAPES, PARTITION_MODES
from zynamo.cli import EXIT_HARNESS_FAILED, UsageError
from zynamo.nemesis_flags import add_nemesis_flags, flag_message, nemesis_values
from zynamo.options import WORKLOADS, TestOptions
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
    add_nemesis_flags(parser, DEFAULTS)


def options_from(args: argparse.Namespace, **overrides: Any) -> TestOptions:
    values: dict[str, Any] = {
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
    code, _ = run_one(options_from(args))
    return code


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
