"""`zynamo analyze DIR`: check a stored run's history again and re-render its report.

Reads ``DIR/history.jsonl`` and ``DIR/test.json``, runs the workload's checkers, rewrites
``results.json`` and the report, prints the verdict table, and exits with the verdict.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from zynamo.cli import UsageError
from zynamo.options import TestOptions
from zynamo.verdicts import exit_code, verdict_table


def handle(args: argparse.Namespace) -> int:
    from checker.api import ModelError, check_records, read_records
    from workloads.catalog import make_workload
    from zynamo.ci_checkers import extra_checkers
    from zynamo.report import write_report

    directory: Path = args.dir
    if directory.name == "latest" or not (directory / "history.jsonl").exists():
        directory = directory.resolve()
    history_path = directory / "history.jsonl"
    if not history_path.is_file():
        raise UsageError(f"DIR: {directory} holds no history.jsonl")
    options = TestOptions()
    test_json = directory / "test.json"
    if test_json.is_file():
        try:
            options = TestOptions.from_json(json.loads(test_json.read_text()))
        except (ValueError, TypeError) as err:
            raise UsageError(f"{test_json}: {err}") from None
        except OSError as err:
            raise UsageError(f"{test_json}: cannot be read: {err.strerror}") from None
    try:
        history: list[dict[str, Any]] = read_records(str(history_path))
    except ValueError as err:
        raise UsageError(str(err)) from None
    try:
        checkers = [*make_workload(options.workload).checkers, *extra_checkers(options, directory)]
        results = check_records(history, checkers, n=options.n)
    except ModelError as err:
        raise UsageError(
            f"{history_path}: the history does not fit the workload {options.workload!r} that"
            f" {test_json.name} names: {err}"
        ) from None
    (directory / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_report(directory)
    print(verdict_table(results))
    print(f"report: {directory / 'index.html'}")
    return exit_code(results.get("valid", "unknown"))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze", help="re-run the checkers on a stored run and re-render its report"
    )
    parser.add_argument("dir", type=Path, help="a run directory, e.g. results/latest")
    parser.set_defaults(handler=handle)
