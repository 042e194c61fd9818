"""Clock faults: skew a node's wall clock through its admin channel (op ``clock``).

Nodes read wall time as their monotonic clock plus an offset that the admin op ``clock`` changes:
``{"offset_ms": x}`` sets the skew, ``{"bump_ms": x}`` adds to it. ``start-clock`` with mode
``bump`` moves each target's clock by its own random amount (up to ``clock_max_skew_ms`` either
way); mode ``strobe`` flips each target's clock between its skew and skew + delta every
``strobe_period_ms`` for ``strobe_duration_ms`` (the call lasts that long, on the environment's
``Clock``: real or virtual time), as Jepsen's strobe does; mode ``scramble`` (Jepsen's
``scramble-clocks``) sets each target's clock to its own random offset (within
±``clock_max_skew_ms``), so the nodes disagree with each other and not just with real time;
mode ``drift`` makes each target's clock run fast or slow by its own rate (up to
±``clock_max_drift_ppm``), so the skew grows while the fault lasts, as a bad oscillator's does.
``stop-clock`` and ``heal`` reset every reachable node to no skew. Each op's value records what
it set (``offsets``: each node's skew after it, in ms; a strobe also its ``base_offsets``, delta,
period and number of flips; a drift its ``drifts_ppm``), so ``nemesis.clock_history`` can tell
each node's offset at every moment of the run from the history. Randomness from the seeded
``random.Random`` given. Does network I/O (the admin channel).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.errors import NemesisError
from nemesis.options import CLOCK_MODES, NemesisOptions
from nemesis.shapes import check_choice
from nemesis.targets import choose_targets
from nemesis.timekeeping import Clock, WallClock

# admin(node, op, **args) -> the reply's data; raises on failure.
Admin = Callable[..., Any]


class ClockNemesis:
    """Skews node clocks; ``live`` says which nodes can answer right now (running, not paused)."""

    def __init__(
        self,
        admin: Admin,
        nodes: Sequence[str],
        live: Callable[[], Sequence[str]],
        rng: random.Random,
        options: NemesisOptions,
        clock: Clock | None = None,
    ) -> None:
        self.admin = admin
        self.clock = clock or WallClock()
        self.nodes = tuple(nodes)
        self.live = live
        self.rng = rng
        self.options = options
        self.skewed: set[str] = set()  # nodes whose clock we moved and have not reset
        self.interrupt = threading.Event()  # set by ``heal`` to cut a running strobe short

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "clock":
            raise ValueError(f"the clock nemesis cannot do {op.f!r}")
        if not op.starts:
            reset = self._reset(self.live())
            return {"offsets": reset, "effect": effect("clocks reset", True)}
        mode = check_choice("clock mode", op.value.get("mode", "bump"), CLOCK_MODES)
        targets = choose_targets(op.value.get("targets", "one"), self.nodes, self.live(), self.rng)
        value: dict[str, Any]
        if mode == "bump":
            value = {"mode": "bump", "offsets": self._bump(targets, op.value)}
        elif mode == "scramble":
            value = {"mode": "scramble", "offsets": self._scramble(targets)}
        elif mode == "drift":
            value = self._drift(targets, op.value)
        else:
            value = self._strobe(targets, op.value)
        offsets: dict[str, float] = value["offsets"]
        shown = ", ".join(f"{node} {ms:+,.0f} ms" for node, ms in offsets.items())
        if mode == "drift":
            shown = ", ".join(f"{n} {ppm:+,} ppm" for n, ppm in value["drifts_ppm"].items())
        elif mode == "strobe" and value["nodes"]:  # its offsets are only where the last flip left
            shown = (
                f"{', '.join(value['nodes'])} flipped {value['delta_ms']:+,} ms and back every"
                f" {value['period_ms']:,} ms, {value['flips']} times"
            )
        moved = any(offsets.values()) or bool(value.get("flips")) or bool(value.get("drifts_ppm"))
        value["effect"] = effect(f"clock {mode}: {shown or 'nobody'}", moved)
        return value

    def _scramble(self, targets: Sequence[str]) -> dict[str, float]:
        size = self.options.clock_max_skew_ms
        return {node: self._set(node, offset_ms=self.rng.randint(-size, size)) for node in targets}

    def _drift(self, targets: Sequence[str], value: dict[str, Any]) -> dict[str, Any]:
        """Each target's clock runs fast or slow by its own rate (``drifts_ppm`` replays a
        recorded one), until the stop puts it right."""
        recorded = value.get("drifts_ppm") or {}
        size = self.options.clock_max_drift_ppm
        drifts: dict[str, int] = {}
        for node in targets:
            ppm = recorded.get(node) or self.rng.randint(1, size) * self.rng.choice((1, -1))
            drifts[node] = int(ppm)
        offsets = {node: self._set(node, drift_ppm=ppm) for node, ppm in drifts.items()}
        return {"mode": "drift", "drifts_ppm": drifts, "offsets": offsets}

    def _delta_ms(self, value: dict[str, Any], key: str) -> int:
        """``value[key]`` if given, else a random non-zero skew within ±clock_max_skew_ms."""
        if key in value:
            return int(value[key])
        size = self.rng.randint(1, self.options.clock_max_skew_ms)
        return size if self.rng.random() < 0.5 else -size

    def _set(self, node: str, **args: Any) -> float:
        self.skewed.add(node)
        try:
            reply = self.admin(node, "clock", **args)
        except Exception as err:
            raise NemesisError(f"clock {node} {args}: {err}") from err
        return float(reply["clock_skew_ms"])

    def _bump(self, targets: Sequence[str], value: dict[str, Any]) -> dict[str, float]:
        # ``bumps_ms`` ({node: ms}) replays a recorded bump of several nodes exactly.
        bumps = value.get("bumps_ms") or {}
        return {
            node: self._set(node, bump_ms=bumps.get(node) or self._delta_ms(value, "bump_ms"))
            for node in targets
        }

    def _strobe(self, targets: Sequence[str], value: dict[str, Any]) -> dict[str, Any]:
        delta_ms = self._delta_ms(value, "delta_ms")
        period_ms = int(value.get("period_ms", self.options.strobe_period_ms))
        duration_ms = int(value.get("duration_ms", self.options.strobe_duration_ms))
        if period_ms <= 0 or duration_ms < 0:
            raise ValueError(
                f"clock strobe: period_ms must be > 0 and duration_ms >= 0,"
                f" got {period_ms} and {duration_ms}"
            )
        self.interrupt.clear()
        base = {node: self._set(node, bump_ms=0) for node in targets}
        deadline = self.clock.now() + duration_ms / 1000
        flips = 0
        offsets = dict(base)
        while targets and self.clock.now() < deadline and not self.interrupt.is_set():
            flips += 1
            shift = delta_ms if flips % 2 else 0
            offsets = {node: self._set(node, offset_ms=base[node] + shift) for node in targets}
            self.clock.wait(self.interrupt, period_ms / 1000)
        return {
            "mode": "strobe",
            "nodes": list(targets),
            "delta_ms": delta_ms,
            "period_ms": period_ms,
            "duration_ms": duration_ms,
            "flips": flips,
            "base_offsets": base,  # each target's skew between flips (the plot's low level)
            "offsets": offsets,
        }

    def _reset(self, nodes: Sequence[str]) -> dict[str, float]:
        """Reset ``nodes`` to no skew; a node it cannot reach stays marked for the next reset."""
        offsets: dict[str, float] = {}
        failures: list[str] = []
        for node in nodes:
            try:
                offsets[node] = self._set(node, offset_ms=0, drift_ppm=0)
                self.skewed.discard(node)
            except NemesisError as err:
                failures.append(str(err))
        if failures:
            raise NemesisError("; ".join(failures))
        return offsets

    def heal(self) -> None:
        """Every live node back to no skew (all of them, not just the ones we moved: a skew an
        interrupted earlier step set is undone too). A node that is not running holds no skew
        (it lives in the process's memory), so it starts unskewed whenever it comes back."""
        self.interrupt.set()
        live = set(self.live())
        self.skewed &= live
        self._reset([node for node in self.nodes if node in live])
