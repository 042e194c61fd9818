"""``zynamo check``: check history files for linearizability, one verdict line per file.

Reads the files named on the command line (I/O) and prints to stdout; the analysis is the
checker's. Exit code: 0 every file valid, 1 any invalid, 2 none invalid but some unknown,
254 for bad arguments or a file that cannot be read (the message names the file and line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from checker.api import FORMATS, MODELS, HistoryError, check_file, compose, exit_code
from checker.edn import EdnError, parse
from zynamo.verdicts import verdict_word

EXIT_BAD_ARGS = 254
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
            "if none is invalid but some is unknown, 254 for bad arguments or input."
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
        "--json", action="store_true", help="print every file's full result as JSON lines"
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="history files to check")
    parser.set_defaults(handler=run)


def _usage_error(message: str) -> Exception:
    # Imported here so that the checker can be used without the rest of the CLI.
    from zynamo.cli import UsageError

    return UsageError(message)


def _parse_options(args: argparse.Namespace) -> tuple[str, str, Any, float | None]:
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
    return args.model, args.format, initial, time_limit


def _verdict_line(result: dict[str, Any]) -> str:
    word = verdict_word(result["valid"])
    line = (
        f"{word:<8} {result['file']}  ({result['op_count']} ops, {result['model']}, "
        f"{result['time_s']:.3f} s)"
    )
    if result["valid"] is False:
        line += f"\n         {result.get('message', '')}"
    elif result["valid"] != True:  # noqa: E712 - "unknown"
        line += f"\n         {result.get('reason', '')}"
    return line


def run(args: argparse.Namespace) -> int:
    """Check every file; print verdicts and a summary; return the exit code."""
    model, fmt, initial, time_limit = _parse_options(args)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    unreadable = 0
    for path in args.files:
        try:
            result = check_file(path, model, fmt, time_limit, initial)
        except HistoryError as err:
            unreadable += 1
            print(f"error    {err}", file=sys.stderr)
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
    print(summary, file=sys.stderr if args.json else sys.stdout)
    if unreadable:
        return EXIT_BAD_ARGS
    return exit_code(compose(results))
