"""Run independent searches in worker processes, stop early, survive a worker's death.

Starts and ends processes (no file I/O). `run_searches` hands each worker the index of the
next task through a queue; tasks are passed by ``fork`` (the workers inherit them, nothing is
pickled on the way in), outcomes come back through a pipe. A worker that dies (killed by the
kernel for lack of memory, say) costs its task only: that task's outcome is `WorkerDied`, and
a new worker takes the rest. The caller may stop everything as soon as one outcome decides the
answer; the workers are then terminated, each by its own handle.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

# Set in the parent just before forking: the work and its tasks (inherited, not pickled).
_WORK: Callable[[Any], Any] | None = None
_TASKS: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class WorkerDied:
    """A task's worker process ended without an outcome."""

    exitcode: int | None

    def describe(self) -> str:
        code = self.exitcode
        if code is not None and code < 0:
            return f"the worker process was killed by signal {-code}"
        return f"the worker process exited with code {code}"


def _worker(tasks: Any, results: Any) -> None:
    assert _WORK is not None
    while True:
        index = tasks.get()
        if index is None:
            return
        results.send(("start", index, None))
        try:
            outcome = _WORK(_TASKS[index])
        except MemoryError:
            outcome = MemoryError()
        results.send(("done", index, outcome))


def available() -> bool:
    """Can workers be forked here (Linux, macOS)?"""
    return "fork" in multiprocessing.get_all_start_methods()


def run_searches(
    work: Callable[[Any], Any], tasks: Sequence[Any], jobs: int
) -> Generator[tuple[int, Any], None, None]:
    """Yield ``(index, work(tasks[index]))`` as each finishes (a `WorkerDied` instead if its
    worker died, a `MemoryError` instance if it raised one), using ``jobs`` processes.
    Closing the iterator early terminates the workers still running."""
    global _WORK, _TASKS
    context = multiprocessing.get_context("fork")
    _WORK, _TASKS = work, tasks
    queue = context.SimpleQueue()
    for index in range(len(tasks)):
        queue.put(index)
    workers: dict[Any, tuple[Any, Any]] = {}  # sentinel -> (process, receiving end)
    current: dict[Any, int] = {}  # sentinel -> task in progress
    pending = len(tasks)

    def start_worker() -> None:
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(queue, sending), daemon=True)
        process.start()
        sending.close()
        workers[process.sentinel] = (process, receiving)

    try:
        for _ in range(min(jobs, len(tasks))):
            start_worker()
        while pending:
            ready = multiprocessing.connection.wait(
                [*workers, *(receiving for _, receiving in workers.values())]
            )
            for sentinel, (process, receiving) in list(workers.items()):
                while receiving.poll():
                    try:
                        kind, index, outcome = receiving.recv()
                    except EOFError:
                        break
                    if kind == "start":
                        current[sentinel] = index
                    else:
                        current.pop(sentinel, None)
                        pending -= 1
                        yield index, outcome
                if sentinel in ready and not receiving.poll():
                    process.join()
                    del workers[sentinel]
                    receiving.close()
                    lost = current.pop(sentinel, None)
                    if lost is not None:
                        pending -= 1
                        yield lost, WorkerDied(process.exitcode)
                    if pending:
                        start_worker()
    finally:
        for _ in workers:
            queue.put(None)  # idle workers end by themselves; busy ones are not waited for
        for process, receiving in workers.values():
            process.join(timeout=0.5 if not pending else 0)
            if process.is_alive():
                process.terminate()
                process.join()
            receiving.close()
        _WORK, _TASKS = None, ()
