"""Run one benchmark on two checkouts of the project, alternating, in one sitting: the honest
way to say "this commit is not slower than that one" on a shared machine whose speed varies by
2x from one hour to the next.

    .venv/bin/python -m bench.compare_trees --old /tmp/old --new . \\
        --bench bench/node_core_bench.py --args "--ops 20000" --rounds 4 \\
        --figure "cpu per operation.*?: (\\d+) us"

Each checkout runs its *own* copy of the benchmark with its *own* virtual environment
(``DIR/.venv/bin/python``; make the old one with ``git worktree add DIR COMMIT`` and
``python3 -m venv DIR/.venv && DIR/.venv/bin/pip install -e DIR``). Rounds alternate old, new,
new, old, ... so a drift in the machine's speed hits both sides alike. ``--figure`` is a regular
expression whose first group is the number to compare in each run's output (the last match
counts); the medians and their ratio are printed. Runs processes; prints figures only.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path


def run_once(tree: Path, bench: str, args: list[str], figure: re.Pattern[str]) -> float:
    python = tree / ".venv" / "bin" / "python"
    proc = subprocess.run(
        [str(python), bench, *args], cwd=tree, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"{tree}: {bench} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    found = figure.findall(proc.stdout + proc.stderr)
    if not found:
        sys.exit(f"{tree}: no figure matching {figure.pattern!r} in:\n{proc.stdout[-2000:]}")
    return float(str(found[-1]).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--new", type=Path, default=Path("."), help="the checkout to compare")
    parser.add_argument("--bench", required=True, help="the benchmark script, from the root")
    parser.add_argument("--args", default="", help="arguments for the benchmark")
    parser.add_argument("--figure", required=True, help="regex; group 1 is the figure")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each side")
    args = parser.parse_args()
    figure = re.compile(args.figure)
    bench_args = shlex.split(args.args)
    sides = {"old": args.old.resolve(), "new": args.new.resolve()}
    figures: dict[str, list[float]] = {"old": [], "new": []}
    for round_number in range(args.rounds):
        order = ("old", "new") if round_number % 2 == 0 else ("new", "old")
        for side in order:
            value = run_once(sides[side], args.bench, bench_args, figure)
            figures[side].append(value)
            print(f"round {round_number + 1} {side}: {value:g}", flush=True)
    old, new = statistics.median(figures["old"]), statistics.median(figures["new"])
    print(
        f"old {sides['old']}: median {old:g} (runs {', '.join(f'{v:g}' for v in figures['old'])})"
    )
    print(
        f"new {sides['new']}: median {new:g} (runs {', '.join(f'{v:g}' for v in figures['new'])})"
    )
    print(f"new / old: {new / old:.2f}")


if __name__ == "__main__":
    main()
