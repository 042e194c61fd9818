"""A schedule in words: what each fault did to whom, its windows, and the one paragraph a
shrunk run is summed up by ("1 fault, 6 operations, 1 key: kill n3 from 1.2 s to 4.0 s; ...").

``fault_windows`` pairs each ``start-<fault>`` with the next ``stop-<fault>``; ``describe_fault``
says what a step did, from the nemesis's own report of it (``did``) when there is one. Used by
the shrink command, the report's schedule table and the generated regression test. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zynamo.schedule import FaultStep, RunSchedule


@dataclass(frozen=True)
class FaultWindow:
    """A fault from its start to its stop (None: until the heal at the end of the workload)."""

    start: FaultStep
    stop: FaultStep | None

    @property
    def fault(self) -> str:
        return self.start.fault


def fault_windows(steps: tuple[FaultStep, ...] | list[FaultStep]) -> list[FaultWindow]:
    """Each start paired with the next stop of the same fault, in start order."""
    windows: list[FaultWindow] = []
    open_starts: dict[str, FaultStep] = {}
    for step in steps:
        if step.starts:
            if step.fault in open_starts:
                windows.append(FaultWindow(open_starts[step.fault], None))
            open_starts[step.fault] = step
        elif step.fault in open_starts:
            windows.append(FaultWindow(open_starts.pop(step.fault), step))
    windows.extend(FaultWindow(start, None) for start in open_starts.values())
    return sorted(windows, key=lambda window: window.start.at_s)


def _names(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "no node"
    return str(value)


def _grudge(grudge: Mapping[str, Any]) -> str:
    cut = [f"{node}✕{_names(deaf)}" for node, deaf in sorted(grudge.items()) if deaf]
    return " ".join(cut) or "nothing"


def describe_fault(step: FaultStep) -> str:
    """What ``step`` did, in a few words ("kill n3", "partition n1✕n2,n3; ...")."""
    did = step.did if isinstance(step.did, Mapping) else {}
    value = step.value
    fault = step.fault
    if not step.starts:
        return _describe_stop(fault, did)
    if step.error:
        return f"{fault} (failed: {step.error})"
    if fault == "partition":
        grudge = did.get("grudge", value.get("grudge", {}))
        mode = did.get("mode", value.get("mode", ""))
        return f"partition ({mode}) {_grudge(grudge)}"
    if fault in ("kill", "pause"):
        return f"{fault} {_names(did.get('nodes', value.get('targets', '?')))}"
    if fault == "membership":
        return f"{_names(did.get('left', value.get('targets', '?')))} leave"
    if fault == "latency":
        nodes = _names(did.get("nodes", value.get("targets", "?")))
        return f"latency {value.get('latency_ms', '?')} ms on links of {nodes}"
    if fault == "clock":
        if value.get("mode") == "strobe":
            return f"clock strobe {_names(value.get('targets'))} ±{value.get('delta_ms')} ms"
        bumps = value.get("bumps_ms") or {}
        return "clock bump " + (
            ", ".join(f"{node} {ms:+} ms" for node, ms in sorted(bumps.items())) or "?"
        )
    return f"{fault} {value}"


def _describe_stop(fault: str, did: Mapping[str, Any]) -> str:
    if fault == "kill" and "nodes" in did:
        return f"restart {_names(did['nodes'])}"
    if fault == "pause" and "nodes" in did:
        return f"resume {_names(did['nodes'])}"
    if fault == "membership" and "joined" in did:
        return f"{_names(did['joined'])} join back"
    if fault == "clock" and isinstance(did.get("offsets"), Mapping):
        return f"reset the clocks of {_names(sorted(did['offsets']))}"
    if fault in ("partition", "latency"):
        return "heal every link"
    return f"stop {fault}"


def _seconds(at_s: float) -> str:
    return f"{at_s:.2f} s"


def describe_window(window: FaultWindow) -> str:
    until = f"to {_seconds(window.stop.at_s)}" if window.stop else "to the heal"
    return f"{describe_fault(window.start)} from {_seconds(window.start.at_s)} {until}"


def _plural(count: int, word: str) -> str:
    plural = word + ("es" if word.endswith("s") else "s")
    return f"{count} {word if count == 1 else plural}"


def summary(schedule: RunSchedule) -> str:
    """The schedule in one paragraph."""
    size = schedule.size()
    windows = fault_windows(schedule.faults)
    ops = schedule.operations
    keys = sorted({op.key for op in ops})
    head = ", ".join(
        [
            _plural(size.faults, "fault"),
            _plural(size.operations, "operation"),
            _plural(size.keys, "key"),
            _plural(size.processes, "process"),
        ]
    )
    parts = [describe_window(window) for window in windows] or ["no faults"]
    if ops:
        by_f: dict[str, int] = {}
        for op in ops:
            by_f[op.f] = by_f.get(op.f, 0) + 1
        mix = ", ".join(f"{count} {f}" for f, count in sorted(by_f.items()))
        nodes = sorted({op.node for op in ops})
        first, last = min(op.at_s for op in ops), max(op.at_s for op in ops)
        on = ", ".join(keys) if len(keys) <= 6 else f"{len(keys)} keys"
        parts.append(
            f"{mix} on {on} through {', '.join(nodes)}"
            f" between {_seconds(first)} and {_seconds(last)}"
        )
    options = schedule.options
    setting = (
        f"{options.get('nodes')} nodes, N={options.get('n')} R={options.get('r')}"
        f" W={options.get('w')}, {options.get('versioning')}, seed {options.get('seed')},"
        f" workload {schedule.time_limit_s:.3g} s"
    )
    return f"{head}: " + "; ".join(parts) + f" ({setting})."
