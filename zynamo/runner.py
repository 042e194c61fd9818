"""Runs one Jepsen-style test: cluster, proxies, workload under the nemesis, heal, check, report.

The steps of ``run_test``, each of which leaves something in the run directory:

1. write ``test.json`` (every option, the seed, the git commit) and point ``results/latest`` here;
2. enter the environment and start the cluster: by default the real one (``zynamo.env.real``:
   Toxiproxy, embedded or at ``--toxiproxy URL``, one proxy per ordered pair of nodes, and the
   node processes, each dialling its peers through its proxies); the runner acts on the cluster
   only through the environment interface (``zynamo.env.base.Environment``);
3. run the workload and, beside it, the nemesis schedule, both on the environment's event loop
   and clock (real time, or the simulator's virtual time); every operation goes to
   ``history.jsonl`` as it happens;
4. heal everything (always, also after an error or Ctrl-C), wait for recovery, read every key
   once more, and dump every replica's state of every key in rounds until they agree;
5. stop the cluster, check the history (``results.json``), render the report (``index.html``).

Every run also writes ``schedule.json``: what it chose to do, as data (``zynamo.schedule``).
Given a ``script`` (such a schedule), the run performs exactly that schedule's operations and
faults at their times instead of drawing them from its seed (``zynamo.replay``).

Progress goes to stderr while it runs. Does file I/O, and process and network I/O through the
environment.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checker.base import Checker, Record
from cluster.core import ClusterConfig, Ring
from cluster.net import ClientError
from nemesis.base import FaultOp, Nemesis, NoopNemesis
from nemesis.effects import fault_effects, kill_lines, progress_line
from nemesis.schedule import ScriptedSchedule, TimedFaultOp
from nemesis.timekeeping import Clock
from workloads.base import Invocation, KeyPool, Quorum, Workload
from workloads.catalog import make_workload
from workloads.generator import (
    SAME_INSTANT_S,
    LoadSettings,
    ScriptedOp,
    ScriptedWorker,
    WorkloadCounts,
    final_reads,
    run_workload,
)
from workloads.recorder import HistoryRecorder
from zynamo.env.base import Environment
from zynamo.options import TestOptions
from zynamo.schedule import RunSchedule, save
from zynamo.schedule_record import ScheduleRecorder

Progress = Callable[[str], None]
# admin(node, op, **args) -> the reply's data; raises ClientError when the node does not answer.
Admin = Callable[..., Any]
# What makes the environment of a run, from its options, cluster config and run directory.
MakeEnvironment = Callable[[TestOptions, ClusterConfig, Path], Environment]
ADMIN_TIMEOUT_MS = 2000  # the final phase's admin calls: status, ring, replica dumps
# The replica dumps taken after the final reads (read repair alone) carry this ``phase``.
AFTER_FINAL_READS = "after-final-reads"
AFTER_READS_WAIT_S = 10.0  # the longest wait for the final reads' repairs to land


def read_repair_alone(options: TestOptions) -> bool:
    """Read repair on and anti-entropy off: only reads converge replicas (docs/repair.md)."""
    return "read-repair" in options.repairs and "anti-entropy" not in options.repairs


def _keys_read_finally(records: list[dict[str, Any]]) -> list[str]:
    """The keys a final read read (an ``ok`` final read), in the order they were read."""
    keys: dict[str, None] = {}
    for record in records:
        if record.get("final") and record.get("type") == "ok" and record.get("f") == "read":
            keys[str(record.get("key"))] = None
    return list(keys)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class RunResult:
    directory: Path
    results: dict[str, Any]
    counts: WorkloadCounts = field(default_factory=WorkloadCounts)
    phases_s: dict[str, float] = field(default_factory=dict)  # wall time of each run phase
    # CPU time of this process in each phase: on a busy machine, what the run itself cost.
    phases_cpu_s: dict[str, float] = field(default_factory=dict)
    # The run's own clock in each phase, while the cluster ran: real time, or the simulator's
    # virtual time (what the simulated run covered, for its speed figures).
    phases_clock_s: dict[str, float] = field(default_factory=dict)

    @property
    def overhead_s(self) -> float:
        """Time the harness spent outside the workload (start, heal, reads, check, report)."""
        return sum(t for name, t in self.phases_s.items() if name != "workload")

    @property
    def valid(self) -> Any:
        return self.results.get("valid", "unknown")


def git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def new_run_dir(options: TestOptions) -> Path:
    """``results/<test>/<timestamp>/``, and ``results/latest`` pointing at it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    directory = options.results_dir / options.test_name / stamp
    directory.mkdir(parents=True)
    latest = options.results_dir / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(directory.relative_to(options.results_dir), target_is_directory=True)
    return directory


