"""Records a run's schedule while it runs: the workers' operations and the nemesis's, with the
nemesis values *resolved* so that applying them again does what the run did without its random
draws (which nodes a kill hit, which grudge a partition cut, how far each clock moved).

``ScheduleRecorder`` is the ``workloads.generator.OpListener`` of a run and hears each fault
the runner applied; ``schedule(keys)`` gives the ``zynamo.schedule.RunSchedule``.
``resolved_value`` is the resolution rule, per fault. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nemesis.base import FaultOp
from workloads.base import Invocation
from zynamo.schedule import ClientStep, FaultStep, ProcessStream, RunSchedule


def _nodes(did: Mapping[str, Any], key: str) -> list[str] | None:
    nodes = did.get(key)
    if isinstance(nodes, list) and nodes and all(isinstance(n, str) for n in nodes):
        return list(nodes)
    return None


def resolved_value(
    op: FaultOp, did: Any, skews: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The value that makes ``op`` do again what it did (``did``, its completion's value).

    ``skews``: each node's clock skew before ``op`` (a bump is recorded as the offset it led
    to). A fault the nemesis reported no concrete targets for (none were eligible, or a plug-in
    fault this does not know) keeps the value it was asked with."""
    requested = dict(op.value)
    if not op.starts or not isinstance(did, Mapping):
        return requested
    fault = op.fault
    if fault == "partition" and isinstance(did.get("grudge"), Mapping):
        value = {"grudge": did["grudge"], "mode": did.get("mode", requested.get("mode"))}
        if "shape" in requested:
            value["shape"] = requested["shape"]
        return value
    if fault in ("kill", "pause") and (nodes := _nodes(did, "nodes")):
        return {**requested, "targets": nodes}
    if fault == "membership" and (nodes := _nodes(did, "left")):
        return {**requested, "targets": nodes}
    if fault == "latency" and (nodes := _nodes(did, "nodes")):
        figures = ("latency_ms", "jitter_ms", "bandwidth_kbps")
        return {**requested, "targets": nodes, **{k: did[k] for k in figures if k in did}}
    if fault == "clock":
        return _clock_value(requested, did, skews or {})
    return requested


def _clock_value(
    requested: dict[str, Any], did: Mapping[str, Any], skews: Mapping[str, float]
) -> dict[str, Any]:
    if did.get("mode") == "strobe" and (nodes := _nodes(did, "nodes")):
        figures = ("delta_ms", "period_ms", "duration_ms")
        return {"mode": "strobe", "targets": nodes, **{k: did[k] for k in figures if k in did}}
    offsets = did.get("offsets")
    if did.get("mode") == "bump" and isinstance(offsets, Mapping) and offsets:
        bumps = {node: round(float(offsets[node]) - skews.get(node, 0.0)) for node in offsets}
        return {"mode": "bump", "targets": sorted(bumps), "bumps_ms": bumps}
    return requested


class ScheduleRecorder:
    """Collects what a run does into a ``RunSchedule`` (see the module)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self._streams: dict[int, list[ClientStep]] = {}
        self._yields: set[int] = set()
        self._faults: list[FaultStep] = []
        self._skews: dict[str, float] = {}

    # --- workloads.generator.OpListener

    def invoked(
        self,
        worker: int,
        process: int,
        at_s: float,
        op: Invocation,
        node: str,
        wait_s: float | None,
    ) -> None:
        step = ClientStep(at_s, op.f, op.key, op.value, node, process, wait_s)
        self._streams.setdefault(worker, []).append(step)

    def finished(self, worker: int, paused: bool) -> None:
        if paused:
            self._yields.add(worker)

    # --- the nemesis runner

    def fault(
        self,
        at_s: float,
        wait_s: float | None,
        op: FaultOp,
        did: Any,
        error: str | None,
        asked: dict[str, Any] | None = None,
    ) -> None:
        """The runner applied ``op`` (its history showing ``asked``, or ``op.value``) at
        ``at_s``; it did ``did``, or failed with ``error``."""
        value = op.value if error else resolved_value(op, did, self._skews)
        shown = dict(op.value if asked is None else asked)
        self._faults.append(FaultStep(at_s, op.f, dict(value), did, error, wait_s, shown))
        if op.fault == "clock" and isinstance(did, Mapping):
            offsets = did.get("offsets")
            if isinstance(offsets, Mapping):
                self._skews.update({str(n): float(v) for n, v in offsets.items()})

    def schedule(self, keys: list[str] | tuple[str, ...]) -> RunSchedule:
        return RunSchedule(
            options=self.options,
            faults=tuple(self._faults),
            processes=tuple(
                ProcessStream(worker, tuple(ops), worker in self._yields)
                for worker, ops in sorted(self._streams.items())
            ),
            keys=tuple(keys),
        )
