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
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemesis.registry import accepted_packages
from nemesis.shapes import ACCEPTED_SHAPES, PARTITION_MODES
from zynamo.cli import EXIT_CODES_HELP, EXIT_HARNESS_FAILED, EXIT_INTERRUPTED, UsageError
from zynamo.nemesis_flags import add_nemesis_flags, flag_message, nemesis_values
from zynamo.options import ENVIRONMENTS, NETS, WORKLOADS, TestOptions
from zynamo.reproduce import reproduce_command
from zynamo.verdicts import exit_code, verdict_table

if TYPE_CHECKING:
    from zynamo.outcome import RunOutcome
    from zynamo.shard import Shard
    from zynamo.suite import SuiteRow

DEFAULTS = TestOptions()
DEFAULT_SUITE_NAME = "default"
# The explicit matrix's defaults, when only one of --workloads and --nemeses is given.
DEFAULT_MATRIX_WORKLOADS = "set,register"
DEFAULT_MATRIX_NEMESES = "none;partition;kill;partition+kill"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help line (unless the line says it already, or there is
    none to say); the exit codes' table kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


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
        "--net",
        default=DEFAULTS.net,
        help=f"how a real run's links are cut: {', '.join(NETS)} (default %(default)s:"
        " per-link Toxiproxy proxies; kernel: each node in its own network namespace, links"
        " cut by nftables rules; needs root, ip and nft)",
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
    parser.add_argument("--nodes", type=int, default=DEFAULTS.nodes, help="nodes in the cluster")
    parser.add_argument("--n", type=int, default=DEFAULTS.n, help="replicas per key")
    parser.add_argument("--r", type=int, default=DEFAULTS.r, help="read quorum")
    parser.add_argument("--w", type=int, default=DEFAULTS.w, help="write quorum")
    parser.add_argument("--versioning", default=DEFAULTS.versioning, help="dvv, vclock or lww")
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULTS.time_limit_s, help="seconds of workload"
    )
    parser.add_argument("--rate", type=float, default=DEFAULTS.rate, help="total ops/s")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULTS.concurrency, help="client processes at once"
    )
    parser.add_argument(
        "--nemesis-interval",
        type=float,
        default=DEFAULTS.nemesis_interval_s,
        help="seconds between nemesis operations",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="the run's seed (default: a random one, printed)"
    )
    parser.add_argument(
        "--toxiproxy",
        default=None,
        help="URL of an external Toxiproxy, reached before the run (default: the embedded one)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULTS.results_dir,
        help="where runs are stored, relative to the current directory",
    )
    parser.add_argument(
        "--recovery",
        type=float,
        default=DEFAULTS.recovery_s,
        help="longest wait (s) for replicas to agree after the heal",
    )
    parser.add_argument(
        "--timeout-ms",
        type=int,
        default=DEFAULTS.timeout_ms,
        help="a client request's deadline; later it is indeterminate (info)",
    )
    parser.add_argument(
        "--ops-per-key",
        type=int,
        default=DEFAULTS.ops_per_key,
        help="operations on a key before the workload moves to a fresh key",
    )
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
        "--tombstone-grace-ms",
        type=int,
        default=DEFAULTS.tombstone_grace_ms,
        help="how long every replica holds a tombstone before it is reaped"
        f" (default {DEFAULTS.tombstone_grace_ms}; short to test reaping)",
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
        "net": args.net,
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
        "tombstone_grace_ms": args.tombstone_grace_ms,
        "repairs": () if args.repairs == "none" else _csv(args.repairs),
    }
    values.update(_check_values(args))
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
    code, result, _ = run_one_outcome(options)
    return code, result


def run_one_outcome(options: TestOptions) -> tuple[int, Any, RunOutcome]:
    """Run a test, print its verdicts; (exit code, result or None, its outcome for CI).
    Ctrl-C gives 130 (the cluster healed and stopped), a harness failure its traceback and
    255."""
    from zynamo.outcome import failed_outcome, outcome_of
    from zynamo.runner import run_test
    from zynamo.sweep import load_run_history

    started = time.monotonic()
    try:
        result = run_test(options)
    except KeyboardInterrupt:
        print("interrupted: the cluster was healed and stopped (exit 130)", file=sys.stderr)
        elapsed = time.monotonic() - started
        return EXIT_INTERRUPTED, None, failed_outcome(options, None, "interrupted", elapsed)
    except Exception as err:
        traceback.print_exc()
        print("the harness itself failed (exit 255)", file=sys.stderr)
        message = f"{type(err).__name__}: {err}"
        elapsed = time.monotonic() - started
        return EXIT_HARNESS_FAILED, None, failed_outcome(options, None, message, elapsed)
    print(verdict_table(result.results))
    print(f"report: {result.directory / 'index.html'}")
    history = load_run_history(result.directory) if result.valid is not True else None
    outcome = outcome_of(
        options, result.results, result.directory, history, time.monotonic() - started
    )
    return exit_code(result.valid), result, outcome


