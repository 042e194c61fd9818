"""Membership faults while the workload runs: a node leaves and joins back, a new node joins,
or a node dies and is removed by force.

``start-membership`` in mode ``leave-rejoin`` (the default) asks its targets (default: one live
member) to leave, handing their data off; ``stop-membership`` and ``heal`` have every node that
left join again. Mode ``join`` starts a new node (the next free ``nK``) that joins the ring
while the others hand it partitions; its stop has it leave again. Mode ``force-remove`` kills
its targets and removes them from the ring by force (nothing handed off: the replicas elsewhere
restore the replication); its stop brings them back as members on their old data. The
cluster must offer ``leave(node)`` and ``join(node)`` (the ``MembershipCluster`` interface); a
cluster without them makes this nemesis raise a ``NemesisError`` saying so, at construction,
so a run asking for membership faults fails before it starts rather than halfway. Does process
and network I/O through the cluster.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.errors import NemesisError
from nemesis.shapes import check_choice
from nemesis.targets import choose_targets

MODES = ("leave-rejoin", "join", "force-remove")

MISSING_SUPPORT = (
    "membership faults need cluster join/leave: the cluster given has no {missing}()"
    " method (expected `leave(node)` and `join(node)` on the cluster object)"
)


class MembershipCluster(Protocol):
    @property
    def nodes(self) -> tuple[str, ...]: ...

    def leave(self, node: str) -> Any: ...

    def join(self, node: str) -> Any: ...


def supports_membership(cluster: object) -> bool:
    return all(callable(getattr(cluster, name, None)) for name in ("leave", "join"))


class MembershipNemesis:
    """Makes nodes leave and join back; ``live`` says which nodes are up to be asked."""

    def __init__(
        self,
        cluster: object,
        live: Callable[[], Sequence[str]],
        rng: random.Random,
        kill: Callable[[str], None] | None = None,
    ) -> None:
        for name in ("leave", "join"):
            if not callable(getattr(cluster, name, None)):
                raise NemesisError(MISSING_SUPPORT.format(missing=name))
        self.cluster: MembershipCluster = cluster  # type: ignore[assignment]
        self.live = live
        self.rng = rng
        self.left: list[str] = []  # nodes we made leave that have not joined back
        self.newcomers: list[str] = []  # nodes we had join that have not left again
        self.kill = kill

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "membership":
            raise ValueError(f"the membership nemesis cannot do {op.f!r}")
        if not op.starts:
            joined = self._join_back()
            gone = self._send_newcomers_away()
            parts = [f"{', '.join(joined)} joined back"] if joined else []
            parts += [f"{', '.join(gone)} left again"] if gone else []
            summary = "; ".join(parts) or "nobody to join back"
            return {"joined": joined, "left": gone, "effect": effect(summary, bool(parts))}
        mode = check_choice("membership mode", op.value.get("mode", "leave-rejoin"), MODES)
        if mode == "join":
            return self._join_new()
        members = [n for n in self.live() if n not in self.left]
        # Never empty the cluster: at least one member stays.
        eligible = members if len(members) > 1 else []
        targets = choose_targets(
            op.value.get("targets", "one"), self.cluster.nodes, eligible, self.rng
        )
        targets = targets[: max(0, len(members) - 1)]
        if mode == "force-remove":
            targets = targets[: max(0, (len(members) - 1) // 2)]  # a majority stays to decide
        for node in targets:
            try:
                if mode == "force-remove" and self.kill is not None:
                    self.kill(node)  # dead first: leave then forgets it, by force
                self.cluster.leave(node)
            except Exception as err:
                raise NemesisError(f"leave {node}: {err}") from err
            self.left.append(node)
        verb = "removed by force" if mode == "force-remove" else "left the ring"
        summary = f"{', '.join(targets)} {verb}" if targets else "nobody could leave"
        return {"mode": mode, "left": list(targets), "effect": effect(summary, bool(targets))}

    def _join_new(self) -> dict[str, Any]:
        taken = set(self.cluster.nodes) | set(self.left) | set(self.newcomers)
        node = next(f"n{i}" for i in range(1, len(taken) + 2) if f"n{i}" not in taken)
        try:
            self.cluster.join(node)
        except Exception as err:
            raise NemesisError(f"join {node}: {err}") from err
        self.newcomers.append(node)
        return {"mode": "join", "joined": [node], "effect": effect(f"{node} joined", True)}

    def _send_newcomers_away(self) -> list[str]:
        return _for_each(self.newcomers, self.cluster.leave, "leave")

    def _join_back(self) -> list[str]:
        return _for_each(self.left, self.cluster.join, "join")

    def heal(self) -> None:
        self._join_back()
        self._send_newcomers_away()


def _for_each(pending: list[str], action: Callable[[str], object], verb: str) -> list[str]:
    """``action`` on every node of ``pending``, taking each one that succeeds off the list;
    those it was done to. Every node is tried; then the failures are raised together."""
    done: list[str] = []
    failures: list[str] = []
    for node in list(pending):
        try:
            action(node)
            pending.remove(node)
            done.append(node)
        except Exception as err:
            failures.append(f"{verb} {node}: {err}")
    if failures:
        raise NemesisError("; ".join(failures))
    return done