def cluster_config(options: TestOptions) -> ClusterConfig:
    return ClusterConfig(
        nodes=tuple(f"n{i}" for i in range(1, options.nodes + 1)),
        n=options.n,
        r=options.r,
        w=options.w,
        pr=options.pr,
        pw=options.pw,
        versioning=options.versioning,
        request_timeout_ms=options.timeout_ms,
        anti_entropy_interval_ms=(
            options.anti_entropy_interval_ms if "anti-entropy" in options.repairs else 0
        ),
        read_repair="read-repair" in options.repairs,
        hinted_handoff="hints" in options.repairs,
        tombstone_grace_ms=options.tombstone_grace_ms,
    )


# --------------------------------------------------------------------------- nemesis thread


class Phases:
    """Wall-clock and CPU time of each phase of a run, and the time its environment's clock
    moved (``clock``, once the environment is up), for the harness's own overhead figures and
    the benchmarks."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.clock_seconds: dict[str, float] = {}
        self.clock: Callable[[], float] | None = None
        self._name = ""
        self._started = 0.0
        self._started_cpu = 0.0
        self._started_clock: float | None = None  # None: the phase began before the clock

    def start(self, name: str) -> None:
        self.stop()
        self._name, self._started = name, time.monotonic()
        self._started_cpu = time.process_time()
        self._started_clock = None if self.clock is None else self.clock()

    def stop(self) -> None:
        if self._name:
            elapsed = time.monotonic() - self._started
            cpu = time.process_time() - self._started_cpu
            self.seconds[self._name] = self.seconds.get(self._name, 0.0) + elapsed
            self.cpu_seconds[self._name] = self.cpu_seconds.get(self._name, 0.0) + cpu
            if self.clock is not None and self._started_clock is not None:
                moved = self.clock() - self._started_clock
                self.clock_seconds[self._name] = self.clock_seconds.get(self._name, 0.0) + moved
            self._name = ""


class NemesisRunner:
    """Runs the fault schedule beside the workload and records each fault in the history.

    ``run`` is a task on the environment's event loop: every ``interval_s`` it takes the
    schedule's next op and applies it through ``env.run_blocking`` (a fault operation may block:
    a kill waits for the process to die, a strobe lasts its duration), so the workload goes on
    meanwhile — in real time, or deterministically in the simulator's virtual time."""

    def __init__(
        self,
        nemesis: Nemesis,
        schedule: Any,
        recorder: HistoryRecorder,
        interval_s: float,
        progress: Progress,
        env: Environment,
    ) -> None:
        self.nemesis = nemesis
        self.schedule = schedule
        self.recorder = recorder
        self.interval_s = interval_s
        self.progress = progress
        self.env = env
        # Faults started and not yet stopped; replaced, never mutated, as the progress ticker
        # may read it while a fault operation is being applied.
        self.active: frozenset[str] = frozenset()
        self.stopped = asyncio.Event()
        self.origin = 0.0  # the loop time the workload started at: op times count from it
        self.listener: ScheduleRecorder | None = None  # hears each op applied, for the schedule
        self._last: tuple[Any, str | None] = (None, None)  # the last op's completion, error

    def apply(self, op: FaultOp, asked: dict[str, Any] | None = None) -> None:
        """Apply ``op`` and record it; ``asked``: the invocation's value to record, when it is
        not ``op.value`` (a replay applies resolved targets but shows what the run asked)."""
        shown = op.value if asked is None else asked
        self.recorder.record({"process": "nemesis", "type": "invoke", "f": op.f, "value": shown})
        try:
            value: Any = self.nemesis.invoke(op)
            error = None
        except Exception as err:  # a fault that failed to apply is recorded, not fatal
            value, error = op.value, f"{type(err).__name__}: {err}"
        completion = {"process": "nemesis", "type": "info", "f": op.f, "value": value}
        if error:
            completion["error"] = error
            self.progress(f"nemesis {op.f} failed: {error}")
        elif line := progress_line(op.f, value, self.recorder.ops):
            self.progress(line)  # what the fault did, or a warning that it did nothing
        self.recorder.record(completion)
        self._last = (value, error)
        if op.starts:
            self.active = self.active | {op.fault}
        else:
            self.active = self.active - {op.fault}

    async def run(self) -> None:
        """Apply the schedule's ops until ``stopped`` is set (an op in progress completes)."""
        if isinstance(self.schedule, ScriptedSchedule):
            await self._run_scripted(self.schedule)
            return
        while not self.stopped.is_set():
            try:
                await asyncio.wait_for(self.stopped.wait(), self.interval_s)
                return
            except TimeoutError:
                pass
            op = self.schedule.next_op() if self.schedule is not None else None
            if op is None:  # the `none` nemesis
                continue
            await self._apply_now(op, self.interval_s)

    async def _run_scripted(self, schedule: ScriptedSchedule) -> None:
        """Apply each scripted op at its time (after the recorded pause when that lands there,
        as the recorded run did), until ``stopped`` is set."""
        loop = asyncio.get_running_loop()
        while (timed := schedule.peek()) is not None:
            target = self.origin + timed.at_s
            wait = timed.wait_s
            if wait is None or abs(loop.time() + wait - target) > SAME_INSTANT_S:
                wait = max(0.0, target - loop.time())
            try:
                await asyncio.wait_for(self.stopped.wait(), wait)
                return
            except TimeoutError:
                pass
            schedule.next_timed()
            await self._apply_now(timed.op, wait, timed.asked)

    async def _apply_now(
        self, op: FaultOp, wait_s: float, asked: dict[str, Any] | None = None
    ) -> None:
        at_s = asyncio.get_running_loop().time() - self.origin
        self.progress(f"nemesis: {op.f} {json.dumps(op.value, separators=(',', ':'))}")
        await self.env.run_blocking(lambda: self.apply(op, asked))
        if self.listener is not None:
            value, error = self._last
            self.listener.fault(at_s, wait_s, op, value, error, asked)

    def stop_and_heal(self) -> None:
        """Close the open faults, then heal everything (recorded). Called once ``run`` is over
        (or never started), outside the event loop."""
        # Close each open fault with its own stop, so every fault window in the history ends.
        for op in self.schedule.final_ops() if self.schedule is not None else ():
            self.apply(op)
        # Then heal everything, whatever state the faults were left in (idempotent).
        self.recorder.record({"process": "nemesis", "type": "invoke", "f": "stop-all"})
        try:
            self.nemesis.heal()
            completion: dict[str, Any] = {"value": {"healed": True}}
        except Exception as err:
            completion = {"value": {"healed": False}, "error": f"{type(err).__name__}: {err}"}
        self.recorder.record({"process": "nemesis", "type": "info", "f": "stop-all", **completion})
        self.active = frozenset()


