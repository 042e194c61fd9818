"""The checker's public API: what the harness, the command line and the benchmarks call.

I/O only in `read_history`, `read_records` and `check_file` (each reads one file).

- ``read_history(path, fmt="auto") -> list[Op]``: a history file (this project's JSON Lines,
  Jepsen ``history.edn``, Jepsen etcd log) as paired client operations;
- ``read_records(path) -> list[dict]``: this project's history as raw records;
- ``check_linearizable(history, model="auto", time_limit_s=None, initial=None) -> dict``;
- ``check_file(path, ..., memory_limit, jobs, algorithm) -> dict``: read (streaming) and
  check one file, what ``zynamo check`` does (``checker.files``);
- ``read_history_streaming(path, fmt)``: a history read in chunks, with its format;
- ``default_limit_bytes()``: the search's default memory budget;
- ``check_records(history, checkers, n, ...) -> dict``: the given ``Checker`` objects (a
  workload's ``checkers``) over this project's records, composed as
  ``{"valid": ..., "checkers": {name: result}}``;
- ``Checker``, ``CheckContext``, ``NoopChecker``: the checker interface (``checker.base``);
- ``compose(results) -> valid``: false ranks over "unknown" over true.

Every result is a JSON-serialisable dict with ``valid`` in (true, false, "unknown").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from checker.base import CheckContext, Checker, NoopChecker, run_checkers
from checker.compose import compose, exit_code
from checker.files import check_history_file as check_file
from checker.linearizable import ALGORITHMS, check_linearizable
from checker.memory import default_limit_bytes
from checker.models import MODELS, ModelError
from checker.ops import ANY, HistoryError, Op
from checker.readers import (
    FORMATS,
    read_history,
    read_history_streaming,
    read_records,
)

__all__ = [
    "ALGORITHMS",
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
    "default_limit_bytes",
    "exit_code",
    "read_history",
    "read_history_streaming",
    "read_records",
]


def check_records(
    history: list[dict[str, Any]],
    checkers: Iterable[Checker],
    n: int | None = None,
    time_limit_s: float | None = None,
    journals: Iterable[dict[str, Any]] | None = None,
    versioning: str | None = None,
    repairs: Iterable[str] | None = None,
    journal_clock_slack_ns: int | None = None,
    tombstone_grace_ms: float | None = None,
) -> dict[str, Any]:
    """Run ``checkers`` (a workload's ``checkers``: exactly those, in order) over this
    project's history records and compose their verdicts.

    ``n`` is the replication factor, ``time_limit_s`` the budget of a linearizability search,
    ``journals`` the nodes' event journals (``checker.dynamo.journals.read_journals``) and
    ``versioning`` the cluster's, for the checks of the nodes' own events; ``repairs`` the
    repair mechanisms left on (None: all), which decide what convergence is owed;
    ``journal_clock_slack_ns`` how far apart the journals' clocks may be (0: the simulator's
    one exact clock; None: the real environment's alignment), ``tombstone_grace_ms`` the
    cluster's grace period before a tombstone may be reaped.
    Returns ``{"valid": ..., "checkers": {name: result}}``."""
    context = CheckContext(
        n=n,
        time_limit_s=time_limit_s,
        journals=None if journals is None else tuple(journals),
        versioning=versioning,
        repairs=None if repairs is None else tuple(repairs),
        journal_clock_slack_ns=journal_clock_slack_ns,
        tombstone_grace_ms=tombstone_grace_ms,
    )
    return run_checkers(checkers, history, context)
