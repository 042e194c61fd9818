"""The harness's own overhead: how fast the recorder is, the highest rate at which the workload
and its recorder keep up with a 5-node cluster, and the time `zynamo test` spends outside the
workload (start, heal, recovery, final reads, checking, report) for a 60 s run.

    .venv/bin/python -m bench.harness_bench [--rates 50,100,200,400,800] [--step-seconds 5]
                                            [--run-seconds 60] [--skip-run]

Prints figures; never passes or fails. Starts and stops its own clusters (loopback only).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from cluster.core import ClusterConfig
from cluster.net import AsyncClient, LocalCluster
from workloads.base import KeyPool, Quorum
from workloads.generator import LoadSettings, WorkloadCounts, run_workload
from workloads.protocol_client import ProtocolClient
from workloads.recorder import HistoryRecorder
from workloads.set import SetWorkload
from zynamo.options import TestOptions
from zynamo.runner import run_test

NODES = tuple(f"n{i}" for i in range(1, 6))


def recorder_rate(records: int = 200_000) -> float:
    """Records per second the recorder writes on its own (one thread)."""
    with tempfile.TemporaryDirectory() as tmp, HistoryRecorder(Path(tmp) / "h.jsonl") as rec:
        op = {"process": 3, "type": "ok", "f": "add", "key": "k12", "value": 4, "node": "n2"}
        started = time.perf_counter()
        for _ in range(records):
            rec.record(op)
        return records / (time.perf_counter() - started)


async def _load(cluster: LocalCluster, rate: float, seconds: float, directory: Path) -> float:
    counts = WorkloadCounts()
    with HistoryRecorder(directory / f"rate-{rate:g}.jsonl", keep=False) as recorder:
        client = ProtocolClient(lambda: AsyncClient(cluster.endpoints, timeout_ms=1000))
        await client.open()
        try:
            started = time.monotonic()
            await run_workload(
                client,
                SetWorkload(),
                recorder,
                NODES,
                KeyPool(active=20, ops_per_key=100),
                Quorum(3, 2, 2, 1000),
                LoadSettings(concurrency=max(10, int(rate / 20)), rate=rate, time_limit_s=seconds),
                random.Random(1),
                counts,
            )
            elapsed = time.monotonic() - started
        finally:
            await client.close()
    return counts.completed / elapsed


def keep_up(rates: list[float], seconds: float) -> None:
    print(f"{'target ops/s':>13}  {'achieved ops/s':>14}  keeps up (>= 90%)")
    best = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with LocalCluster(directory / "cluster", ClusterConfig(nodes=NODES)) as cluster:
            cluster.start()
            for rate in rates:
                achieved = asyncio.run(_load(cluster, rate, seconds, directory))
                ok = achieved >= 0.9 * rate
                best = rate if ok else best
                print(f"{rate:>13g}  {achieved:>14.0f}  {'yes' if ok else 'no'}")
    print(f"highest target rate kept up with: {best:g} ops/s")


def overhead(run_seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        options = TestOptions(
            time_limit_s=run_seconds, seed=7, results_dir=Path(tmp), name="harness-bench"
        )
        result = run_test(options, progress=lambda line: None)
    print(f"zynamo test defaults, {run_seconds:g} s of workload: verdict {result.valid}")
    for phase, seconds in result.phases_s.items():
        print(f"  {phase:<12} {seconds:6.1f} s")
    print(f"  outside the workload: {result.overhead_s:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200,400,800")
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--run-seconds", type=float, default=60.0)
    parser.add_argument("--skip-run", action="store_true", help="skip the full zynamo test")
    args = parser.parse_args(argv)
    print(f"recorder alone: {recorder_rate():,.0f} records/s")
    keep_up([float(r) for r in args.rates.split(",")], args.step_seconds)
    if not args.skip_run:
        overhead(args.run_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