# --------------------------------------------------------------------------- final phase


def replica_dumps(
    admin: Admin,
    recorder: HistoryRecorder,
    ring: Callable[[], Ring],
    keys: list[str],
    n: int,
    deadline_s: float,
    progress: Progress,
    clock: Clock,
    first_round: int = 1,
    phase: str | None = None,
) -> int:
    """Dump every primary's state of every key, in rounds, until all agree or the deadline;
    ``ring`` gives the ring each round's primaries come from.

    Each (round, key, node) becomes one ``replica-state`` line (docs/history.md), numbered from
    ``first_round`` and marked with ``phase`` when given. Returns the last round's number."""
    round_number = first_round - 1
    converged = False
    marks: dict[str, Any] = {} if phase is None else {"phase": phase}
    while True:
        round_number += 1
        disagreeing = 0
        primaries = ring().primaries
        for key in keys:
            states = set()
            for node in primaries(key, n):
                try:
                    data = admin(node, "replica", key=key, timeout_ms=ADMIN_TIMEOUT_MS)
                    values = sorted(data["values"], key=lambda v: json.dumps(v, sort_keys=True))
                    value: Any = None if data["empty"] else values
                    tombstone = bool(data["tombstone"])
                    line: dict[str, Any] = {"type": "ok", "value": value, "tombstone": tombstone}
                    if "clocks" in data:  # the siblings' clocks, for the lost-versions check
                        line["clocks"] = sorted(
                            data["clocks"], key=lambda c: json.dumps(c, sort_keys=True)
                        )
                except ClientError as err:
                    line = {"type": "fail", "value": None, "error": err.message}
                    value, tombstone = ("unreachable", node), False
                recorder.record(
                    {
                        "process": "final",
                        "f": "replica-state",
                        "round": round_number,
                        "key": key,
                        "node": node,
                        **marks,
                        **line,
                    }
                )
                states.add(json.dumps([value, tombstone], sort_keys=True))
            if len(states) > 1:
                disagreeing += 1
        converged = disagreeing == 0
        if converged or clock.now() >= deadline_s:
            progress(
                f"replicas: round {round_number}: "
                + ("all keys agree" if converged else f"{disagreeing} keys still disagree")
            )
            return round_number
        clock.sleep(1.0)