def _refuse_unrunnable(options: TestOptions) -> None:
    """Refuse (254, nothing written) what cannot run here, before any directory is made."""
    from zynamo.preflight import preflight

    problem = preflight(options)
    if problem:
        raise UsageError(problem)


def handle_test(args: argparse.Namespace) -> int:
    options = options_from(args)
    seeds = _sweep_seeds(args, options)
    shard = _shard(args)
    junit = _junit_path(args)
    if shard is not None:
        if seeds is None:
            raise UsageError("--shard: splits a sweep; give --test-count or --seeds with it")
        seeds = shard.select(seeds)
        if not seeds:
            raise UsageError(f"--shard {shard}: this shard has no seeds; give more seeds")
    if args.check_determinism:
        if seeds is not None:
            raise UsageError("--check-determinism: give one seed, not --test-count or --seeds")
        _refuse_unrunnable(options)
        return check_determinism(options)
    _refuse_unrunnable(options)
    if seeds is not None:
        from zynamo.sweep import sweep

        label = str(shard) if shard else None
        code, _, outcomes = sweep(
            options, seeds, jobs=args.jobs, keep_all=args.keep_all, shard=label
        )
        if junit is not None:
            _write_junit(junit, outcomes)
        return code
    started = time.monotonic()
    code, result, outcome = run_one_outcome(options)
    if result is not None:
        from zynamo.summary import summary_document, write_summary

        document = summary_document(
            "test",
            [outcome],
            time.monotonic() - started,
            test=options.test_name,
            env=options.env,
            options=options.to_json(),
        )
        write_summary(result.directory / "summary.json", document)
    if junit is not None and code != EXIT_INTERRUPTED:
        _write_junit(junit, [outcome])
    if result is not None or code == EXIT_HARNESS_FAILED:
        print(f"reproduce: {reproduce_command(options)}")
    return code


def _shard(args: argparse.Namespace) -> Shard | None:
    from zynamo.shard import parse_shard

    if args.shard is None:
        return None
    try:
        return parse_shard(args.shard)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _junit_path(args: argparse.Namespace) -> Path | None:
    """``--junit FILE``, refused now if it can never be written (a directory, say)."""
    path: Path | None = args.junit
    if path is None:
        return None
    if path.is_dir():
        raise UsageError(f"--junit: {path} is a directory; give a file such as junit.xml")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise UsageError(f"--junit: {path}: its folder cannot be created")
    return path


def _write_junit(path: Path, outcomes: list[RunOutcome]) -> None:
    from zynamo.junit import write_junit

    write_junit(path, outcomes)
    print(f"junit: {path}")


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


def matrix_options(args: argparse.Namespace) -> list[TestOptions]:
    """Every row of the explicit test-all matrix (``--workloads`` × ``--nemeses``), validated
    before any runs: a bad row is refused at once, not after the rows before it have run."""
    workloads = _csv(DEFAULT_MATRIX_WORKLOADS if args.workloads is None else args.workloads)
    if not workloads:
        raise UsageError(f"--workloads: give at least one of {', '.join(WORKLOADS)}")
    nemeses_text = DEFAULT_MATRIX_NEMESES if args.nemeses is None else args.nemeses
    nemeses = [_csv(group.replace("+", ",")) for group in nemeses_text.split(";")]
    if not all(nemeses):
        raise UsageError(
            "--nemeses: every ;-separated set needs a fault (or none), got "
            f"{nemeses_text!r}; e.g. none;partition;kill;partition+kill"
        )
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    return [
        options_from(args, workload=workload, nemesis=nemesis, name="", seed=seed)
        for workload in workloads
        for nemesis in nemeses
    ]


def suite_matrix(args: argparse.Namespace) -> tuple[list[TestOptions], list[SuiteRow]]:
    """The rows ``--suite`` (and ``--rows``) name over the shared flags, every one validated
    before any runs; (their options, the rows)."""
    from zynamo.suite import suite_options, suite_rows

    try:
        rows = list(suite_rows(args.suite, _csv(args.rows or "")))
    except ValueError as err:
        raise UsageError(str(err)) from None
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    base = options_from(args, seed=seed)
    try:
        return suite_options(base, rows), rows
    except ValueError as err:
        raise UsageError(flag_message(str(err))) from None


