"""Blocking calls that take turns with the virtual-time loop: threads without nondeterminism.

Some harness code blocks: a nemesis operation waits for a membership change to finish, or
flips clocks every few hundred milliseconds for seconds (a strobe). In real time it runs on a
worker thread beside the event loop. On the simulator it must wait in *virtual* time while the
workload and the cluster go on, and the run must stay a function of its seed alone.

``run_blocking(call)`` runs ``call`` on its own thread, but never at the same time as the
loop: the loop hands the thread its turn and waits; the thread runs until it finishes or calls
``sleep(seconds)``, which hands the turn back and asks to be woken ``seconds`` of virtual time
later (an ``asyncio.sleep`` on the loop). Exactly one of them runs at any moment, and turns
change at the same points in every run, so the interleaving is as deterministic as coroutines.
A ``sleep`` from the loop's own thread while the loop runs would stop virtual time, and raises.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_local = threading.local()


class _Turns(Generic[T]):
    """One blocking call on its own thread, and the baton it passes with the loop."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._worker_turn = threading.Semaphore(0)
        self._loop_turn = threading.Semaphore(0)
        self.sleep_s = 0.0
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="virtual-worker", daemon=True)
        self._started = False

    def _main(self) -> None:
        self._worker_turn.acquire()
        _local.turns = self
        try:
            self.result = self._call()
        except BaseException as err:  # handed to the loop, which raises it
            self.error = err
        finally:
            self.done = True
            self._loop_turn.release()

    def step(self) -> None:
        """Loop side: let the call run until it sleeps or ends."""
        if not self._started:
            self._started = True
            self._thread.start()
        self._worker_turn.release()
        self._loop_turn.acquire()

    def sleep(self, seconds: float) -> None:
        """Worker side: give the turn back for ``seconds`` of virtual time."""
        self.sleep_s = seconds
        self._loop_turn.release()
        self._worker_turn.acquire()


async def run_blocking(call: Callable[[], T]) -> T:
    """Run ``call`` in turns with the running loop (see the module docstring); its result."""
    turns = _Turns(call)
    while True:
        turns.step()
        if turns.done:
            break
        await asyncio.sleep(turns.sleep_s)
    turns._thread.join()
    if turns.error is not None:
        raise turns.error
    return turns.result  # type: ignore[return-value]  # set when the call returned


def in_worker() -> bool:
    """Whether the calling thread is a ``run_blocking`` worker."""
    return getattr(_local, "turns", None) is not None


def worker_sleep(seconds: float) -> None:
    """From a ``run_blocking`` worker: wait ``seconds`` of virtual time."""
    turns: _Turns[object] | None = getattr(_local, "turns", None)
    if turns is None:
        raise RuntimeError("worker_sleep outside a run_blocking worker")
    turns.sleep(max(0.0, seconds))
