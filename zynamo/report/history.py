"""Reading a run's history for the report: loading the JSON Lines file, pairing invocations
with completions, and finding when each nemesis fault was active.

``load_history`` reads a file; everything else is pure. The pairing and interval rules are the
ones in docs/history.md: an invocation is completed by the next completion line of the same
process (none means ``info`` at the end of the history), and a fault is active from the
completion of its ``start-*`` to the completion of the matching ``stop-*`` (or the end).
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MS = 1_000_000
COMPLETION_TYPES = ("ok", "info", "fail")
NEMESIS = "nemesis"
FINAL = "final"

Line = Mapping[str, Any]


class HistoryError(ValueError):
    """A history line that the report cannot read; the message names the file and line."""


@dataclass(frozen=True)
class Operation:
    """One operation: its invocation and, when there was one, its completion.

    ``type`` is the completion's type, or ``info`` when the invocation never completed.
    ``row_start``/``row_end`` are positions in the history without the final replica dumps,
    which is the vertical axis of the timeline.
    """

    invocation: Line
    completion: Line | None
    type: str
    start_ns: int
    end_ns: int
    row_start: int
    row_end: int

    @property
    def process(self) -> object:
        return self.invocation.get("process")

    @property
    def f(self) -> str:
        return str(self.invocation.get("f"))

    @property
    def completed(self) -> bool:
        return self.completion is not None

    @property
    def latency_ms(self) -> float | None:
        """How long the operation took, or None when it never completed."""
        if self.completion is None:
            return None
        return (self.end_ns - self.start_ns) / NANOS_PER_MS

    @property
    def is_nemesis(self) -> bool:
        return self.process == NEMESIS


@dataclass(frozen=True)
class FaultInterval:
    """A time during which one nemesis fault was active (seconds since the run started)."""

    fault: str
    start_s: float
    end_s: float
    healed: bool
    value: object
    stop_value: object = None  # what the stop that ended it reported (None: never healed)


def load_history(path: pathlib.Path) -> list[dict[str, Any]]:
    """Read a history.jsonl file; a malformed line raises HistoryError naming file and line."""
    history: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as err:
                raise HistoryError(f"{path}:{number}: not valid JSON ({err.msg})") from err
            problem = _line_problem(line)
            if problem:
                raise HistoryError(f"{path}:{number}: {problem}")
            history.append(line)
    return history


def _line_problem(line: object) -> str | None:
    if not isinstance(line, dict):
        return "a history line must be a JSON object"
    for field in ("time", "process", "type", "f"):
        if field not in line:
            return f"missing field {field!r}"
    if not isinstance(line["time"], int) or isinstance(line["time"], bool):
        return f"field 'time' must be an integer (nanoseconds), got {line['time']!r}"
    if line["type"] not in ("invoke", *COMPLETION_TYPES):
        return f"field 'type' is {line['type']!r}; accepted: invoke, ok, info, fail"
    return None


def without_final(history: Sequence[Line]) -> list[Line]:
    """The history without the final replica dumps, which neither plots nor timeline show."""
    return [line for line in history if line.get("process") != FINAL]


def pair_operations(history: Sequence[Line]) -> list[Operation]:
    """Pair every invocation with its completion, in invocation order.

    A completion with no pending invocation (e.g. a nemesis that only logs ``info``) becomes an
    instantaneous operation of its own, so nothing the recorder saw is dropped.
    """
    lines = without_final(history)
    end_ns = max((int(line["time"]) for line in lines), default=0)
    last_row = max(len(lines) - 1, 0)
    pending: dict[object, tuple[int, Line]] = {}
    pairs: list[tuple[int, Line, int | None, Line | None]] = []
    for row, line in enumerate(lines):
        process = line.get("process")
        if line.get("type") == "invoke":
            if process in pending:  # an invocation left open: the process moved on without it
                open_row, open_line = pending.pop(process)
                pairs.append((open_row, open_line, None, None))
            pending[process] = (row, line)
        elif process in pending:
            open_row, open_line = pending.pop(process)
            pairs.append((open_row, open_line, row, line))
        else:
            pairs.append((row, line, row, line))
    pairs.extend((row, line, None, None) for row, line in pending.values())
    pairs.sort(key=lambda pair: pair[0])
    operations = []
    for row, invocation, done_row, completion in pairs:
        start = int(invocation["time"])
        if completion is None or done_row is None:
            operations.append(Operation(invocation, None, "info", start, end_ns, row, last_row))
        else:
            operations.append(
                Operation(
                    invocation,
                    completion,
                    str(completion["type"]),
                    start,
                    int(completion["time"]),
                    row,
                    done_row,
                )
            )
    return operations


def fault_name(f: str) -> str | None:
    """``start-partition`` → ``partition``; None for anything that is not a start or stop."""
    for prefix in ("start-", "stop-"):
        if f.startswith(prefix):
            return f[len(prefix) :]
    return None


def fault_intervals(
    history: Sequence[Line], ops: Sequence[Operation] | None = None
) -> list[FaultInterval]:
    """When each nemesis fault was active, in order of start.

    ``ops`` may pass ``pair_operations(history)`` when the caller already has it.
    """
    lines = without_final(history)
    end_s = max((int(line["time"]) for line in lines), default=0) / NANOS_PER_SECOND
    open_faults: dict[str, tuple[float, object]] = {}
    intervals: list[FaultInterval] = []
    for op in pair_operations(lines) if ops is None else ops:
        if not op.is_nemesis or op.completion is None:
            continue
        fault = fault_name(op.f)
        if fault is None:
            continue
        at_s = op.end_ns / NANOS_PER_SECOND
        if op.f.startswith("start-"):
            # A second start while the fault is on extends nothing: the first start counts.
            open_faults.setdefault(fault, (at_s, _what_was_done(op)))
        elif fault in open_faults:
            start_s, value = open_faults.pop(fault)
            intervals.append(FaultInterval(fault, start_s, at_s, True, value, _what_was_done(op)))
    intervals.extend(
        FaultInterval(fault, start_s, end_s, False, value)
        for fault, (start_s, value) in open_faults.items()
    )
    intervals.sort(key=lambda interval: (interval.start_s, interval.fault))
    return intervals


def _what_was_done(op: Operation) -> object:
    # The completion says what the nemesis did (e.g. the grudge); the invocation what it meant to.
    done = op.completion.get("value") if op.completion is not None else None
    return done if done is not None else op.invocation.get("value")


def duration_s(history: Sequence[Line]) -> float:
    """Seconds from the start of the run to the last line (final dumps excluded)."""
    lines = without_final(history)
    return max((int(line["time"]) for line in lines), default=0) / NANOS_PER_SECOND


@dataclass(frozen=True)
class HistoryView:
    """A history analysed once for every part of the report: the lines without the final dumps,
    the paired operations, the fault intervals and the duration."""

    history: Sequence[Line]
    lines: Sequence[Line]
    ops: Sequence[Operation]
    intervals: Sequence[FaultInterval]
    duration_s: float

    @classmethod
    def of(cls, history: Sequence[Line] | HistoryView) -> HistoryView:
        """The view of ``history``; a view is returned as it is."""
        if isinstance(history, HistoryView):
            return history
        lines = without_final(history)
        ops = pair_operations(lines)
        return cls(history, lines, ops, fault_intervals(lines, ops), duration_s(lines))

    @property
    def client_ops(self) -> list[Operation]:
        return [op for op in self.ops if not op.is_nemesis]
