"""Drives a workload against a cluster: concurrent logical processes at a target rate.

``run_workload`` starts ``concurrency`` worker tasks on one asyncio loop. Each is a Jepsen
logical process: it performs one operation at a time, records the invocation and the
completion, and sleeps a random stagger between operations so the whole run issues about
``rate`` operations per second. A completion is ``ok``; ``fail`` only when the client says the
outcome is definite (nothing was written); otherwise ``info`` — and then the process is
retired and a fresh process number (old + concurrency) takes its place, as in Jepsen, because
an operation of unknown outcome may still take effect at any later time.

``final_reads`` reads every key the run touched once more after the heal. Randomness comes from
the seeded ``rng``; time from the event loop (``loop.time()``), so the same code runs in real
time or, on the simulator's loop, in virtual time. Does I/O only through the client it is given
(``workloads.client.Client``).

A run can also be *scripted*: given ``script`` (worker index -> its ``ScriptedOp`` stream, from
a recorded or shrunk schedule), each worker performs exactly those operations, each through its
node and no earlier than its time, instead of drawing them; without a script nothing changes.
An ``OpListener`` hears every operation a worker starts, so the run's schedule can be recorded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cluster.net import ClientError
from workloads.base import Invocation, KeyPool, Quorum, Workload
from workloads.client import Client
from workloads.recorder import HistoryRecorder


@dataclass
class WorkloadCounts:
    """Running totals, for progress lines."""

    ok: int = 0
    fail: int = 0
    info: int = 0
    by_f: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return self.ok + self.fail + self.info


@dataclass(frozen=True)
class LoadSettings:
    concurrency: int = 10
    rate: float = 50.0  # total operations per second, over all processes
    time_limit_s: float = 60.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        if self.time_limit_s <= 0:
            raise ValueError(f"time limit must be positive, got {self.time_limit_s}")


@dataclass(frozen=True)
class ScriptedOp:
    """One operation of a scripted worker: ``op`` through ``node`` at ``at_s`` seconds after the
    workload started. ``wait_s`` is the pause that preceded it in the run it was recorded from
    (None: it followed its predecessor at once); replaying that same pause from the same moment
    lands on the same instant to the last bit, which keeps a simulated replay exact."""

    at_s: float
    op: Invocation
    node: str
    wait_s: float | None = None


@dataclass(frozen=True)
class ScriptedWorker:
    """A scripted worker's operations, in order; ``yields_at_end``: the recorded worker yielded
    once more after its last operation ended past the deadline (kept for an exact replay)."""

    ops: tuple[ScriptedOp, ...]
    yields_at_end: bool = False


class OpListener(Protocol):
    """Hears what the workers do, to record the run's schedule."""

    def invoked(
        self,
        worker: int,
        process: int,
        at_s: float,
        op: Invocation,
        node: str,
        wait_s: float | None,
    ) -> None:
        """Worker ``worker`` (as logical ``process``) starts ``op`` through ``node``, ``at_s``
        seconds after the workload started, after pausing ``wait_s`` (None: no pause)."""

    def finished(self, worker: int, paused: bool) -> None:
        """Worker ``worker`` is done; ``paused``: it yielded once more past the deadline."""


# Two instants closer than this are the same (replaying a recorded pause, see ScriptedOp).
SAME_INSTANT_S = 1e-6