# --------------------------------------------------------------------------- the run


def node_states(
    env: Environment, recorder: HistoryRecorder, deadline_s: float, progress: Progress
) -> None:
    """Before the replica dumps: wait (until the recovery deadline) for every node to have
    handed its hints off, then record one ``node-state`` line per node (docs/history.md) with
    what it still holds, for the leftovers check."""
    clock = env.clock

    def states() -> dict[str, dict[str, Any] | str]:
        found: dict[str, dict[str, Any] | str] = {}
        for node in env.nodes:
            try:
                status = env.admin(node, "status", timeout_ms=ADMIN_TIMEOUT_MS)
                found[node] = {
                    "hints": sum(int(n) for n in status.get("hints", {}).values()),
                    "hints_by_owner": status.get("hints", {}),
                    "keys": status.get("keys"),
                    "handoffs_in_flight": status.get("handoffs_in_flight"),
                }
            except ClientError as err:
                found[node] = err.message
        return found

    found = states()
    while any(isinstance(s, dict) and s["hints"] for s in found.values()):
        if clock.now() >= deadline_s:
            held = sum(s["hints"] for s in found.values() if isinstance(s, dict))
            progress(f"warning: {held} hints still held after recovery")
            break
        clock.sleep(0.5)
        found = states()
    for node, state in found.items():
        line: dict[str, Any] = (
            {"type": "ok", "value": state}
            if isinstance(state, dict)
            else {"type": "fail", "value": None, "error": state}
        )
        recorder.record({"process": "final", "f": "node-state", "node": node, **line})


def default_environment(
    options: TestOptions, config: ClusterConfig, directory: Path
) -> Environment:
    """The environment ``--env`` names: local processes behind Toxiproxy (``real``) or the
    deterministic simulator (``sim``)."""
    if options.env == "sim":
        from zynamo.env.sim import SimEnvironment

        return SimEnvironment(
            config, seed=options.seed, sync=options.sync, commit_ms=options.commit_ms
        )
    from zynamo.env.real import RealEnvironment

    return RealEnvironment(
        directory,
        config,
        toxiproxy_url=options.toxiproxy,
        seed=options.seed,
        sync=options.sync,
        net=options.net,
    )


