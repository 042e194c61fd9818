"""A run's schedule as data: what ``schedule.json`` holds, and the one place that reads and
writes it.

Every run writes the schedule it actually ran (docs/history.md, "Schedule"): the options, the
nemesis operations with their times and the values to apply them with again (targets, grudges
and clock bumps resolved to what the run's random draws chose), each worker's stream of client
operations (f, key, value, node, start time), and the keys read at the end. A run can be driven
from a schedule instead of its seeded generators (``zynamo.replay``), which is what replay and
shrinking do: a shrunk schedule is this same value with parts removed.

Times are seconds since the workload started. ``wait_s`` fields are the exact pauses that
preceded an operation in the run the schedule was recorded from; they only serve to make a
simulated replay bit-exact and are ignored once an edit moved what they lead to. Pure, no I/O
but ``load``/``save``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

FORMAT = "zynamo-schedule/1"
FILE_NAME = "schedule.json"


class ScheduleError(ValueError):
    """A schedule file that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class FaultStep:
    """One nemesis operation: ``f`` (``start-kill``, ``stop-partition``, ...) applied with
    ``value`` at ``at_s``; ``did`` is what the nemesis reported doing when recorded."""

    at_s: float
    f: str
    value: dict[str, Any] = field(default_factory=dict)
    did: Any = None
    error: str | None = None
    wait_s: float | None = None
    asked: dict[str, Any] | None = None  # the value the history shows (targets unresolved)

    @property
    def fault(self) -> str:
        return self.f.split("-", 1)[1]

    @property
    def starts(self) -> bool:
        return self.f.startswith("start-")


@dataclass(frozen=True)
class ClientStep:
    """One client operation of a worker: ``f`` on ``key`` with ``value`` through ``node``,
    started at ``at_s`` as logical ``process``."""

    at_s: float
    f: str
    key: str
    value: Any
    node: str
    process: int
    wait_s: float | None = None


@dataclass(frozen=True)
class ProcessStream:
    """The operations of worker ``worker`` (its first process number), in order."""

    worker: int
    ops: tuple[ClientStep, ...]
    yields_at_end: bool = False


@dataclass(frozen=True)
class ScheduleSize:
    """How big a schedule is, in the terms shrinking reduces."""

    faults: int  # fault windows: start operations
    operations: int
    processes: int
    keys: int
    time_limit_s: float
    nodes: int

    def text(self) -> str:
        counts = (
            (self.faults, "fault", "faults"),
            (self.operations, "operation", "operations"),
            (self.processes, "process", "processes"),
            (self.keys, "key", "keys"),
            (self.nodes, "node", "nodes"),
        )
        words = [f"{n} {one if n == 1 else many}" for n, one, many in counts]
        return ", ".join(words) + f", {self.time_limit_s:.3g} s"

    def to_json(self) -> dict[str, Any]:
        return {
            "faults": self.faults,
            "operations": self.operations,
            "processes": self.processes,
            "keys": self.keys,
            "time_limit_s": self.time_limit_s,
            "nodes": self.nodes,
        }


@dataclass(frozen=True)
class RunSchedule:
    """Everything a run did that was chosen rather than observed (see the module)."""

    options: dict[str, Any]
    faults: tuple[FaultStep, ...] = ()
    processes: tuple[ProcessStream, ...] = ()
    keys: tuple[str, ...] = ()
    shrink: dict[str, Any] | None = None  # for a shrunk schedule: what shrinking did

    @property
    def time_limit_s(self) -> float:
        return float(self.options["time_limit_s"])

    @property
    def operations(self) -> list[ClientStep]:
        return [op for stream in self.processes for op in stream.ops]

    def size(self) -> ScheduleSize:
        used_keys = {op.key for op in self.operations}
        return ScheduleSize(
            faults=sum(1 for step in self.faults if step.starts),
            operations=len(self.operations),
            processes=sum(1 for stream in self.processes if stream.ops),
            keys=len(used_keys),
            time_limit_s=self.time_limit_s,
            nodes=int(self.options.get("nodes", 0)),
        )

    def with_options(self, **changes: Any) -> RunSchedule:
        return replace(self, options={**self.options, **changes})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "options": self.options,
            "size": self.size().to_json(),
            "nemesis": [_fault_json(step) for step in self.faults],
            "processes": [
                {
                    "worker": stream.worker,
                    **({"yields_at_end": True} if stream.yields_at_end else {}),
                    "ops": [_op_json(op) for op in stream.ops],
                }
                for stream in self.processes
            ],
            "keys": list(self.keys),
        }
        if self.shrink is not None:
            data["shrink"] = self.shrink
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSchedule:
        if data.get("format") != FORMAT:
            raise ValueError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
        return cls(
            options=dict(data["options"]),
            faults=tuple(
                FaultStep(
                    at_s=float(step["at"]),
                    f=str(step["f"]),
                    value=dict(step.get("value") or {}),
                    did=step.get("did"),
                    error=step.get("error"),
                    wait_s=_optional_float(step.get("wait")),
                    asked=dict(step.get("asked", step.get("value") or {})),
                )
                for step in data.get("nemesis", ())
            ),
            processes=tuple(
                ProcessStream(
                    worker=int(stream["worker"]),
                    yields_at_end=bool(stream.get("yields_at_end", False)),
                    ops=tuple(
                        ClientStep(
                            at_s=float(op["at"]),
                            f=str(op["f"]),
                            key=str(op["key"]),
                            value=op.get("value"),
                            node=str(op["node"]),
                            process=int(op["process"]),
                            wait_s=_optional_float(op.get("wait")),
                        )
                        for op in stream["ops"]
                    ),
                )
                for stream in data.get("processes", ())
            ),
            keys=tuple(str(key) for key in data.get("keys", ())),
            shrink=data.get("shrink"),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _fault_json(step: FaultStep) -> dict[str, Any]:
    data: dict[str, Any] = {"at": step.at_s, "f": step.f, "value": step.value}
    if step.did is not None:
        data["did"] = step.did
    if step.error is not None:
        data["error"] = step.error
    if step.wait_s is not None:
        data["wait"] = step.wait_s
    if step.asked is not None and step.asked != step.value:
        data["asked"] = step.asked
    return data


def _op_json(op: ClientStep) -> dict[str, Any]:
    data: dict[str, Any] = {
        "at": op.at_s,
        "process": op.process,
        "f": op.f,
        "key": op.key,
        "value": op.value,
        "node": op.node,
    }
    if op.wait_s is not None:
        data["wait"] = op.wait_s
    return data


def load(path: Path) -> RunSchedule:
    """The schedule in ``path`` (a ``schedule.json``, or a run directory holding one)."""
    if path.is_dir():
        path = path / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return RunSchedule.from_json(data)
    except FileNotFoundError:
        raise ScheduleError(
            f"{path}: no schedule here (every run since schedules exist writes {FILE_NAME})"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise ScheduleError(f"{path}: not a schedule: {err}") from err


def save(schedule: RunSchedule, path: Path) -> Path:
    """Write ``schedule`` to ``path`` (a file, or a directory to put ``schedule.json`` in)."""
    if path.is_dir():
        path = path / FILE_NAME
    path.write_text(schedule.dumps(), encoding="utf-8")
    return path
