"""`zynamo analyze DIR`: check a stored run's history again and re-render its report.

Reads ``DIR/history.jsonl`` and ``DIR/test.json``, runs the workload's checkers, rewrites
``results.json`` and the report, prints the verdict table, and exits with the verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from zynamo.cli import UsageError
from zynamo.options import TestOptions
from zynamo.verdicts import exit_code, verdict_table


def handle(args: argparse.Namespace) -> int:
    from checker.api import ModelError, read_records
    from workloads.catalog import make_workload
    from zynamo.report import write_report
    from zynamo.runner import check_run

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
        if not _cut_off_last_line(history_path, err):
            raise UsageError(str(err)) from None
        history = read_records(str(history_path))
    try:
        results = check_run(options, make_workload(options.workload).checkers, history, directory)
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


def _cut_off_last_line(history_path: Path, err: ValueError) -> bool:
    """A crash can cut the history's last line in the middle: that line (and only that one,
    with no newline after it) is set aside in ``history.cut-line.txt`` with a warning, and the
    rest is analyzed. False when the error is anywhere else."""
    line = getattr(err, "line", None)
    data = history_path.read_bytes()
    if line is None or data.endswith(b"\n") or data.count(b"\n") != line - 1:
        return False
    kept, _, cut = data.rpartition(b"\n")
    (history_path.parent / "history.cut-line.txt").write_bytes(cut + b"\n")
    history_path.write_bytes(kept + b"\n" if kept else b"")
    print(
        f"warning: {history_path}: line {line} was cut off (a crash while writing?); analyzing"
        " the lines before it (the cut line is in history.cut-line.txt)",
        file=sys.stderr,
    )
    return True


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze", help="re-run the checkers on a stored run and re-render its report"
    )
    parser.add_argument("dir", type=Path, help="a run directory, e.g. results/latest")
    parser.set_defaults(handler=handle)
