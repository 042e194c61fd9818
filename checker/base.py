"""The Checker interface: a check of a whole history that returns a verdict, and how several
compose into one.

A ``Checker`` is anything with a ``name`` and ``check(history, context) -> result``, where the
history is this project's records (docs/history.md) and the result a JSON-able dict with
``valid`` in (true, false, "unknown"). ``context`` carries the few facts of the run a check may
need (the replication factor, a time budget). Implementations: ``NoopChecker`` here (always
valid: a workload with nothing to verify), the Dynamo checks in ``checker.dynamo``
(``SetChecker``, ``LinearizableChecker``, ``ConvergenceChecker``, ``QuorumChecker``,
``VersionsChecker``, ``StatsChecker``). A workload names its checkers; ``run_checkers`` runs
exactly those and composes them (false over unknown over true). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from checker.compose import compose

Record = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True)
class CheckContext:
    """What a check may need to know about the run beyond its history."""

    n: int | None = None  # replicas per key; None when unknown
    time_limit_s: float | None = None  # budget of a search that may otherwise run long
    # Every node's journal events (docs/history.md), for the checks that read what the nodes
    # did; None when the run has none (a history checked on its own).
    journals: tuple[Record, ...] | None = None
    versioning: str | None = None  # the cluster's versioning (dvv, vclock, lww), when known
    # The repair mechanisms the cluster ran with (hints, read-repair, anti-entropy); None: all.
    repairs: tuple[str, ...] | None = None
    # How far apart two nodes' journal clocks may be, in ns: 0 when they share one exact clock
    # (the simulator); None: the real environment's alignment (a round trip).
    journal_clock_slack_ns: int | None = None
    tombstone_grace_ms: float | None = None  # the cluster's, when known


class Checker(Protocol):
    """One check of a history; its ``name`` keys its result in ``results.json``."""

    @property
    def name(self) -> str: ...

    def check(self, history: list[Record], context: CheckContext) -> Result:
        """The verdict on ``history``: a dict with ``valid`` and whatever explains it."""
        ...


class NoopChecker:
    """A checker that finds nothing wrong: for workloads (and tests) with nothing to verify."""

    name: str = "noop"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return {"valid": True}


def run_checkers(
    checkers: Iterable[Checker], history: list[Record], context: CheckContext | None = None
) -> Result:
    """``{"valid": ..., "checkers": {name: result}}``: every checker given, in order, composed.

    Two checkers with one name would overwrite each other's result: ``ValueError``."""
    context = context or CheckContext()
    results: dict[str, Result] = {}
    for checker in checkers:
        if checker.name in results:
            raise ValueError(f"two checkers are named {checker.name!r}; names must differ")
        results[checker.name] = checker.check(history, context)
    return {"valid": compose(results.values()), "checkers": results}
