"""The sequence of nemesis operations for a run: which fault starts or stops next, as data.

Like Jepsen's ``nemesis.combined`` packages, each fault package alternates ``start-<fault>`` and
``stop-<fault>``; with several packages the next one to act is drawn at random (seeded), so faults
of different kinds overlap while each kind is never started twice in a row. The runner asks for
``next_op()`` every ``interval_s`` seconds, and at the end for ``final_ops()``: the stops of the
faults still active, so every start has its stop in the history. A start op carries what the
schedule chose, as the fault's registry entry draws it (partition shape and mode, target spec,
clock mode, latency figures); the nemesis
resolves target specs to nodes and returns what it actually did.

``ScriptedSchedule`` is the other source of operations: a list given as data (a recorded or
shrunk run's schedule), each op at its time, for a run driven from a schedule. Pure, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nemesis.base import FaultOp
from nemesis.options import coerce_options
from nemesis.registry import get_fault, parse_packages
from nemesis.targets import TargetSpec


def spec_to_json(spec: TargetSpec) -> str | list[str]:
    """A target spec as recorded in an op: the keyword, or the list of names."""
    return spec if isinstance(spec, str) else list(spec)


class Schedule:
    """The nemesis operations of one run, drawn from ``rng``: the same seed, the same ops."""

    def __init__(
        self,
        packages: str | Sequence[str],
        interval_s: float,
        rng: random.Random,
        nodes: Sequence[str],
        options: object = None,
    ) -> None:
        """``options``: a ``NemesisOptions``, a mapping, or a settings object (see
        ``nemesis.options.coerce_options``)."""
        self.packages = parse_packages(packages)
        if not interval_s > 0:
            raise ValueError(f"nemesis interval: expected seconds > 0, got {interval_s!r}")
        if not nodes:
            raise ValueError("nodes: the schedule needs at least one node")
        self.interval_s = float(interval_s)
        self.rng = rng
        self.nodes = tuple(nodes)
        self.options = coerce_options(options)
        self.options.check_nodes(self.nodes)
        self._active: dict[str, FaultOp] = {}  # package -> its start op, while active

    @property
    def active(self) -> tuple[str, ...]:
        """The packages whose fault is started and not yet stopped, in start order."""
        return tuple(self._active)

    def next_op(self) -> FaultOp | None:
        """The next operation: a start for an idle package, a stop for an active one.

        ``None`` when there are no packages (the ``none`` nemesis)."""
        if not self.packages:
            return None
        package = self.rng.choice(self.packages)
        if package in self._active:
            del self._active[package]
            return FaultOp(f"stop-{package}")
        op = FaultOp(f"start-{package}", self._start_value(package))
        self._active[package] = op
        return op

    def final_ops(self) -> list[FaultOp]:
        """The stops of every active fault (in the order they started), marking them stopped."""
        stops = [FaultOp(f"stop-{package}") for package in self._active]
        self._active.clear()
        return stops

    def _start_value(self, package: str) -> dict[str, Any]:
        return get_fault(package).start_value(self.options, self.rng)


@dataclass(frozen=True)
class TimedFaultOp:
    """A nemesis operation at ``at_s`` seconds after the workload started; ``wait_s`` is the
    pause that preceded it in the run it was recorded from (None when unknown); ``asked`` is
    the value the recorded run's history shows it invoked with (its targets unresolved)."""

    at_s: float
    op: FaultOp
    wait_s: float | None = None
    asked: dict[str, Any] | None = None


class ScriptedSchedule:
    """The nemesis operations of a run given as data, in time order, rather than drawn."""

    def __init__(self, ops: Sequence[TimedFaultOp]) -> None:
        self.ops = sorted(ops, key=lambda timed: timed.at_s)
        self._next = 0
        self._active: dict[str, FaultOp] = {}

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(self._active)

    def peek(self) -> TimedFaultOp | None:
        """The next operation, left in place; None when there are no more."""
        return self.ops[self._next] if self._next < len(self.ops) else None

    def next_timed(self) -> TimedFaultOp | None:
        """The next operation and its time (marking it done); None when there are no more."""
        if self._next >= len(self.ops):
            return None
        timed = self.ops[self._next]
        self._next += 1
        if timed.op.starts:
            self._active[timed.op.fault] = timed.op
        else:
            self._active.pop(timed.op.fault, None)
        return timed

    def final_ops(self) -> list[FaultOp]:
        """The stops of every fault started and not stopped (in the order they started)."""
        stops = [FaultOp(f"stop-{package}") for package in self._active]
        self._active.clear()
        return stops