def check_run(
    options: TestOptions, checkers: Sequence[Checker], history: list[Record], directory: Path
) -> dict[str, Any]:
    """The verdicts of a run's history (its workload's ``checkers`` and the CI ones), with
    what the nodes journalled in ``directory`` and what each fault did: the same whether the
    run just ended or ``zynamo analyze`` checks it again."""
    from checker.api import check_records  # the checker is only needed at the end
    from checker.dynamo.journals import read_journals
    from zynamo.ci_checkers import extra_checkers

    results = check_records(
        history,
        [*checkers, *extra_checkers(options, directory)],
        n=options.n,
        journals=read_journals(directory),
        versioning=options.versioning,
        repairs=options.repairs,
        # The simulator's nodes share one exact clock; real nodes' are aligned to a round trip.
        journal_clock_slack_ns=0 if options.env == "sim" else None,
        tombstone_grace_ms=options.tombstone_grace_ms,
    )
    results["faults"] = fault_effects(history)  # what each fault did; those that did nothing
    return results


def run_test(
    options: TestOptions,
    progress: Progress = _stderr,
    make_environment: MakeEnvironment = default_environment,
    directory: Path | None = None,
    report: bool = True,
    script: RunSchedule | None = None,
) -> RunResult:
    """Run one test end to end in the environment ``make_environment`` gives (default: the one
    ``--env`` names); raises only for harness failures (exit code 255).

    ``directory``: where the run's files go (default: a new ``results/<test>/<timestamp>/``,
    which ``results/latest`` then points at). ``report=False`` leaves out the HTML report and
    plots (a sweep renders them only for the runs it keeps). ``script``: perform this schedule
    instead of drawing operations and faults (``options`` should be the schedule's)."""
    from nemesis.combined import build_nemesis
    from nemesis.schedule import Schedule

    phases = Phases()
    phases.start("setup")
    if directory is None:
        directory = new_run_dir(options)
    else:
        directory.mkdir(parents=True, exist_ok=True)
    (directory / "test.json").write_text(
        json.dumps(
            {**options.to_json(), "git_commit": git_commit(), "test": options.test_name}, indent=2
        )
        + "\n"
    )
    progress(f"zynamo test {options.test_name} (seed {options.seed}) → {directory}")
    rng = random.Random(options.seed)
    config = cluster_config(options)
    workload = make_workload(options.workload)
    quorum = Quorum(options.n, options.r, options.w, options.timeout_ms)
    keys = KeyPool(
        active=options.active_keys,
        ops_per_key=options.ops_per_key,
        distribution=options.key_distribution,
    )
    counts = WorkloadCounts()

    with ExitStack() as stack:
        env = stack.enter_context(make_environment(options, config, directory))
        stack.callback(env.collect_logs, directory)
        stack.callback(env.stop)
        progress(f"starting {env.describe()}")
        env.start()
        stack.enter_context(_collector_spared())
        clock = env.clock
        phases.clock = clock.now
        recorder = stack.enter_context(
            HistoryRecorder(
                directory / "history.jsonl",
                clock_ns=lambda: int(clock.now() * 1e9),
                flush_each=options.env != "sim",
            )
        )
        nemesis: Nemesis = NoopNemesis()
        schedule: Schedule | ScriptedSchedule | None = None
        if options.faults:
            nemesis = build_nemesis(
                options.faults, env=env, rng=random.Random(rng.random()), options=options
            )
            schedule = Schedule(
                options.faults,
                options.nemesis_interval_s,
                random.Random(rng.random()),
                config.nodes,
                options,
            )
        if script is not None and schedule is not None:
            schedule = _scripted_faults(script)
        nemesis.setup()
        stack.callback(nemesis.teardown)
        runner = NemesisRunner(
            nemesis, schedule, recorder, options.nemesis_interval_s, progress, env
        )
        runner.listener = ScheduleRecorder(options.to_json())
        phases.start("workload")
        try:
            env.run(
                _drive(
                    options,
                    workload,
                    recorder,
                    config,
                    keys,
                    quorum,
                    rng,
                    counts,
                    runner,
                    env,
                    _scripted_workers(script),
                )
            )
        finally:
            phases.start("heal")
            runner.stop_and_heal()  # always: a run never leaves a fault behind
            if script is not None:  # the keys the schedule reads at the end, not the pool's
                keys.used[:] = script.keys
            save(runner.listener.schedule(keys.used), directory)
        progress("healed; waiting for the cluster to recover")
        phases.start("recovery")
        recovery_deadline = clock.now() + options.recovery_s
        _wait_for_nodes(env, recovery_deadline, progress)
        _wait_for_views(env.admin, config.nodes, recovery_deadline, progress, clock)
        # Hints first: a write a fallback still holds is on no primary yet, so a dump taken
        # before the handoff would judge it lost while it is on its way (lost-versions).
        node_states(env, recorder, recovery_deadline, progress)

        # Each round asks for the ring again: a node that rejoined at the heal may still be
        # moving keys to their new primaries while the dumps run.
        def ring() -> Ring:
            return _current_ring(env.admin, config)

        rounds = replica_dumps(
            env.admin, recorder, ring, keys.used, config.n, recovery_deadline, progress, clock
        )
        progress(f"final reads of {len(keys.used)} keys")
        phases.start("final-reads")
        env.run(_final_reads(workload, recorder, config, keys, quorum, rng, env))
        if read_repair_alone(options):
            # Read repair is the only thing that converges these replicas, and it runs on the
            # final reads: dump again, so the checkers can hold every key read to it.
            read = _keys_read_finally(recorder.ops)
            progress(f"read repair alone: dumping the {len(read)} keys read once more")
            replica_dumps(
                env.admin,
                recorder,
                ring,
                read,
                config.n,
                clock.now() + min(options.recovery_s, AFTER_READS_WAIT_S),
                progress,
                clock,
                first_round=rounds + 1,
                phase=AFTER_FINAL_READS,
            )
        history = list(recorder.ops)
        phases.start("teardown")
        phases.clock = None  # the environment stops now

    progress(f"checking {len(history)} history records")
    phases.start("check")
    results = check_run(options, workload.checkers, history, directory)
    for line in kill_lines(results["faults"]["kills"]):  # what each kill cost the clients
        progress(line)
    (directory / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    if report:
        phases.start("report")
        from zynamo.report import write_report  # (plotting libraries: only when needed)

        write_report(directory)
    phases.stop()
    result = RunResult(
        directory, results, counts, phases.seconds, phases.cpu_seconds, phases.clock_seconds
    )
    progress(
        f"harness time outside the workload: {result.overhead_s:.1f} s ("
        + ", ".join(f"{k} {v:.1f}" for k, v in phases.seconds.items() if k != "workload")
        + ")"
    )
    return result


# Allocations between young-generation collections while a run drives its cluster (700 by
# default): the simulator and the workload allocate a great deal of short-lived garbage.
RUN_GC_THRESHOLD = 20_000


@contextmanager
def _collector_spared() -> Iterator[None]:
    """While the cluster runs: what start-up built (the cluster, a simulated one's nodes and
    stores) is left out of the cyclic garbage collector's full walks (``gc.freeze``), and young
    collections come less often. That is about a twentieth of a simulated run's CPU saved, and
    nothing else changes; everything is put back afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _scripted_faults(script: RunSchedule) -> ScriptedSchedule:
    return ScriptedSchedule(
        [
            TimedFaultOp(s.at_s, FaultOp(s.f, dict(s.value)), s.wait_s, s.asked)
            for s in script.faults
        ]
    )


def _scripted_workers(script: RunSchedule | None) -> dict[int, ScriptedWorker] | None:
    if script is None:
        return None
    return {
        stream.worker: ScriptedWorker(
            tuple(
                ScriptedOp(op.at_s, Invocation(op.f, op.key, op.value), op.node, op.wait_s)
                for op in stream.ops
            ),
            stream.yields_at_end,
        )
        for stream in script.processes
    }


async def _drive(
    options: TestOptions,
    workload: Workload,
    recorder: HistoryRecorder,
    config: ClusterConfig,
    keys: KeyPool,
    quorum: Quorum,
    rng: random.Random,
    counts: WorkloadCounts,
    runner: NemesisRunner,
    env: Environment,
    script: dict[int, ScriptedWorker] | None = None,
) -> None:
    settings = LoadSettings(options.concurrency, options.rate, options.time_limit_s)
    loop = asyncio.get_running_loop()
    started = loop.time()
    runner.origin = started
    client = env.client(options.timeout_ms)
    await client.open()
    try:
        nemesis = asyncio.create_task(runner.run())
        ticker = asyncio.create_task(
            _progress_ticker(started, options, counts, runner, runner.progress)
        )
        try:
            await run_workload(
                client,
                workload,
                recorder,
                config.nodes,
                keys,
                quorum,
                settings,
                random.Random(rng.random()),
                counts,
                script=script,
                listener=runner.listener,
            )
        finally:
            ticker.cancel()
            runner.stopped.set()
            await nemesis  # the fault operation in progress completes
    finally:
        await client.close()


async def _progress_ticker(
    started: float,
    options: TestOptions,
    counts: WorkloadCounts,
    runner: NemesisRunner,
    progress: Progress,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(5.0)
        elapsed = loop.time() - started
        progress(
            f"[{elapsed:5.0f}s/{options.time_limit_s:.0f}s] {counts.completed} ops"
            f" (ok {counts.ok}, fail {counts.fail}, info {counts.info})"
            f" | faults: {', '.join(sorted(runner.active)) or 'none'}"
        )


def _current_ring(admin: Admin, config: ClusterConfig) -> Ring:
    """The newest ring any node holds now (membership faults change it; a ring adopted
    moments ago may not have reached every node yet)."""
    newest: tuple[int, Ring] | None = None
    for node in config.nodes:
        try:
            reply = admin(node, "ring", timeout_ms=ADMIN_TIMEOUT_MS)
            found = (int(reply.get("version", 0)), Ring.from_json(reply))
        except (ClientError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if newest is None or found[0] > newest[0]:
            newest = found
    return newest[1] if newest else Ring.build(config.nodes, config.partitions)


def _wait_for_nodes(env: Environment, deadline: float, progress: Progress) -> None:
    """After the heal every node process must be running and answering again."""
    try:
        env.wait_ready(timeout_s=max(1.0, deadline - env.clock.now()))
    except Exception as err:
        progress(f"warning: not every node is ready after the heal: {err}")


def _wait_for_views(
    admin: Admin, nodes: tuple[str, ...], deadline: float, progress: Progress, clock: Clock
) -> None:
    """Wait until every node's failure detector sees every other node up again, so the final
    reads and the replica dumps are not served by fallbacks standing in for healed nodes."""
    while True:
        lagging = []
        for node in nodes:
            try:
                up = set(admin(node, "status", timeout_ms=ADMIN_TIMEOUT_MS)["up"])
            except ClientError:
                up = set()
            if not set(nodes) <= up:
                lagging.append(node)
        if not lagging or clock.now() >= deadline:
            if lagging:
                progress(f"warning: {', '.join(lagging)} still see some peers down")
            return
        clock.sleep(0.25)


async def _final_reads(
    workload: Workload,
    recorder: HistoryRecorder,
    config: ClusterConfig,
    keys: KeyPool,
    quorum: Quorum,
    rng: random.Random,
    env: Environment,
) -> None:
    client = env.client(quorum.timeout_ms)
    await client.open()
    try:
        first_process = 1_000_000  # above every workload process number
        await final_reads(
            client,
            workload,
            recorder,
            keys.used,
            config.nodes,
            quorum,
            first_process,
            random.Random(rng.random()),
        )
    finally:
        await client.close()