def _test_all_rows(
    args: argparse.Namespace,
) -> tuple[list[TestOptions], list[SuiteRow] | None]:
    """The explicit matrix when ``--workloads`` or ``--nemeses`` is given, else the suite."""
    explicit = args.workloads is not None or args.nemeses is not None
    if explicit and (args.rows is not None or args.suite != DEFAULT_SUITE_NAME):
        raise UsageError(
            "--suite/--rows and --workloads/--nemeses: give a suite's rows or an explicit"
            " matrix, not both"
        )
    if explicit:
        return matrix_options(args), None
    return suite_matrix(args)


def handle_test_all(args: argparse.Namespace) -> int:
    from zynamo.outcome import worst_exit_code
    from zynamo.summary import suite_fields, summary_document, write_summary

    rows, suite = _test_all_rows(args)
    shard = _shard(args)
    junit = _junit_path(args)
    if shard is not None:
        rows = shard.select(rows)
        if suite is not None:
            suite = [row for row in suite if row.name in {o.name for o in rows}]
        if not rows:
            raise UsageError(f"--shard {shard}: this shard has no rows of the matrix")
    seeds = _sweep_seeds(args, rows[0])
    for options in rows if suite is not None else rows[:1]:
        _refuse_unrunnable(options)  # the explicit matrix's rows differ only in workload, nemesis
    directory = _new_matrix_dir(rows[0].results_dir)
    started = time.monotonic()
    outcomes: list[RunOutcome] = []
    for options in rows:
        if seeds is not None:
            from zynamo.sweep import sweep

            code, _, row_outcomes = sweep(options, seeds, jobs=args.jobs, keep_all=args.keep_all)
            outcomes.extend(row_outcomes)
        else:
            code, _, outcome = run_one_outcome(options)
            outcomes.append(outcome)
        if code == EXIT_INTERRUPTED:
            break
    print()
    print(test_all_table(outcomes, seeds is not None))
    document = summary_document(
        "test-all",
        outcomes,
        time.monotonic() - started,
        env=rows[0].env,
        shard=str(shard) if shard else None,
        rows=len(rows),
        **({} if suite is None else suite_fields(args.suite, suite)),
        **({} if seeds is None else {"seeds": len(seeds)}),
    )
    write_summary(directory / "summary.json", document)
    print(f"summary: {directory / 'summary.json'}")
    if junit is not None:
        _write_junit(junit, outcomes)
    if outcomes and outcomes[-1].error == "interrupted":
        return EXIT_INTERRUPTED
    return worst_exit_code([o.exit_code for o in outcomes])


def test_all_table(outcomes: list[RunOutcome], swept: bool) -> str:
    """One line per run (the row's name, workload, nemesis, verdict, report); a suite swept
    over seeds: one line per row with its verdict counts and the seeds that failed."""
    lines = [f"{'row':<24}  {'workload':<16}  {'nemesis':<18}  {'verdict':<14}  report"]
    if not swept:
        for o in outcomes:
            where = o.directory or "-"
            lines.append(
                f"{o.test:<24}  {o.workload:<16}  {o.nemesis:<18}  {o.verdict:<14}  {where}"
            )
        return "\n".join(lines)
    lines[0] = f"{'row':<24}  {'workload':<16}  {'nemesis':<18}  {'seeds':>5}  failing seeds"
    by_row: dict[str, list[RunOutcome]] = {}
    for o in outcomes:
        by_row.setdefault(o.test, []).append(o)
    for name, runs in by_row.items():
        failed = [
            f"{o.seed} ({', '.join(o.failing) or o.error or o.verdict})"
            for o in runs
            if o.exit_code
        ]
        lines.append(
            f"{name:<24}  {runs[0].workload:<16}  {runs[0].nemesis:<18}  {len(runs):>5}  "
            + ("; ".join(failed) or "none")
        )
    return "\n".join(lines)


