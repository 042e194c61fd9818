"""Real time for an environment: the wall clock, ``asyncio.run``, and a worker thread for
blocking fault operations. What the real and the in-memory environments share; the simulator's
environment has virtual time instead (``zynamo.env.sim``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from nemesis.timekeeping import Clock, WallClock

T = TypeVar("T")


class RealTime:
    """``clock``, ``run`` and ``run_blocking`` of ``zynamo.env.base.Environment`` in real time."""

    @property
    def clock(self) -> Clock:
        return WallClock()

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(main)

    async def run_blocking(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, call)
