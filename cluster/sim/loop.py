"""An asyncio event loop whose clock is the simulator's: asyncio code runs in virtual time.

The harness's workloads, generator and nemesis schedule are asyncio code that sleeps, awaits
client replies and reads ``loop.time()``. ``VirtualTimeLoop`` runs that same code on a
``Simulator``: where a real loop would block in ``select`` until a socket is ready or the next
timer is due, this one advances the simulator instead — up to the next asyncio timer, and no
further than the moment a simulated reply wakes a waiting coroutine. Nothing ever waits in wall
time, so a 60 s workload takes as long as its CPU work, and the order of everything (asyncio
callbacks, node events, replies) is a function of the seed alone.

``loop.time()`` is the simulator's clock in seconds; ``wake()`` tells the loop that a callback
became ready from inside the simulator (a reply delivered), so it stops advancing virtual time
and runs it. A loop with nothing scheduled — no asyncio timer, no simulator event, no ready
callback for an hour of virtual time — while a coroutine still waits is deadlocked:
``run_until_complete`` raises ``SimulationDeadlock`` rather than hang. No I/O (the loop's
internal wake-up socket pair is never written to).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Mapping
from typing import Any

from cluster.sim.simulator import Simulator

# How much virtual time a loop with no asyncio timer waits for the simulator to wake it.
IDLE_LIMIT_MS = 3_600_000.0


class SimulationDeadlock(RuntimeError):
    """Every coroutine waits, and neither asyncio nor the simulator has anything scheduled."""


class _Keys(Mapping[Any, selectors.SelectorKey]):
    def __init__(self, keys: dict[int, selectors.SelectorKey]) -> None:
        self._keys = keys

    def __getitem__(self, fileobj: Any) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys[fd]

    def __iter__(self) -> Any:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _VirtualSelector(selectors.BaseSelector):
    """A selector that never reports a ready file: ``select(timeout)`` runs the simulator for
    up to ``timeout`` seconds of virtual time instead of waiting."""

    def __init__(self, sim: Simulator, idle_limit_ms: float) -> None:
        self.sim = sim
        self.idle_limit_ms = idle_limit_ms
        self.woken = False
        self._keys: dict[int, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys.pop(fd)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self.woken or (timeout is not None and timeout <= 0):
            self.woken = False
            return []
        sim = self.sim
        if timeout is None:
            # Nothing in asyncio is due: only the simulator can wake a coroutine now. Its nodes
            # keep timers forever, so "nothing left" means "nothing woke us for this long".
            sim.run_until(sim.now_ms + self.idle_limit_ms, stop=lambda: self.woken)
            if not self.woken:
                raise SimulationDeadlock(
                    "every coroutine is waiting, no asyncio timer is set, and nothing in the"
                    f" simulator answered for {self.idle_limit_ms / 1000:.0f} s of virtual time"
                    f" (now {sim.now_ms:.0f} ms)"
                )
        else:
            sim.run_until(sim.now_ms + timeout * 1000.0, stop=lambda: self.woken)
        self.woken = False
        return []

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return _Keys(self._keys)

    def close(self) -> None:
        self._keys.clear()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop that runs on ``sim``'s virtual clock (see the module docstring)."""

    def __init__(self, sim: Simulator, idle_limit_ms: float = IDLE_LIMIT_MS) -> None:
        self._virtual = _VirtualSelector(sim, idle_limit_ms)
        super().__init__(self._virtual)
        self.sim = sim

    def time(self) -> float:
        return self.sim.now_ms / 1000.0

    def wake(self) -> None:
        """A callback became ready from inside the simulator: stop advancing and run it."""
        self._virtual.woken = True
