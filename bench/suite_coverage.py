"""Which protocol paths each row of a ``zynamo test-all`` suite reaches: runs every row over a
few seeds in the simulator and prints, per row, the mean of each coverage path
(``results.json`` → ``checkers.coverage.paths``), the share of concurrent writes, the verdicts
and the wall time. How the default suite's rows were chosen (zynamo/suite.py).

    python bench/suite_coverage.py [--suite default] [--seeds 3] [--first-seed 1]
        [--time-limit 60] [--rows a,b]

Does file I/O (runs under a temporary results directory) and takes seconds per run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from statistics import mean

from checker.dynamo.coverage import PATHS
from zynamo.options import TestOptions
from zynamo.runner import run_test
from zynamo.suite import suite_options, suite_rows

SHORT = {
    "versions_created": "vers",
    "fallback_writes": "fb",
    "hints_delivered": "hint→",
    "read_repairs": "rr",
    "aae_keys_synced": "aae",
    "transfers_delivered": "xfer",
    "reaps": "reap",
    "siblings_created": "sib+",
    "siblings_merged": "sib-",
    "peer_down": "down",
    "peer_up": "up",
    "restarts": "rst",
    "forwarded_requests": "fwd",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default="default")
    parser.add_argument("--rows", default="")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=TestOptions.time_limit_s)
    args = parser.parse_args()
    picked = tuple(r for r in args.rows.split(",") if r)
    rows = suite_rows(args.suite, picked)
    paths = [p for p in PATHS if p in SHORT]
    print(f"{'row':<22} " + " ".join(f"{SHORT[p]:>5}" for p in paths) + "  conc  wall  verdicts")
    with tempfile.TemporaryDirectory() as results:
        base = TestOptions(env="sim", results_dir=Path(results), time_limit_s=args.time_limit)
        for row, options in zip(rows, suite_options(base, rows), strict=True):
            figures: dict[str, list[float]] = {p: [] for p in paths}
            shares: list[float] = []
            verdicts: list[str] = []
            started = time.monotonic()
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                seeded = options.__class__(**{**options.__dict__, "seed": seed})
                result = run_test(seeded, progress=lambda _: None, report=False)
                coverage = result.results["checkers"].get("coverage", {})
                for p in paths:
                    figures[p].append(coverage.get("paths", {}).get(p, 0))
                shares.append(coverage.get("contention", {}).get("concurrent_fraction", 0.0))
                failing = [
                    n
                    for n, c in result.results["checkers"].items()
                    if isinstance(c, dict) and c.get("valid") is not True
                ]
                verdicts.append(",".join(failing) or "ok")
            wall = (time.monotonic() - started) / args.seeds
            print(
                f"{row.name:<22} "
                + " ".join(f"{mean(figures[p]):>5.0f}" for p in paths)
                + f"  {mean(shares):>4.0%}  {wall:>4.1f}  {' '.join(verdicts)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
