"""Membership faults: a node leaves the cluster while the workload runs, then joins back.

``start-membership`` asks its targets (default: one live member) to leave; ``stop-membership``
and ``heal`` have every node that left join again. The cluster must offer ``leave(node)`` and
``join(node)`` (the ``MembershipCluster`` interface); a cluster without them makes this nemesis
raise a ``NemesisError`` saying so, at construction, so a run asking for membership faults fails
before it starts rather than halfway. Does process and network I/O through the cluster.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.errors import NemesisError
from nemesis.targets import choose_targets

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
    ) -> None:
        for name in ("leave", "join"):
            if not callable(getattr(cluster, name, None)):
                raise NemesisError(MISSING_SUPPORT.format(missing=name))
        self.cluster: MembershipCluster = cluster  # type: ignore[assignment]
        self.live = live
        self.rng = rng
        self.left: list[str] = []  # nodes we made leave that have not joined back

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "membership":
            raise ValueError(f"the membership nemesis cannot do {op.f!r}")
        if not op.starts:
            joined = self._join_back()
            summary = f"{', '.join(joined)} joined back" if joined else "nobody to join back"
            return {"joined": joined, "effect": effect(summary, bool(joined))}
        members = [n for n in self.live() if n not in self.left]
        # Never empty the cluster: at least one member stays.
        eligible = members if len(members) > 1 else []
        targets = choose_targets(
            op.value.get("targets", "one"), self.cluster.nodes, eligible, self.rng
        )
        targets = targets[: max(0, len(members) - 1)]
        for node in targets:
            try:
                self.cluster.leave(node)
            except Exception as err:
                raise NemesisError(f"leave {node}: {err}") from err
            self.left.append(node)
        summary = f"{', '.join(targets)} left the ring" if targets else "nobody could leave"
        return {"left": list(targets), "effect": effect(summary, bool(targets))}

    def _join_back(self) -> list[str]:
        joined: list[str] = []
        failures: list[str] = []
        for node in list(self.left):
            try:
                self.cluster.join(node)
                self.left.remove(node)
                joined.append(node)
            except Exception as err:
                failures.append(f"join {node}: {err}")
        if failures:
            raise NemesisError("; ".join(failures))
        return joined

    def heal(self) -> None:
        self._join_back()
