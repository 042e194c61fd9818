"""Each node's clock offset (ms ahead of true time; negative: behind) over a run, rebuilt from
the nemesis operations of its history — what the clock nemesis recorded it set — so a report can
plot it from the run's files alone.

The model is the node's own (``cluster.core.WallClock``): a skew, and a drift rate in parts per
million since some moment, whose gain is folded into the skew when the rate changes. What moves
it, at the completion time of each op (a strobe's flips are spread evenly over the time between
its invocation and its completion, as its loop did them):

- ``start-clock``: bump and scramble set each target's skew to the recorded ``offsets``; drift
  sets ``drifts_ppm`` (the skew so far kept); strobe flips between ``base_offsets`` and base +
  ``delta_ms`` ``flips`` times (older histories: base = offsets - delta when the flips were odd);
- ``stop-clock`` sets the recorded ``offsets`` (zero) and stops every drift; ``stop-all``, the
  heal, does so on every node that is up;
- a node a kill or a disk fault took down has no clock until it comes back, and comes back with
  none moved (the skew lived in the process's memory): its line has a gap, then starts at zero.

Pure: history lines in, series out; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nemesis.downtime import DOWN_KEYS, FINAL, NEMESIS, UP_KEYS

Point = tuple[float, float]  # (seconds since the run started, offset in ms)


@dataclass(frozen=True)
class ClockSeries:
    """One node's clock offset over the run: polylines (a step is two points at the same
    time), with a gap between two while the node was down."""

    node: str
    segments: tuple[tuple[Point, ...], ...]

    @property
    def points(self) -> list[Point]:
        return [point for segment in self.segments for point in segment]

    def offset_at(self, time_s: float) -> float | None:
        """The offset at ``time_s`` (the last one set when several were at that instant), or
        None while the node was down or outside the run."""
        for segment in self.segments:
            if not segment or not segment[0][0] <= time_s <= segment[-1][0]:
                continue
            previous = segment[0]
            for point in segment:
                if point[0] > time_s:
                    t0, v0 = previous
                    t1, v1 = point
                    return v0 + (v1 - v0) * (time_s - t0) / (t1 - t0)
                previous = point
            return previous[1]
        return None


@dataclass
class _NodeClock:
    """What a node's clock is doing, and its line so far."""

    skew_ms: float = 0.0
    drift_ppm: float = 0.0
    since_s: float = 0.0
    up: bool = True
    line: list[Point] = field(default_factory=list)
    done: list[tuple[Point, ...]] = field(default_factory=list)

    def offset_ms(self, time_s: float) -> float:
        gained = self.drift_ppm * (time_s - self.since_s) * 1000 / 1e6 if self.drift_ppm else 0.0
        return self.skew_ms + gained

    def mark(self, time_s: float) -> None:
        if self.up:
            point = (time_s, round(self.offset_ms(time_s), 3))
            if not self.line or self.line[-1] != point:
                self.line.append(point)

    def set(
        self, time_s: float, skew_ms: float | None = None, drift_ppm: float | None = None
    ) -> None:
        """As the admin op does: a new drift folds the old one's gain into the skew first."""
        if not self.up:
            return
        self.mark(time_s)
        if drift_ppm is not None:
            self.skew_ms = self.offset_ms(time_s)
            self.drift_ppm, self.since_s = drift_ppm, time_s
        if skew_ms is not None:
            self.skew_ms = skew_ms
        self.mark(time_s)

    def down(self, time_s: float) -> None:
        if not self.up:
            return
        self.mark(time_s)
        self.done.append(tuple(self.line))
        self.line = []
        self.up, self.skew_ms, self.drift_ppm = False, 0.0, 0.0

    def back(self, time_s: float) -> None:
        if self.up:
            return
        self.up, self.skew_ms, self.drift_ppm, self.since_s = True, 0.0, 0.0, time_s
        self.mark(time_s)

    def series(self, node: str, end_s: float) -> ClockSeries:
        self.mark(end_s)
        segments = [*self.done, tuple(self.line)] if self.up else self.done
        return ClockSeries(node, tuple(segment for segment in segments if segment))


