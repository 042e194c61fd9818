"""The nemesis interface: a fault is data (a ``FaultOp``), a ``Nemesis`` applies it and heals it.

The runner asks a ``Schedule`` for the next fault operation, records its invocation in the
history, calls ``Nemesis.invoke(op)``, and records the completion with the value the nemesis
returns (what was actually done: the grudge, the nodes killed, the clock offsets). Every
nemesis can ``heal()`` everything it did, idempotently; the runner always calls it at the end
of a run, after an error or on Ctrl-C too. Implementations: ``NoopNemesis`` (does nothing: the
``none`` package) and ``nemesis.combined.CombinedNemesis`` (the run's fault packages, each an
adapter from ``nemesis.registry``, acting on a ``nemesis.environment.FaultEnvironment``).
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class FaultOp:
    """One nemesis operation: ``f`` is ``start-<fault>`` or ``stop-<fault>``."""

    f: str
    value: dict[str, Any] = field(default_factory=dict)

    @property
    def fault(self) -> str:
        return self.f.split("-", 1)[1]

    @property
    def starts(self) -> bool:
        return self.f.startswith("start-")


class Nemesis(Protocol):
    """What the runner drives: set up once, invoke fault ops, heal everything, tear down."""

    def setup(self) -> None:
        """Prepare (e.g. create proxies). Called once before the workload starts."""

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        """Apply ``op``; return what was done, JSON-able, for the history."""

    def heal(self) -> None:
        """Undo every fault this nemesis applied. Idempotent; safe after errors."""

    def teardown(self) -> None:
        """Release what ``setup`` created."""


class NoopNemesis:
    """A nemesis that does nothing: the ``none`` package."""

    def setup(self) -> None:
        pass

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        return {"noop": True}

    def heal(self) -> None:
        pass

    def teardown(self) -> None:
        pass
