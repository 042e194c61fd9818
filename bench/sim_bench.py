"""How fast the simulator environment runs the default test: virtual seconds per wall second for
one seed, and seeds per minute for a sweep.

    .venv/bin/python -m bench.sim_bench [--seeds 5] [--sweep 100] [--jobs 2]

The default test is ``zynamo test --env sim`` with its defaults (5 nodes, N=3 R=2 W=2, dvv, the
set workload under partitions and kills, 60 s of workload). For single seeds it prints the wall
time of the workload phase and of the whole run without the HTML report, and their ratio to the
virtual time the simulator's clock covered in them (the workload's 60 s; then the heal, the
recovery and the final reads too); then the same for the CPU time this process spent, which a
busy machine (where other processes take turns on the cores) does not inflate as it does wall
time; for the sweep, what ``--test-count N --jobs J`` takes and the seeds per minute (a sweep
renders reports only for failing seeds, as here). Prints figures; never passes or fails. Runs in
a temporary results directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from zynamo.options import TestOptions
from zynamo.runner import run_test
from zynamo.sweep import sweep


def single_seeds(count: int, results: Path) -> None:
    workload_s, whole_s, workload_cpu_s, whole_cpu_s = [], [], [], []
    workload_virtual_s, whole_virtual_s = [], []
    for seed in range(count):
        options = TestOptions(env="sim", seed=1000 + seed, results_dir=results)
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run_test(options, progress=lambda line: None, report=False)
        whole_s.append(time.perf_counter() - started)
        whole_cpu_s.append(time.process_time() - started_cpu)
        workload_s.append(result.phases_s["workload"])
        workload_cpu_s.append(result.phases_cpu_s["workload"])
        # Virtual time as the simulator's clock moved: the workload, then the heal, the
        # recovery and the final reads (the whole run simulates a little more than 60 s).
        workload_virtual_s.append(result.phases_clock_s["workload"])
        whole_virtual_s.append(sum(result.phases_clock_s.values()))
        print(
            f"seed {options.seed}: {result.counts.completed} ops, workload phase"
            f" {workload_s[-1]:.2f} s wall for {workload_virtual_s[-1]:.0f} s virtual"
            f" ({workload_virtual_s[-1] / workload_s[-1]:.0f}x), whole run {whole_s[-1]:.2f} s"
            f" for {whole_virtual_s[-1]:.0f} s virtual ({whole_virtual_s[-1] / whole_s[-1]:.0f}x);"
            f" CPU {workload_cpu_s[-1]:.2f} s and {whole_cpu_s[-1]:.2f} s; verdict {result.valid}"
        )
    print(
        f"median: {_median_ratio(workload_virtual_s, workload_s):.0f}x real time in the"
        f" workload phase, {_median_ratio(whole_virtual_s, whole_s):.0f}x for the whole run"
        " without the report (target >= 100x for one seed)"
    )
    print(
        f"median CPU: {_median_ratio(workload_virtual_s, workload_cpu_s):.0f}x real time in the"
        f" workload phase, {_median_ratio(whole_virtual_s, whole_cpu_s):.0f}x for the whole run"
        " (virtual seconds per CPU second: what the wall figures approach on an idle core)"
    )


def _median_ratio(virtual_s: list[float], spent_s: list[float]) -> float:
    return statistics.median(v / s for v, s in zip(virtual_s, spent_s, strict=True))


def seed_sweep(count: int, jobs: int, results: Path) -> None:
    options = TestOptions(env="sim", seed=5000, results_dir=results)
    started = time.perf_counter()
    code, _, runs = sweep(options, list(range(5000, 5000 + count)), jobs=jobs, progress=_quiet)
    elapsed = time.perf_counter() - started
    per_minute = count / elapsed * 60
    print(
        f"sweep: {count} seeds with --jobs {jobs} in {elapsed:.1f} s: {per_minute:.0f} seeds/min;"
        f" 1000 seeds would take {1000 / per_minute:.1f} min (target <= 10 min); exit {code},"
        f" {sum(1 for r in runs if r.exit_code)} not valid"
    )


def _quiet(line: str) -> None:
    if line.startswith("[") and line.split("]")[0].endswith("0"):
        print(line, file=sys.stderr)  # every tenth seed, to show it moves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="single-seed runs to time (0: none)")
    parser.add_argument("--sweep", type=int, default=100, help="seeds in the sweep (0: none)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.seeds:
            single_seeds(args.seeds, Path(tmp) / "single")
        if args.sweep:
            seed_sweep(args.sweep, args.jobs, Path(tmp) / "sweep")


if __name__ == "__main__":
    main()
