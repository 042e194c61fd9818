"""``zynamo check``: check history files for linearizability, one verdict line per file.

Reads the files named on the command line (I/O) and prints to stdout; the analysis is the
checker's. Exit code: 0 every file valid, 1 any invalid, 2 none invalid but some unknown,
254 for bad arguments or a file that cannot be read (the message names the file and line),
255 when the checker itself failed on some file (a bug: the traceback goes to stderr). Running
out of memory is never a verdict: the file's verdict is unknown, with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from checker.api import (
    ALGORITHMS,
    FORMATS,
    MODELS,
    HistoryError,
    check_file,
    compose,
    default_limit_bytes,
    exit_code,
)
from checker.edn import EdnError, parse
from checker.memory import describe, parse_size
from zynamo.verdicts import verdict_word

EXIT_BAD_ARGS = 254
EXIT_CHECKER_FAILED = 255
MODEL_CHOICES = ("auto", *MODELS)


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand to the ``zynamo`` parser."""
    parser = subparsers.add_parser(
        "check",
        help="check history files for linearizability",
        description=(
            "Check each history file (this project's .jsonl, Jepsen history.edn, Jepsen "
            "etcd logs as in Porcupine's tests) for linearizability and print one verdict "
            "line per file and a summary. Exit 0 if all are valid, 1 if any is invalid, 2 "
            "if none is invalid but some is unknown (a time or memory limit was reached), "
            "254 for bad arguments or input, 255 if the checker itself failed."
        ),
    )
    parser.add_argument(
        "--model",
        default="auto",
        metavar="MODEL",
        help=f"one of {', '.join(MODEL_CHOICES)} (default auto: guess from the operations)",
    )
    parser.add_argument(
        "--format",
        default="auto",
        metavar="FORMAT",
        help=f"one of {', '.join(FORMATS)} (default auto: guess from name and content)",
    )
    parser.add_argument(
        "--initial",
        default=None,
        metavar="VALUE",
        help="a register's value before the first operation, as EDN/JSON (default nil)",
    )
    parser.add_argument(
        "--time-limit",
        default=None,
        metavar="SECONDS",
        help="give up on a file after this many seconds with verdict unknown (default none)",
    )
    parser.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help=(
            "give up on a key with verdict unknown once the process's address space exceeds "
            "SIZE (e.g. 1500M, 2G; 'none': no limit; default "
            f"{describe(default_limit_bytes())}: 2 GiB or 80%% of ulimit -v if lower)"
        ),
    )
    parser.add_argument(
        "--jobs",
        default="1",
        metavar="N",
        help=(
            "search independent keys in N worker processes (default 1); same verdicts and "
            "explanations as one process"
        ),
    )
    parser.add_argument(
        "--algorithm",
        default="auto",
        choices=ALGORITHMS,
        help=(
            "auto (default): keys whose written values are distinct in polynomial time, the "
            "others by the Wing-Gong-Lowe search; search: the search for every key"
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="print every file's full result as JSON lines"
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="history files to check; - reads standard input"
    )
    parser.set_defaults(handler=run)


def _usage_error(message: str) -> Exception:
    # Imported here so that the checker can be used without the rest of the CLI.
    from zynamo.cli import UsageError

    return UsageError(message)


@dataclass(frozen=True)
class _Options:
    model: str
    fmt: str
    initial: Any
    time_limit: float | None
    memory_limit: int | None
    jobs: int
    algorithm: str


def _parse_options(args: argparse.Namespace) -> _Options:
    if args.model not in MODEL_CHOICES:
        raise _usage_error(
            f"--model {args.model!r} is not a model; expected one of {', '.join(MODEL_CHOICES)}"
        )
    if args.format not in FORMATS:
        raise _usage_error(
            f"--format {args.format!r} is not a format; expected one of {', '.join(FORMATS)}"
        )
    initial: Any = None
    if args.initial is not None:
        if args.initial in ("null", "nil"):
            initial = None
        else:
            try:
                initial = parse(args.initial)
            except EdnError:
                raise _usage_error(
                    f"--initial {args.initial!r} is not a value; give a number, a string in "
                    'quotes ("a"), nil, or a vector such as [1 2]'
                ) from None
            if isinstance(initial, dict):
                raise _usage_error("--initial must be a number, string, nil or vector, not a map")
    time_limit: float | None = None
    if args.time_limit is not None:
        try:
            time_limit = float(args.time_limit)
        except ValueError:
            time_limit = -1.0
        if not time_limit > 0:
            raise _usage_error(
                f"--time-limit {args.time_limit!r} must be a positive number of seconds"
            )
    memory_limit: int | None = default_limit_bytes()
    if args.memory_limit is not None:
        if args.memory_limit.lower() == "none":
            memory_limit = None
        else:
            try:
                memory_limit = parse_size(args.memory_limit)
            except ValueError:
                raise _usage_error(
                    f"--memory-limit {args.memory_limit!r} must be a size such as 1500M or 2G, "
                    "or none"
                ) from None
    try:
        jobs = int(args.jobs)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise _usage_error(f"--jobs {args.jobs!r} must be a positive number of processes")
    return _Options(
        args.model, args.format, initial, time_limit, memory_limit, jobs, args.algorithm
    )


def _verdict_line(result: dict[str, Any]) -> str:
    word = verdict_word(result["valid"])
    line = (
        f"{word:<8} {result['file']}  ({result.get('op_count', '?')} ops, "
        f"{result.get('model', '?')}, {result['time_s']:.3f} s)"
    )
    if result["valid"] is False:
        line += f"\n         {result.get('message', '')}"
    elif result["valid"] != True:  # noqa: E712 - "unknown"
        line += f"\n         {result.get('reason', '')}"
    return line


NOT_LINEARIZABLE_WORKLOAD = (
    "linearizability does not apply to a set workload's history: Dynamo's sets are eventually"
    " consistent; `zynamo analyze RUN_DIR` runs its own checkers (lost and stale elements)"
)


def _check_one(path: str, options: _Options) -> dict[str, Any]:
    """One file's result (``-``: standard input); running out of memory while reading or
    checking it is unknown. Raises `HistoryError` for bad input and anything else for a bug of
    the checker."""
    if path == "-":
        return _check_stdin(options)
    result = _check_path(path, options)
    if (
        options.model == "auto"
        and result.get("format") == "jsonl"
        and result.get("model") == "set"
        and result.get("valid") is not True
    ):
        # This project's set workload is checked by its set checker, not for linearizability.
        result = {**result, "valid": "unknown", "reason": NOT_LINEARIZABLE_WORKLOAD}
    return result


def _check_stdin(options: _Options) -> dict[str, Any]:
    """Standard input, copied in chunks to a temporary file (the reader streams files)."""
    import os
    import shutil
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".history", delete=False) as copy:
        shutil.copyfileobj(sys.stdin.buffer, copy, 1 << 20)
    try:
        result = _check_one(copy.name, options)
    except HistoryError as err:
        raise HistoryError("-", err.line, err.message) from None
    finally:
        os.unlink(copy.name)
    return {**result, "file": "-"}


