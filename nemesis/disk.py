"""Storage faults as a nemesis: power loss, and a database file bit-flipped or truncated.

``start-disk`` with mode ``power-loss`` cuts the power of its targets at once: each stops as
with ``kill -9`` and its store loses what it had not synced (the environment's
``StorageFaults.power_loss``; with ``--sync full`` nothing, with ``normal`` or ``off`` every
commit since the last synced checkpoint). Modes ``bitflip`` and ``truncate`` stop their targets
and damage the database file. The targets stay down until ``stop-disk`` (or ``heal``) starts
them again; a node that finds its file damaged refuses to start (one log line), and then, if the
environment offers membership, it is removed from the cluster by force, as an operator would
(its replicas elsewhere restore the replication; it never serves what the damage made of its
data). Every op's value says what the fault did (``effect``): transactions and keys lost, bytes
damaged, how long each node was down, which refused. Does process and file I/O through the
environment.
"""

from __future__ import annotations

import random
from typing import Any

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.environment import StorageFaults
from nemesis.errors import NemesisError
from nemesis.membership import MembershipCluster
from nemesis.options import DISK_MODES, NemesisOptions
from nemesis.process import ProcessCluster, live_targets
from nemesis.shapes import check_choice
from nemesis.timekeeping import Clock, WallClock


class DiskNemesis:
    def __init__(
        self,
        storage: StorageFaults,
        processes: ProcessCluster,
        membership: MembershipCluster | None,
        rng: random.Random,
        options: NemesisOptions,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or WallClock()  # how long a node was down, on the environment's clock
        self.storage = storage
        self.processes = processes
        self.membership = membership
        self.rng = rng
        self.options = options
        self.down: dict[str, float] = {}  # node we took down -> when (monotonic)

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "disk":
            raise ValueError(f"the disk nemesis cannot do {op.f!r}")
        if not op.starts:
            return self._bring_back()
        mode = check_choice("disk mode", op.value.get("mode", "power-loss"), DISK_MODES)
        targets = live_targets(self.processes, op, self.rng)
        if mode == "power-loss":
            return self._power_loss(targets)
        damage: dict[str, Any] = {}
        for node in targets:
            try:
                damage[node] = self.storage.corrupt(node, mode, self.rng)
            except Exception as err:
                raise NemesisError(f"{mode} {node}: {err}") from err
            self.down[node] = self.clock.now()
        where = ", ".join(_where(n, d) for n, d in damage.items())
        return {
            "mode": mode,
            "nodes": list(targets),
            "damage": damage,
            "effect": effect(f"{mode} {where or 'nobody'}", bool(damage)),
        }

    def _power_loss(self, targets: tuple[str, ...]) -> dict[str, Any]:
        lost: dict[str, Any] = {}
        for node in targets:  # as close to "at once" as one process can
            try:
                lost[node] = self.storage.power_loss(node)
            except Exception as err:
                raise NemesisError(f"power loss {node}: {err}") from err
            self.down[node] = self.clock.now()
        transactions = sum(int(r.get("transactions_lost", 0)) for r in lost.values())
        keys = sum(int(r.get("keys_rolled_back", 0)) for r in lost.values())
        summary = (
            f"power loss {', '.join(targets) or 'nobody'} (sync {self.storage.sync_mode}):"
            f" {transactions:,} unsynced transactions dropped, {keys:,} keys rolled back"
        )
        return {
            "mode": "power-loss",
            "nodes": list(targets),
            "lost": lost,
            # With nothing to lose (sync full) the fault still took the nodes down: it mattered
            # as a crash; the summary says nothing was dropped.
            "effect": effect(summary, bool(targets)),
        }

    def _bring_back(self) -> dict[str, Any]:
        restarted: list[str] = []
        refused: dict[str, str] = {}
        removed: list[str] = []
        down_s: dict[str, float] = {}
        failures: list[str] = []
        for node, since in list(self.down.items()):
            try:
                outcome = self.storage.restart(node)
            except Exception as err:
                failures.append(f"restart {node}: {err}")
                continue
            down_s[node] = round(self.clock.now() - since, 1)
            del self.down[node]
            if outcome.get("started"):
                restarted.append(node)
                continue
            refused[node] = str(outcome.get("refused") or "did not start")
            if self.membership is not None and node in self.membership.nodes:
                try:
                    self.membership.leave(node)  # down: removed by force
                    removed.append(node)
                except Exception as err:
                    failures.append(f"force-remove {node}: {err}")
        if failures:
            raise NemesisError("; ".join(failures))
        parts = [f"{node}: down {s} s" for node, s in down_s.items()]
        parts += [f"{node} refused to start and was removed by force" for node in removed]
        parts += [f"{node} refused to start" for node in refused if node not in removed]
        return {
            "restarted": restarted,
            "refused": refused,
            "removed": removed,
            "down_s": down_s,
            "effect": effect("; ".join(parts) or "nothing to bring back", bool(down_s)),
        }

    def heal(self) -> None:
        self._bring_back()


def _where(node: str, damage: dict[str, Any]) -> str:
    if "offset" in damage:
        return f"{node} (bit {damage.get('bit')} of byte {damage['offset']:,})"
    before, after = damage.get("size_before", 0), damage.get("size_after", 0)
    return f"{node} (cut from {before:,} to {after:,} B)"
