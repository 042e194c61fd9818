"""Digests of what the simulator writes for a few seeds of the default test, to show that a
change meant only to make it faster leaves every output byte-identical.

    .venv/bin/python -m bench.sim_outputs [--seeds 5] [--first 1000] [--versioning dvv] > old.txt
    (the same in the changed tree, > new.txt); diff old.txt new.txt   # empty: no change

Runs ``zynamo test --env sim`` (the defaults, no report) for each seed in a temporary directory
and prints one line per output file: seed, file name, SHA-256 of its bytes. ``test.json`` is left
out (it names the git commit), and ``schedule.json`` is hashed with its ``results_dir`` option
blanked (the temporary directory's name differs from run to run). Does file I/O in a temporary
directory; prints digests only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

from zynamo.options import TestOptions
from zynamo.runner import run_test

SKIPPED = {"test.json"}  # names the git commit, which a pure speed-up changes


def digests(seed: int, results: Path, versioning: str) -> list[str]:
    options = TestOptions(env="sim", seed=seed, results_dir=results, versioning=versioning)
    run = run_test(options, progress=lambda line: None, report=False)
    lines = []
    for path in sorted(run.directory.rglob("*")):
        if path.is_file() and path.name not in SKIPPED:
            digest = hashlib.sha256(_stable_bytes(path)).hexdigest()
            lines.append(f"{seed} {path.relative_to(run.directory)} {digest}")
    return lines


def _stable_bytes(path: Path) -> bytes:
    if path.name != "schedule.json":
        return path.read_bytes()
    schedule = json.loads(path.read_text())
    schedule["options"]["results_dir"] = ""  # a temporary directory, different every run
    return json.dumps(schedule, sort_keys=True).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds to run")
    parser.add_argument("--first", type=int, default=1000, help="the first seed")
    parser.add_argument("--versioning", default="dvv", choices=["dvv", "vclock", "lww"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first, args.first + args.seeds):
            for line in digests(seed, Path(tmp), args.versioning):
                print(line, flush=True)


if __name__ == "__main__":
    main()
