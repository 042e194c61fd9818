"""Shrinking a failing run: the smallest schedule found that still fails the same way.

``Shrinker`` takes a failing run's schedule and its ``zynamo.replay.Failure`` (e.g. ``set``
invalid with ``lost > 0``) and runs passes over the schedule's parts, as Hypothesis shrinks a
test case: cut the workload's time limit short, remove fault windows, whole processes, keys,
then operations (greedy delta debugging: chunks of half, a quarter, ... one, the last first);
start everything earlier once the beginning is empty (a shorter time limit, and every later
candidate runs faster); each process's own stream as the operations, keep only the closest
pair of operations on a key, remove pairs, then seeded random parts of the operations; move
the operations of one key onto another (fewer keys), shorten the fault windows that remain
from either end, drop nodes. The simulator draws each message's delay as
a function of its link and the instant it is sent (``cluster.sim.draws``), so removing an
operation leaves the timing of the others as it was; pairs and random parts remain for the
failures that depend on the load itself. Each candidate is a whole run in the simulator
(``zynamo.replay``); a candidate that fails the same way becomes the new best, and the rounds
repeat until one changes nothing.

The search is bounded twice: by ``max_candidates`` runs, and by a wall-time budget as a safety
net. The order of passes and candidates is fixed and the simulator is deterministic, so the
same input shrinks to the same schedule whenever the search ends at its fixpoint or at the
candidate bound, however fast the machine; only a search cut short by the wall-time budget
(``budget_spent``) may end elsewhere on a slower machine. Progress lines say how many
candidates were tried and the current size. Does file I/O (each candidate's run directory, in
a temporary directory) and runs the simulator.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from zynamo.replay import Failure, replay
from zynamo.schedule import ClientStep, FaultStep, ProcessStream, RunSchedule
from zynamo.schedule_summary import fault_windows

U = TypeVar("U")
Progress = Callable[[str], None]

MIN_WINDOW_S = 0.05  # a fault window is not shortened below this
MIN_TIME_LIMIT_S = 0.1
# Up to this many operations, pairs are tried too once no single one can go: removing one
# operation changes the simulated network's later random draws, so a failure may survive
# losing two where it survives losing neither alone.
PAIRS_UP_TO = 60
# For the same reason, a failure that no removal of a chunk keeps may survive the removal of a
# scattered random part: this many seeded random removals of each size are tried.
RANDOM_TRIES = 12
# Most anomalies need two operations on one key, close in time: the closest such pairs are
# tried alone (with the faults), at most this many per round, each under a few simulator seeds
# (whether two operations collide depends on the network's random delays; the seed is part of
# the schedule, and the regression test replays the one that failed).
CLOSE_PAIRS = 30
PAIR_SEEDS = 3
# The default bound on candidate runs: the search ends here, deterministically, if it has not
# reached its fixpoint (a candidate of a shrunk schedule takes well under a second).
MAX_CANDIDATES = 1500


@dataclass(frozen=True)
class ShrinkResult:
    original: RunSchedule
    minimal: RunSchedule
    failure: Failure
    candidates: int  # runs tried
    accepted: int  # of which failed the same way (each a new best)
    elapsed_s: float
    budget_spent: bool  # stopped by the time budget rather than at a fixpoint
    candidates_spent: bool = False  # stopped at the bound on candidates (deterministic)

    def removed(self) -> dict[str, float]:
        before, after = self.original.size(), self.minimal.size()
        return {
            "faults": before.faults - after.faults,
            "operations": before.operations - after.operations,
            "processes": before.processes - after.processes,
            "keys": before.keys - after.keys,
            "nodes": before.nodes - after.nodes,
            "time_limit_s": round(before.time_limit_s - after.time_limit_s, 3),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "failure": self.failure.to_json(),
            "from": self.original.size().to_json(),
            "to": self.minimal.size().to_json(),
            "removed": self.removed(),
            "candidates": self.candidates,
            "accepted": self.accepted,
            "elapsed_s": round(self.elapsed_s, 1),
            "budget_spent": self.budget_spent,
            "candidates_spent": self.candidates_spent,
        }


# --------------------------------------------------------------------------- schedule edits


def with_ops(schedule: RunSchedule, ops: Sequence[tuple[int, ClientStep]]) -> RunSchedule:
    """``schedule`` keeping only ``ops`` ((worker, op) pairs); keys without ops are no longer
    read at the end."""
    by_worker: dict[int, list[ClientStep]] = {}
    for worker, op in ops:
        by_worker.setdefault(worker, []).append(op)
    streams = tuple(
        ProcessStream(
            stream.worker,
            tuple(sorted(by_worker[stream.worker], key=lambda op: op.at_s)),
            stream.yields_at_end,
        )
        for stream in schedule.processes
        if by_worker.get(stream.worker)
    )
    used = {op.key for _, op in ops}
    return replace(schedule, processes=streams, keys=tuple(k for k in schedule.keys if k in used))


def all_ops(schedule: RunSchedule) -> list[tuple[int, ClientStep]]:
    """Every operation with its worker, in time order."""
    ops = [(stream.worker, op) for stream in schedule.processes for op in stream.ops]
    return sorted(ops, key=lambda pair: (pair[1].at_s, pair[0]))


def with_faults(schedule: RunSchedule, steps: Sequence[FaultStep]) -> RunSchedule:
    return replace(schedule, faults=tuple(sorted(steps, key=lambda step: step.at_s)))


def settle_s(schedule: RunSchedule) -> float:
    """How long after its start an operation is surely over: a read and a write, each bounded
    by the client's timeout. A workload ends no sooner after its last operation started, so
    that every operation completes before the final reads (an acknowledgement at the very
    instant of the final read leaves the element "never read", and the verdict unknown)."""
    return 2 * int(schedule.options.get("timeout_ms", 1000)) / 1000 + 0.1


def cut_at(schedule: RunSchedule, cut_s: float) -> RunSchedule:
    """What started at ``cut_s`` or later is gone, and the workload ends then, or
    ``settle_s`` after its last operation started if that is later."""
    ops = [(w, op) for w, op in all_ops(schedule) if op.at_s < cut_s]
    cut = with_ops(schedule, ops)
    cut = with_faults(cut, [step for step in schedule.faults if step.at_s < cut_s])
    last = max((op.at_s for _, op in ops), default=0.0)
    return cut.with_options(time_limit_s=round(max(cut_s, last + settle_s(schedule)), 3))


def shifted(schedule: RunSchedule, by_s: float) -> RunSchedule:
    """Everything ``by_s`` seconds earlier, and the time limit as much shorter."""
    processes = tuple(
        replace(stream, ops=tuple(replace(op, at_s=round(op.at_s - by_s, 6)) for op in stream.ops))
        for stream in schedule.processes
    )
    steps = [replace(step, at_s=round(step.at_s - by_s, 6)) for step in schedule.faults]
    moved = replace(with_faults(schedule, steps), processes=processes)
    return moved.with_options(time_limit_s=round(schedule.time_limit_s - by_s, 3))


def with_key_merged(schedule: RunSchedule, gone: str, into: str) -> RunSchedule:
    """The operations on key ``gone`` on key ``into`` instead."""
    ops = [
        (worker, replace(op, key=into) if op.key == gone else op)
        for worker, op in all_ops(schedule)
    ]
    return with_ops(schedule, ops)


def _without_node_value(step: FaultStep, node: str) -> FaultStep | None:
    """``step`` no longer touching ``node``; None when it then touches nothing."""
    value = dict(step.value)
    if not step.starts:
        return step
    if "grudge" in value:
        grudge = {
            n: [d for d in deaf if d != node] for n, deaf in value["grudge"].items() if n != node
        }
        if not any(grudge.values()):
            return None
        value["grudge"] = grudge
    if isinstance(value.get("targets"), list):
        value["targets"] = [t for t in value["targets"] if t != node]
        if not value["targets"]:
            return None
    if isinstance(value.get("bumps_ms"), dict):
        value["bumps_ms"] = {n: ms for n, ms in value["bumps_ms"].items() if n != node}
    return replace(step, value=value, did=None)


def without_last_node(schedule: RunSchedule) -> RunSchedule | None:
    """The same schedule on one node fewer (the last, ``n<nodes>``): its operations and the
    faults that only touched it are gone; None when N replicas need every node left."""
    nodes = int(schedule.options["nodes"])
    if nodes - 1 < int(schedule.options["n"]):
        return None
    gone = f"n{nodes}"
    smaller = with_ops(schedule, [(w, op) for w, op in all_ops(schedule) if op.node != gone])
    steps: list[FaultStep] = []
    for window in fault_windows(schedule.faults):
        start = _without_node_value(window.start, gone)
        if start is not None:
            steps.append(start)
            if window.stop is not None:
                steps.append(window.stop)
    return with_faults(smaller, steps).with_options(nodes=nodes - 1)


# --------------------------------------------------------------------------- the shrinker


def _key(schedule: RunSchedule) -> str:
    data = schedule.to_json()
    data.pop("size", None)
    return json.dumps(data, sort_keys=True, default=str)


class Shrinker:
    """Searches for a smaller schedule failing the same way (see the module)."""

    def __init__(
        self,
        schedule: RunSchedule,
        failure: Failure,
        budget_s: float,
        progress: Progress,
        work_dir: Path | None = None,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        self.best = schedule
        self.max_candidates = max_candidates
        self.candidates_spent = False
        self.original = schedule
        self.failure = failure
        self.budget_s = budget_s
        self.progress = progress
        self.work_dir = work_dir
        self.candidates = 0
        self.accepted = 0
        self._seen: dict[str, bool] = {}
        self._started = time.monotonic()
        self.budget_spent = False

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def out_of_time(self) -> bool:
        """Whether the search must stop: at the bound on candidates, or the time budget."""
        if self.candidates >= self.max_candidates:
            self.candidates_spent = True
        elif self.elapsed() >= self.budget_s:
            self.budget_spent = True
        return self.budget_spent or self.candidates_spent

    def fails(self, candidate: RunSchedule) -> bool:
        """Run ``candidate`` in the simulator; whether it fails the same way (then it is the
        new best)."""
        key = _key(candidate)
        if key in self._seen:
            return self._seen[key]
        if self.out_of_time():
            return False
        self.candidates += 1
        with tempfile.TemporaryDirectory(prefix="zynamo-shrink-", dir=self.work_dir) as tmp:
            try:
                result = replay(
                    candidate, Path(tmp) / "run", "sim", progress=lambda line: None, report=False
                )
                failed = self.failure.matches(result.results)
            except Exception as err:  # a candidate the harness cannot run is not a reproducer
                self.progress(f"shrink: candidate {self.candidates} could not run: {err}")
                failed = False
        self._seen[key] = failed
        if failed:
            self.best = candidate
            self.accepted += 1
            self.progress(
                f"shrink: {self.candidates} candidates tried, {self.elapsed():.0f} s:"
                f" {candidate.size().text()}"
            )
        elif self.candidates % 25 == 0:
            self.progress(
                f"shrink: {self.candidates} candidates tried, {self.elapsed():.0f} s,"
                f" best so far: {self.best.size().text()}"
            )
        return failed

    def run(self) -> ShrinkResult:
        """Shrink until a round of every pass changes nothing, or the budget is spent."""
        if not self.fails(self.original):
            raise ValueError(
                f"the schedule does not fail the same way ({self.failure.text()}) when replayed"
                " in the simulator: nothing to shrink"
            )
        passes = (
            self.shorten_time,
            self.remove_faults,
            self.remove_processes,
            self.remove_keys,
            self.remove_operations,
            self.start_earlier,
            self.remove_process_operations,
            self.keep_close_pair,
            self.remove_operation_pairs,
            self.remove_random_operations,
            self.merge_keys,
            self.shorten_windows,
            self.start_windows_later,
            self.remove_nodes,
        )
        changed = True
        while changed and not self.out_of_time():
            changed = False
            for shrink_pass in passes:
                if self.out_of_time():
                    break
                changed = shrink_pass() or changed
        return ShrinkResult(
            self.original,
            self.best,
            self.failure,
            self.candidates,
            self.accepted,
            self.elapsed(),
            self.budget_spent,
            self.candidates_spent,
        )

    def _remove_chunks(
        self,
        units: list[U],
        build: Callable[[list[U]], RunSchedule],
        from_end: bool = False,
    ) -> bool:
        """Greedy delta debugging: try removing all units, then halves, quarters, ... single
        units, keeping every removal that still fails. ``from_end``: try the last chunks first
        (removing what comes after the failure leaves everything before it as it was, where
        removing an early operation changes the simulated network's later random draws)."""
        changed = False
        size = len(units)
        while size >= 1 and units:
            if from_end:
                stop = len(units)
                while stop > 0:
                    if self.out_of_time():
                        return changed
                    start = max(0, stop - size)
                    kept = units[:start] + units[stop:]
                    if self.fails(build(kept)):
                        units, changed = kept, True
                    stop = start
            else:
                start = 0
                while start < len(units):
                    if self.out_of_time():
                        return changed
                    kept = units[:start] + units[start + size :]
                    if self.fails(build(kept)):
                        units, changed = kept, True
                    else:
                        start += size
            size = size // 2 if size > 1 else 0
            size = min(size, len(units))
        return changed

    # --- the passes, each True when it found something smaller

    def shorten_time(self) -> bool:
        """The workload ends as early as possible: just after the last thing that happens, or
        at a sixteenth, an eighth, a quarter, a half, three quarters of the time limit."""
        changed = True
        any_change = False
        while changed and not self.out_of_time():
            changed = False
            best = self.best
            limit = best.time_limit_s
            times = [op.at_s for op in best.operations] + [s.at_s for s in best.faults]
            fractions = [limit * f for f in (1 / 16, 1 / 8, 1 / 4, 1 / 2, 3 / 4)]
            after_last = [max(times) + 0.001] if times else []
            for cut_s in sorted({*fractions, *after_last}):
                candidate = cut_at(best, cut_s)
                shorter = MIN_TIME_LIMIT_S <= candidate.time_limit_s < limit - 1e-9
                if shorter and self.fails(candidate):
                    changed = any_change = True
                    break
        return any_change

    def remove_faults(self) -> bool:
        """Remove fault windows (a start with its stop), and stops that close nothing."""
        base = self.best
        units = [
            [window.start, *([window.stop] if window.stop else [])]
            for window in fault_windows(base.faults)
        ]
        paired = {id(step) for unit in units for step in unit}
        units += [[step] for step in base.faults if id(step) not in paired]

        def build(kept: list[list[FaultStep]]) -> RunSchedule:
            return with_faults(base, [step for unit in kept for step in unit])

        return self._remove_chunks(units, build)

    def remove_processes(self) -> bool:
        base = self.best
        streams = list(base.processes)

        def build(kept: list[ProcessStream]) -> RunSchedule:
            return with_ops(base, [(s.worker, op) for s in kept for op in s.ops])

        return self._remove_chunks(streams, build)

    def remove_keys(self) -> bool:
        base = self.best
        keys = list(dict.fromkeys(op.key for _, op in all_ops(base)))

        def build(kept: list[str]) -> RunSchedule:
            chosen = set(kept)
            return with_ops(base, [(w, op) for w, op in all_ops(base) if op.key in chosen])

        return self._remove_chunks(keys, build)

    def remove_operations(self) -> bool:
        base = self.best
        return self._remove_chunks(all_ops(base), lambda kept: with_ops(base, kept), from_end=True)

    def remove_process_operations(self) -> bool:
        """Each process's own operations, the last first, as ``remove_operations`` does for
        all of them (a chunk of one stream is not a chunk of the interleaved whole)."""
        changed = False
        for worker in [stream.worker for stream in self.best.processes]:
            if self.out_of_time():
                break
            base = self.best
            mine = [(w, op) for w, op in all_ops(base) if w == worker]
            others = [(w, op) for w, op in all_ops(base) if w != worker]
            if len(mine) < 2:
                continue

            def build(
                kept: list[tuple[int, ClientStep]],
                base: RunSchedule = base,
                others: list[tuple[int, ClientStep]] = others,
            ) -> RunSchedule:
                return with_ops(base, others + kept)

            changed = self._remove_chunks(mine, build, from_end=True) or changed
        return changed

    def merge_keys(self) -> bool:
        """Move every operation of a key onto the first key, one key at a time."""
        changed = False
        while not self.out_of_time():
            keys = list(dict.fromkeys(op.key for _, op in all_ops(self.best)))
            if len(keys) < 2:
                break
            merged = next(
                (
                    candidate
                    for gone in keys[1:]
                    if not self.out_of_time()
                    and self.fails(candidate := with_key_merged(self.best, gone, keys[0]))
                ),
                None,
            )
            if merged is None:
                break
            changed = True
        return changed

    def start_earlier(self) -> bool:
        """Start the first operation or fault sooner: all of it, the half, then a quarter of
        the way from its time to the workload's start, everything else moving with it."""
        best = self.best
        times = [op.at_s for op in best.operations] + [s.at_s for s in best.faults]
        first = min(times, default=0.0)
        for fraction in (1.0, 0.5, 0.25):
            by_s = round(first * fraction, 3)
            if by_s < MIN_WINDOW_S or self.out_of_time():
                continue
            if self.fails(shifted(best, by_s)):
                return True
        return False

    def remove_operation_pairs(self) -> bool:
        base = self.best
        ops = all_ops(base)
        if len(ops) > PAIRS_UP_TO:
            return False
        for second in range(len(ops) - 1, 0, -1):
            for first in range(second - 1, -1, -1):
                if self.out_of_time():
                    return False
                kept = [op for i, op in enumerate(ops) if i not in (first, second)]
                if self.fails(with_ops(base, kept)):
                    return True  # the next round starts again from the smaller schedule
        return False

    def keep_close_pair(self) -> bool:
        """Keep only two operations on one key (of two processes), trying the pairs closest in
        time first, each under the schedule's seed and the next few."""
        base = self.best
        ops = all_ops(base)
        if len(ops) <= 2:
            return False
        pairs = sorted(
            (
                (later[1].at_s - earlier[1].at_s, i, j)
                for j, later in enumerate(ops)
                for i, earlier in enumerate(ops[:j])
                if earlier[1].key == later[1].key and earlier[0] != later[0]
            ),
        )[:CLOSE_PAIRS]
        seed = int(base.options.get("seed", 0))
        for _, i, j in pairs:
            pair = with_ops(base, [ops[i], ops[j]])
            for other in range(PAIR_SEEDS):
                if self.out_of_time():
                    return False
                if self.fails(pair.with_options(seed=seed + other)):
                    return True
        return False

    def remove_random_operations(self) -> bool:
        """Remove a random half, quarter or eighth of the operations (seeded by the schedule's
        size, so the same schedule gets the same tries)."""
        base = self.best
        ops = all_ops(base)
        rng = random.Random(len(ops))
        for fraction in (2, 4, 8):
            drop = len(ops) // fraction
            if drop < 1:
                continue
            for _ in range(RANDOM_TRIES):
                if self.out_of_time():
                    return False
                gone = set(rng.sample(range(len(ops)), drop))
                kept = [op for i, op in enumerate(ops) if i not in gone]
                if self.fails(with_ops(base, kept)):
                    return True
        return False

    def shorten_windows(self) -> bool:
        """Halve each fault window (end it sooner) while it still fails."""
        any_change = False
        index = 0
        while not self.out_of_time():
            windows = fault_windows(self.best.faults)
            if index >= len(windows):
                break
            window = windows[index]
            end = window.stop.at_s if window.stop else self.best.time_limit_s
            length = end - window.start.at_s
            if length / 2 < MIN_WINDOW_S:
                index += 1
                continue
            new_end = round(window.start.at_s + length / 2, 3)
            stop = (
                replace(window.stop, at_s=new_end, wait_s=None)
                if window.stop
                else FaultStep(new_end, f"stop-{window.fault}")
            )
            others = [s for s in self.best.faults if s is not window.stop]
            if self.fails(with_faults(self.best, [*others, stop])):
                any_change = True
            else:
                index += 1
        return any_change

    def start_windows_later(self) -> bool:
        """Start each closed fault window halfway to its end, while it still fails."""
        any_change = False
        index = 0
        while not self.out_of_time():
            windows = [w for w in fault_windows(self.best.faults) if w.stop is not None]
            if index >= len(windows):
                break
            window = windows[index]
            assert window.stop is not None
            length = window.stop.at_s - window.start.at_s
            if length / 2 < MIN_WINDOW_S:
                index += 1
                continue
            start = replace(
                window.start, at_s=round(window.start.at_s + length / 2, 3), wait_s=None
            )
            others = [s for s in self.best.faults if s is not window.start]
            if self.fails(with_faults(self.best, [*others, start])):
                any_change = True
            else:
                index += 1
        return any_change

    def remove_nodes(self) -> bool:
        any_change = False
        while not self.out_of_time():
            smaller = without_last_node(self.best)
            if smaller is None or not self.fails(smaller):
                break
            any_change = True
        return any_change


def shrink(
    schedule: RunSchedule,
    failure: Failure,
    budget_s: float = 300.0,
    progress: Progress = lambda line: None,
    work_dir: Path | None = None,
    max_candidates: int = MAX_CANDIDATES,
) -> ShrinkResult:
    """The smallest schedule found within ``max_candidates`` runs and ``budget_s`` seconds
    that fails like ``failure``."""
    return Shrinker(schedule, failure, budget_s, progress, work_dir, max_candidates).run()