async def perform(
    recorder: HistoryRecorder,
    process: int,
    op: Invocation,
    node: str,
    action: Callable[[], Awaitable[dict[str, Any]]],
    counts: WorkloadCounts | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Record ``op``'s invocation, run ``action`` (the client calls that carry it out, returning
    the completion's fields), record the completion, and return its type."""
    base = {"process": process, "f": op.f, "key": op.key, "node": node, **(extra or {})}
    recorder.record({**base, "type": "invoke", "value": op.value})
    try:
        fields = await action()
        completion: dict[str, Any] = {**base, "type": "ok", **fields}
    except ClientError as err:
        kind = "fail" if err.definite else "info"
        completion = {**base, "type": kind, "value": op.value, "error": err.message}
    recorder.record(completion)
    if counts is not None:
        kind = completion["type"]
        setattr(counts, kind, getattr(counts, kind) + 1)
        counts.by_f[op.f] = counts.by_f.get(op.f, 0) + 1
    return str(completion["type"])


async def run_workload(
    client: Client,
    workload: Workload,
    recorder: HistoryRecorder,
    nodes: Sequence[str],
    keys: KeyPool,
    quorum: Quorum,
    settings: LoadSettings,
    rng: random.Random,
    counts: WorkloadCounts | None = None,
    stopped: Callable[[], bool] = lambda: False,
    script: Mapping[int, ScriptedWorker] | None = None,
    listener: OpListener | None = None,
) -> WorkloadCounts:
    """Run the workload for ``settings.time_limit_s`` (or until ``stopped()``); with ``script``,
    perform the scripted operations instead of drawing them (see the module)."""
    counts = counts or WorkloadCounts()
    clock = asyncio.get_running_loop().time
    origin = clock()
    deadline = origin + settings.time_limit_s
    # The mean pause between one process's operations that gives the target total rate.
    mean_gap_s = settings.concurrency / settings.rate

    async def run_op(
        index: int, process: int, op: Invocation, node: str, wait: float | None
    ) -> int:
        if listener is not None:
            listener.invoked(index, process, clock() - origin, op, node, wait)
        kind = await perform(
            recorder,
            process,
            op,
            node,
            lambda: workload.apply(client, op, node, quorum),
            counts,
        )
        if kind == "info":
            process += settings.concurrency  # retired: its operation may still happen
        return process

    async def worker(index: int, worker_rng: random.Random) -> None:
        process = index
        first_wait = worker_rng.uniform(0, mean_gap_s)
        await asyncio.sleep(first_wait)
        wait: float | None = first_wait
        paused = False
        while clock() < deadline and not stopped():
            started = clock()
            op = workload.next_op(worker_rng, keys)
            node = worker_rng.choice(list(nodes))
            process = await run_op(index, process, op, node, wait)
            pause = worker_rng.uniform(0, 2 * mean_gap_s) - (clock() - started)
            wait, paused = None, pause > 0
            if pause > 0:
                wait = min(pause, max(0.0, deadline - clock()))
                await asyncio.sleep(wait)
        if listener is not None:
            listener.finished(index, paused and clock() >= deadline)

    async def scripted_worker(index: int, scripted: ScriptedWorker) -> None:
        process = index
        for step in scripted.ops:
            if clock() >= deadline or stopped():
                break
            target = origin + step.at_s
            wait = step.wait_s
            if wait is None or abs(clock() + wait - target) > SAME_INSTANT_S:
                wait = target - clock() if target > clock() else None
            if wait is not None:
                await asyncio.sleep(wait)
            process = await run_op(index, process, step.op, step.node, wait)
        # As a drawn worker ends: it waits out the deadline, or yields once past it (or not).
        paused = clock() < deadline or scripted.yields_at_end
        if paused:
            await asyncio.sleep(max(0.0, deadline - clock()))
        if listener is not None:
            listener.finished(index, paused and clock() >= deadline)

    if script is not None:
        await asyncio.gather(*(scripted_worker(i, ops) for i, ops in sorted(script.items())))
        return counts
    workers = [worker(i, random.Random(rng.getrandbits(64))) for i in range(settings.concurrency)]
    await asyncio.gather(*workers)
    return counts


async def final_reads(
    client: Client,
    workload: Workload,
    recorder: HistoryRecorder,
    keys: Sequence[str],
    nodes: Sequence[str],
    quorum: Quorum,
    first_process: int,
    rng: random.Random,
    attempts: int = 5,
) -> dict[str, bool]:
    """Read every key with r = n after the heal, retrying a failed read on other nodes.

    Each read is an ordinary operation marked ``final``; returns, per key, whether a final
    read succeeded."""
    done: dict[str, bool] = {}
    process = first_process
    for key in keys:
        done[key] = False
        for _ in range(attempts):
            node = rng.choice(list(nodes))
            op = Invocation("read", key)
            kind = await perform(
                recorder,
                process,
                op,
                node,
                lambda: workload.final_read(client, key, node, quorum),  # noqa: B023
                extra={"final": True},
            )
            if kind == "info":
                process += 1
            if kind == "ok":
                done[key] = True
                break
            await asyncio.sleep(0.2)
    return done
