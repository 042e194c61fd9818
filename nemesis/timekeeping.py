"""The time faults and the harness read and wait on: the ``Clock`` protocol, and ``WallClock``.

Every environment has a clock (``nemesis.environment.FaultEnvironment.clock``): real time in the
real environment; the simulator's virtual time in ``zynamo.env.sim``, where a wait lets the
simulated cluster and the workload go on meanwhile. A fault that waits (a strobe between flips)
or measures a duration ("n3: down 7.3 s") uses the environment's clock, never ``time``, so a
simulated run stays a function of its seed. ``WallClock`` reads ``time.monotonic``.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """The time faults and the harness read and wait on."""

    def now(self) -> float:
        """Seconds on a monotonic clock (any origin)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``event`` (it may return when the time is up even if the
        event was set meanwhile); whether it is set."""
        ...


class WallClock:
    """Real time: ``time.monotonic`` and sleeping threads."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))
