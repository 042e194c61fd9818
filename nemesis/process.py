"""Process faults: ``kill -9`` and restart on the same data, ``SIGSTOP`` and ``SIGCONT``.

``KillNemesis`` kills its targets (``start-kill``) and restarts them on their data and ports
(``stop-kill``); ``PauseNemesis`` stops them (``start-pause``) and lets them run again
(``stop-pause``). Targets are resolved among the nodes that are running and not paused, so the
two faults never trip over each other. Both work on any cluster offering the small
``ProcessCluster`` interface (``cluster.net.local.LocalCluster`` does). Heals are idempotent.
Does process I/O (signals, through the cluster).
"""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.errors import NemesisError
from nemesis.targets import choose_targets
from nemesis.timekeeping import Clock, WallClock


class ProcessCluster(Protocol):
    """What process faults need from a cluster of node processes."""

    @property
    def nodes(self) -> tuple[str, ...]: ...

    @property
    def endpoints(self) -> dict[str, str]: ...

    def is_running(self, node: str) -> bool: ...

    def is_paused(self, node: str) -> bool: ...

    def kill(self, node: str) -> None: ...

    def start_node(self, node: str, timeout_s: float = ...) -> None: ...

    def pause(self, node: str) -> None: ...

    def resume(self, node: str) -> None: ...


def live_nodes(cluster: ProcessCluster) -> tuple[str, ...]:
    """Nodes that are running and not paused: the ones a new fault may target."""
    return tuple(n for n in cluster.nodes if cluster.is_running(n) and not cluster.is_paused(n))


def live_targets(cluster: ProcessCluster, op: FaultOp, rng: random.Random) -> tuple[str, ...]:
    """The nodes a starting process fault strikes: its ``targets`` spec (default one node),
    among the live ones."""
    return choose_targets(op.value.get("targets", "one"), cluster.nodes, live_nodes(cluster), rng)


# Signals are delivered asynchronously: a pause or resume is done when /proc says so.
SIGNAL_SETTLE_S = 2.0


def _settle(cluster: ProcessCluster, node: str, paused: bool) -> None:
    """Wait until ``node`` is (or no longer is) stopped, so the op completes when it holds."""
    deadline = time.monotonic() + SIGNAL_SETTLE_S
    while cluster.is_running(node) and cluster.is_paused(node) != paused:
        if time.monotonic() > deadline:
            state = "stopped" if paused else "running again"
            raise NemesisError(
                f"node {node} was signalled but is not {state} after {SIGNAL_SETTLE_S} s"
            )
        time.sleep(0.001)


def _check_fault(op: FaultOp, fault: str) -> None:
    if op.fault != fault:
        raise ValueError(f"the {fault} nemesis cannot do {op.f!r}")


class KillNemesis:
    """``kill -9`` nodes, then start them again on the same data."""

    def __init__(
        self, cluster: ProcessCluster, rng: random.Random, clock: Clock | None = None
    ) -> None:
        self.cluster = cluster
        self.rng = rng
        self.clock = clock or WallClock()  # "down 7.3 s": on the environment's clock
        self.killed: list[str] = []  # killed by us and not restarted yet
        self.killed_at: dict[str, float] = {}

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        _check_fault(op, "kill")
        if op.starts:
            targets = live_targets(self.cluster, op, self.rng)
            for node in targets:
                try:
                    self.cluster.kill(node)
                except Exception as err:
                    raise NemesisError(f"kill {node}: {err}") from err
                self.killed.append(node)
                self.killed_at[node] = self.clock.now()
            summary = f"kill {', '.join(targets) or 'nobody'}"
            return {"nodes": list(targets), "effect": effect(summary, bool(targets))}
        down_s: dict[str, float] = {}
        restarted = self._restart(down_s)
        summary = "; ".join(f"{node}: down {s:.1f} s" for node, s in down_s.items())
        return {
            "nodes": restarted,
            "down_s": down_s,
            "effect": effect(summary or "nobody to restart", bool(down_s)),
        }

    def _restart(self, down_s: dict[str, float] | None = None) -> list[str]:
        restarted: list[str] = []
        failures: list[str] = []
        for node in list(self.killed):
            try:
                if not self.cluster.is_running(node):
                    self.cluster.start_node(node)
                    restarted.append(node)
                self.killed.remove(node)
                since = self.killed_at.pop(node, None)
                if down_s is not None and since is not None:
                    down_s[node] = round(self.clock.now() - since, 1)
            except Exception as err:  # keep restarting the others
                failures.append(f"restart {node}: {err}")
        if failures:
            raise NemesisError("; ".join(failures))
        return restarted

    def heal(self) -> None:
        self._restart()


class PauseNemesis:
    """``SIGSTOP`` nodes (they keep their sockets but do nothing), then ``SIGCONT`` them."""

    def __init__(
        self, cluster: ProcessCluster, rng: random.Random, clock: Clock | None = None
    ) -> None:
        self.cluster = cluster
        self.rng = rng
        self.clock = clock or WallClock()
        self.paused_at = self.clock.now()

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        _check_fault(op, "pause")
        if op.starts:
            targets = live_targets(self.cluster, op, self.rng)
            for node in targets:
                try:
                    self.cluster.pause(node)
                    _settle(self.cluster, node, paused=True)
                except Exception as err:
                    raise NemesisError(f"pause {node}: {err}") from err
            self.paused_at = self.clock.now()
            summary = f"pause {', '.join(targets) or 'nobody'}"
            return {"nodes": list(targets), "effect": effect(summary, bool(targets))}
        resumed = self._resume()
        held = self.clock.now() - self.paused_at
        summary = f"{', '.join(resumed)} resumed after {held:.1f} s" if resumed else ""
        return {"nodes": resumed, "effect": effect(summary or "nobody to resume", bool(resumed))}

    def _resume(self) -> list[str]:
        """Resume every paused node of the cluster: ours, and any an interrupted earlier step
        (or anyone else) left stopped."""
        resumed: list[str] = []
        failures: list[str] = []
        for node in self.cluster.nodes:
            try:
                if self.cluster.is_paused(node):
                    self.cluster.resume(node)
                    _settle(self.cluster, node, paused=False)
                    resumed.append(node)
            except Exception as err:
                failures.append(f"resume {node}: {err}")
        if failures:
            raise NemesisError("; ".join(failures))
        return resumed

    def heal(self) -> None:
        self._resume()
