"""The checker's public API: what the harness, the command line and the benchmarks call.

I/O only in `read_history`, `read_records` and `check_file` (each reads one file).

- ``read_history(path, fmt="auto") -> list[Op]``: a history file (this project's JSON Lines,
  Jepsen ``history.edn``, Jepsen etcd log) as paired client operations;
- ``read_records(path) -> list[dict]``: this project's history as raw records;
- ``check_linearizable(history, model="auto", time_limit_s=None, initial=None) -> dict``;
- ``check_file(path, ...) -> dict``: read and check one file (what ``zynamo check`` does);
- ``check_records(history, checkers, n, ...) -> dict``: the given ``Checker`` objects (a
  workload's ``checkers``) over this project's records, composed as
  ``{"valid": ..., "checkers": {name: result}}``;
- ``Checker``, ``CheckContext``, ``NoopChecker``: the checker interface (``checker.base``);
- ``compose(results) -> valid``: false ranks over "unknown" over true.

Every result is a JSON-serialisable dict with ``valid`` in (true, false, "unknown").
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from checker.base import CheckContext, Checker, NoopChecker, run_checkers
from checker.compose import compose, exit_code
from checker.linearizable import check_linearizable
from checker.models import MODELS, ModelError
from checker.ops import ANY, HistoryError, Op
from checker.readers import (
    FORMATS,
    detect_format,
    parse_history,
    read_history,
    read_records,
    read_text,
)

__all__ = [
    "ANY",
    "FORMATS",
    "MODELS",
    "CheckContext",
    "Checker",
    "HistoryError",
    "ModelError",
    "NoopChecker",
    "Op",
    "check_file",
    "check_linearizable",
    "check_records",
    "compose",
    "exit_code",
    "read_history",
    "read_records",
]


def check_file(
    path: str,
    model: str = "auto",
    fmt: str = "auto",
    time_limit_s: float | None = None,
    initial: Any = None,
) -> dict[str, Any]:
    """Read one history file and check it for linearizability.

    Raises `HistoryError` for an unreadable or malformed file and `ModelError` (with the
    file's name) when an operation does not fit the model; both name the line."""
    started = time.monotonic()
    text = read_text(path)
    chosen_format = detect_format(path, text) if fmt == "auto" else fmt
    ops = parse_history(text, path, chosen_format)
    try:
        result = check_linearizable(ops, model, time_limit_s, initial)
    except ModelError as err:
        raise HistoryError(path, err.op.line, str(err).split(": ", 1)[-1]) from None
    result["file"] = path
    result["format"] = chosen_format
    result["time_s"] = round(time.monotonic() - started, 6)
    return result


def check_records(
    history: list[dict[str, Any]],
    checkers: Iterable[Checker],
    n: int | None = None,
    time_limit_s: float | None = None,
) -> dict[str, Any]:
    """Run ``checkers`` (a workload's ``checkers``: exactly those, in order) over this
    project's history records and compose their verdicts.

    ``n`` is the replication factor, ``time_limit_s`` the budget of a linearizability search.
    Returns ``{"valid": ..., "checkers": {name: result}}``."""
    return run_checkers(checkers, history, CheckContext(n=n, time_limit_s=time_limit_s))