def _check_path(path: str, options: _Options) -> dict[str, Any]:
    started = time.monotonic()
    try:
        return check_file(
            path,
            options.model,
            options.fmt,
            options.time_limit,
            options.initial,
            options.memory_limit,
            options.jobs,
            options.algorithm,
        )
    except MemoryError:
        return {
            "valid": "unknown",
            "file": path,
            "reason": "the process ran out of memory (MemoryError) while reading or checking",
            "time_s": round(time.monotonic() - started, 6),
        }


def run(args: argparse.Namespace) -> int:
    """Check every file; print verdicts and a summary; return the exit code."""
    options = _parse_options(args)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    unreadable = 0
    failed = 0
    for path in args.files:
        try:
            result = _check_one(path, options)
        except HistoryError as err:
            unreadable += 1
            print(f"error    {err}", file=sys.stderr)
            if args.json:
                print(json.dumps({"valid": None, "file": path, "error": str(err)}))
            continue
        except Exception as err:  # a bug of the checker: never a verdict
            failed += 1
            traceback.print_exc()
            print(f"error    {path}: the checker failed: {err!r}", file=sys.stderr)
            continue
        results.append(result)
        if args.json:
            print(json.dumps(result, default=str))
        else:
            print(_verdict_line(result))
    elapsed = time.monotonic() - started
    counts = {word: 0 for word in ("valid", "INVALID", "unknown")}
    for result in results:
        counts[verdict_word(result["valid"])] += 1
    summary = (
        f"{len(args.files)} file(s) in {elapsed:.2f} s: {counts['valid']} valid, "
        f"{counts['INVALID']} invalid, {counts['unknown']} unknown"
    )
    if unreadable:
        summary += f", {unreadable} unreadable"
    if failed:
        summary += f", {failed} failed (checker error)"
    print(summary, file=sys.stderr if args.json else sys.stdout)
    verdict = exit_code(compose(results))
    if failed:
        return EXIT_CHECKER_FAILED
    if verdict == 1:  # an invalid file is never hidden behind an unreadable one
        return verdict
    if unreadable:
        return EXIT_BAD_ARGS
    return verdict
