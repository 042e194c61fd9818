"""The deterministic simulator: every node of a cluster in one process, on a virtual clock,
over a seeded network that can delay, drop, duplicate, reorder and partition, with in-memory
stores. The same ``cluster.core`` nodes as the real shell; the same seed replays the same run.
No I/O. What other packages may use is in ``__all__``.
"""

from cluster.sim.client import SimClient
from cluster.sim.loop import SimulationDeadlock, VirtualTimeLoop
from cluster.sim.simulator import (
    DEFAULT_COMMIT_MS,
    NetworkConfig,
    Simulator,
    Ticket,
    UnexpectedLog,
)
from cluster.sim.workers import in_worker, run_blocking, worker_sleep

__all__ = [
    "DEFAULT_COMMIT_MS",
    "NetworkConfig",
    "SimClient",
    "SimulationDeadlock",
    "Simulator",
    "Ticket",
    "UnexpectedLog",
    "VirtualTimeLoop",
    "in_worker",
    "run_blocking",
    "worker_sleep",
]