def _new_matrix_dir(results: Path) -> Path:
    """``results/test-all/<timestamp>/``: the matrix's summary (each row has its own run)."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    directory = results / "test-all" / stamp
    directory.mkdir(parents=True)
    return directory


def add_check_flags(parser: argparse.ArgumentParser) -> None:
    checks = parser.add_argument_group("checks beside the workload's")
    checks.add_argument(
        "--log-pattern",
        action="append",
        default=None,
        metavar="REGEX",
        help="a node-log line matching it makes the run invalid; repeat for several, 'none' for"
        " no log check (default: tracebacks and ERROR/CRITICAL lines)",
    )
    checks.add_argument(
        "--log-ignore",
        action="append",
        default=None,
        metavar="REGEX",
        help="log lines matching it are never findings (default: a store refused because the"
        " nemesis damaged it)",
    )
    checks.add_argument(
        "--availability",
        type=float,
        default=None,
        metavar="FRACTION",
        help="invalid if fewer than FRACTION (0..1) of the operations invoked inside fault"
        " windows succeed (default: not checked)",
    )


def _check_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {"availability": args.availability}
    for flag, name in (("log_pattern", "log_patterns"), ("log_ignore", "log_ignore")):
        given = getattr(args, flag)
        if given is not None:
            values[name] = () if given == ["none"] else tuple(given)
    return values


def add_ci_flags(parser: argparse.ArgumentParser, split: str) -> None:
    add_check_flags(parser)
    ci = parser.add_argument_group("CI")
    ci.add_argument(
        "--junit",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a JUnit XML report: a test case per run and per checker (default: none)",
    )
    ci.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help=f"run only shard I of N of {split}, dealt round-robin (default: all)",
    )


def add_sweep_flags(group: Any, count_help: str, seeds_help: str) -> Any:
    """``--test-count``, ``--seeds``, ``--jobs`` and ``--keep-all`` in ``group`` (an argparse
    argument group), for ``test`` and ``test-all`` alike; returns the group."""
    group.add_argument("--test-count", type=int, default=None, help=count_help)
    group.add_argument("--seeds", default=None, help=seeds_help)
    group.add_argument(
        "--jobs", type=int, default=1, help="simulator runs at a time in a sweep (default 1)"
    )
    group.add_argument(
        "--keep-all",
        action="store_true",
        help="keep every run's directory in a sweep (default: only failing and unknown ones)",
    )
    return group


def register(subparsers: Any) -> None:
    test = subparsers.add_parser(
        "test",
        formatter_class=HelpFormatter,
        epilog=EXIT_CODES_HELP,
        help="run one nemesis test on a local cluster",
        description="Run a Jepsen-style test: a local cluster behind Toxiproxy, a workload "
        "under the nemesis, heal, check, report.",
    )
    add_test_flags(test)
    test.add_argument(
        "--name", default="", help="the test's name in results/ (default: from its options)"
    )
    add_ci_flags(test, "a sweep's seeds")
    sweeps = add_sweep_flags(
        test.add_argument_group("seed sweeps and determinism"),
        "run N seeds, from --seed (default a random one) on; a summary at the end",
        "run the seeds A..B (both included)",
    )
    sweeps.add_argument(
        "--check-determinism",
        action="store_true",
        help="run the test twice (--env sim) and fail with 255 if the runs differ",
    )
    test.set_defaults(handler=handle_test)

    matrix = subparsers.add_parser(
        "test-all",
        help="run a suite of test rows (default: the default suite), or a workloads x nemeses"
        " matrix",
        description="Run every row of a suite (zynamo/suite.py; default: the default suite,"
        " rows chosen for how much of the protocol they reach), or with --workloads/--nemeses"
        " every workload under every nemesis set. A row's own options win over the shared"
        " flags; every row is validated before the first runs. With --test-count or --seeds,"
        " every row runs over those seeds (a sweep per row). Exit code: the worst run's.",
        formatter_class=HelpFormatter,
        epilog=EXIT_CODES_HELP,
    )
    matrix.add_argument(
        "--suite",
        default=DEFAULT_SUITE_NAME,
        help="the named suite of rows to run (default %(default)s)",
    )
    matrix.add_argument(
        "--rows", default=None, help="only these rows of the suite, by name, comma-separated"
    )
    matrix.add_argument(
        "--workloads",
        default=None,
        help=f"an explicit matrix instead of a suite: comma-separated workloads"
        f" (default with --nemeses: {DEFAULT_MATRIX_WORKLOADS})",
    )
    matrix.add_argument(
        "--nemeses",
        default=None,
        help="an explicit matrix instead of a suite: semicolon-separated nemesis sets, faults"
        f" joined by + (default with --workloads: {DEFAULT_MATRIX_NEMESES})",
    )
    add_test_flags(matrix, matrix=True)
    add_ci_flags(matrix, "the matrix's rows")
    add_sweep_flags(
        matrix.add_argument_group("seed sweeps of every row"),
        "run every row over N seeds, from --seed (default a random one) on",
        "run every row over the seeds A..B",
    )
    matrix.set_defaults(handler=handle_test_all)
