"""The environment interface: everything the runner does to a cluster, in one small protocol.

An ``Environment`` is a ``nemesis.environment.FaultEnvironment`` (node processes to kill,
restart, pause and resume; a network whose links can be cut and slowed, partition grudges
and latency; membership changes; each node's admin channel, through which clocks are offset
and replica states dumped) plus what a run needs around the faults: ``start`` and ``stop`` the
cluster, wait until it is ``ready``, make the workload's ``client``, ``collect_logs`` into the
run directory, and a line saying what it is. Time is the environment's too: the runner reads
and waits on ``clock``, runs its asyncio code (workload, nemesis schedule, progress) with
``run``, and the nemesis's blocking fault operations with ``run_blocking`` — real time, an
event loop and a worker thread in the real environment; virtual time on the simulator, where
the same code runs deterministically. Admin calls raise ``cluster.net.ClientError`` when
a node does not answer. An environment is a context manager: leaving it releases everything
(after ``stop``).

Implementations: ``zynamo.env.real.RealEnvironment`` (local OS processes, ZeroMQ, SQLite,
behind the embedded Toxiproxy or a real one) and ``zynamo.env.memory.MemoryEnvironment`` (no
processes: an in-memory store and flags, for tests of the harness). The simulator's is next.
No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from nemesis.environment import FaultEnvironment
from workloads.client import Client

T = TypeVar("T")


class Environment(FaultEnvironment, Protocol):
    """Where a test runs; the runner touches the cluster only through this."""

    @property
    def nodes(self) -> tuple[str, ...]: ...

    def describe(self) -> str:
        """What the cluster is, for the progress line ("5 nodes behind Toxiproxy at ...")."""
        ...

    def start(self) -> None:
        """Start every node; return when they answer."""
        ...

    def wait_ready(self, timeout_s: float) -> None:
        """Return when every node runs and answers; raise if that takes over ``timeout_s``."""
        ...

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` to completion on this environment's event loop (``asyncio.run`` in
        real time; a virtual-time loop on the simulator)."""
        ...

    async def run_blocking(self, call: Callable[[], T]) -> T:
        """From inside ``run``: carry out a blocking call (a fault operation that waits on the
        ``clock``) while the loop's other tasks go on; its result."""
        ...

    def client(self, timeout_ms: int) -> Client:
        """A workload client of this cluster (not yet opened)."""
        ...

    def collect_logs(self, directory: Path) -> None:
        """Put each node's log in ``directory`` as ``<node>.log``, where the report links it."""
        ...

    def stop(self) -> None:
        """Stop every node. Idempotent."""
        ...

    def __enter__(self) -> Environment: ...

    def __exit__(self, *exc: object) -> None: ...