def had_clock_faults(history: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the history holds a clock fault that was applied (a completed ``start-clock``)."""
    return any(
        line.get("process") == NEMESIS
        and line.get("f") == "start-clock"
        and line.get("type") != "invoke"
        and "error" not in line
        for line in history
    )


def clock_offsets(
    history: Sequence[Mapping[str, Any]], nodes: Sequence[str] = ()
) -> list[ClockSeries]:
    """Each node's clock offset over the run, one series per node (``nodes`` and every node a
    nemesis op names), in natural order (n2 before n10); empty when the run had no clock
    fault."""
    lines = [line for line in history if line.get("process") != FINAL]
    if not had_clock_faults(lines):
        return []
    end_s = max((int(line.get("time", 0)) for line in lines), default=0) / 1e9
    clocks: dict[str, _NodeClock] = {}

    def clock(node: str) -> _NodeClock:
        if node not in clocks:
            clocks[node] = _NodeClock(line=[(0.0, 0.0)])
        return clocks[node]

    for node in nodes:
        clock(node)
    invoked_s = 0.0
    for line in lines:
        if line.get("process") != NEMESIS:
            continue
        at_s = int(line.get("time", 0)) / 1e9
        if line.get("type") == "invoke":
            invoked_s = at_s
            continue
        if "error" in line:
            continue  # what a failed op did is not recorded; its value is what it was asked
        f = str(line.get("f"))
        value = line.get("value") if isinstance(line.get("value"), Mapping) else {}
        assert isinstance(value, Mapping)
        if f == "start-clock":
            _apply_start(value, invoked_s, at_s, clock)
        elif f == "stop-clock":
            for node, offset in _numbers(value.get("offsets")).items():
                clock(node).set(at_s, skew_ms=offset, drift_ppm=0.0)
        elif f == "stop-all":
            for each in clocks.values():
                each.set(at_s, skew_ms=0.0, drift_ppm=0.0)
        elif f in DOWN_KEYS:
            for node in _nodes(value, DOWN_KEYS[f]):
                clock(node).down(at_s)
        elif f in UP_KEYS:
            for node in _nodes(value, UP_KEYS[f]):
                clock(node).back(at_s)
    return [clocks[node].series(node, end_s) for node in sorted(clocks, key=natural_key)]


def _apply_start(
    value: Mapping[str, Any], invoked_s: float, at_s: float, clock: Callable[[str], _NodeClock]
) -> None:
    mode = value.get("mode")
    offsets = _numbers(value.get("offsets"))
    if mode == "drift":
        for node, ppm in _numbers(value.get("drifts_ppm")).items():
            clock(node).set(at_s, skew_ms=offsets.get(node), drift_ppm=ppm)
        return
    if mode != "strobe":  # bump, scramble: the skew each target was left with
        for node, offset in offsets.items():
            clock(node).set(at_s, skew_ms=offset)
        return
    flips = int(value.get("flips") or 0)
    delta = float(value.get("delta_ms") or 0)
    base = _numbers(value.get("base_offsets"))
    if not base:  # recorded before base_offsets was: the last flip set base + delta if odd
        base = {node: offset - (delta if flips % 2 else 0.0) for node, offset in offsets.items()}
    every_s = (at_s - invoked_s) / flips if flips else 0.0
    for flip in range(1, flips + 1):
        flip_s = invoked_s + (flip - 1) * every_s
        for node, low in base.items():
            clock(node).set(flip_s, skew_ms=low + (delta if flip % 2 else 0.0))
    for node in base:
        clock(node).mark(at_s)


def _numbers(named: Any) -> dict[str, float]:
    if not isinstance(named, Mapping):
        return {}
    return {str(k): float(v) for k, v in named.items() if isinstance(v, int | float)}


def _nodes(value: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    nodes: list[str] = []
    for key in keys:
        named = value.get(key)
        if isinstance(named, list | dict):
            nodes.extend(str(node) for node in named if str(node) not in nodes)
    return nodes


def natural_key(name: str) -> tuple[Any, ...]:
    """``n2`` before ``n10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))
