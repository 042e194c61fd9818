"""Benchmark: check the whole Porcupine corpus (102 etcd logs, 6 kv logs) in one process.

Reads the corpus files (I/O) and prints: the wall time of the whole process (Python start-up
included, from /proc), the time spent checking, the slowest file, and how many verdicts agree
with the manifest. The issue's target is at most 5x Porcupine (Go) on the same corpus, whole
process included; a figure from another day or machine is no baseline, so:

    .venv/bin/python bench/checker_corpus.py [CORPUS_DIR]
    .venv/bin/python bench/checker_corpus.py --baseline /tmp/porcupine-baseline/cmd/porcupine-corpus

With ``--baseline CMD`` the same run also times, as whole processes, ``python -m zynamo check
FILES`` (this interpreter) and ``CMD FILES`` (split like a shell would, the corpus paths
appended), ``--repeat`` times each, alternating which goes first so machine load falls on both
alike, and prints a table: best and median wall time, median CPU time (user + system, every
thread: Porcupine checks a history's partitions on all cores), verdicts agreeing with the
manifest, and the ratio ours/baseline of the wall times. The baseline must print one line per
file holding the file's path and a verdict word (Ok/Illegal/Unknown as Porcupine names them,
valid/INVALID/unknown as ``zynamo check`` does, true/false, or linearizable/not-linearizable).
``--only PREFIX`` restricts the corpus to the manifest rows whose path starts with PREFIX
(``jepsen/``, ``kv/``).

Porcupine itself is never part of this project: bench/README.md says how to build the
baseline command outside the repository, and which Porcupine version was measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

START = time.perf_counter()
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from checker.api import check_file  # noqa: E402

# The project's copy of ../shared/testdata/porcupine (tests/data/porcupine, MIT licence).
DEFAULT_CORPUS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "porcupine"
)

# Verdict words as each tool prints them; None is "unknown" (e.g. a time limit was hit).
VERDICT_WORDS: dict[str, bool | None] = {
    "valid": True,
    "ok": True,
    "true": True,
    "linearizable": True,
    "invalid": False,
    "illegal": False,
    "false": False,
    "not-linearizable": False,
    "unknown": None,
}


@dataclass(frozen=True)
class ManifestRow:
    """One corpus file: its path relative to the corpus, its model, its known verdict."""

    name: str
    model: str
    linearizable: bool


@dataclass(frozen=True)
class ToolRun:
    """One whole-process run of a checker over the corpus."""

    wall_s: float
    cpu_s: float  # user + system, all threads: Go may use both cores where Python uses one
    agreeing: int
    returncode: int
    stderr_tail: str


def process_age_s() -> float | None:
    """Seconds since this process started (Linux), so start-up time is counted too."""
    try:
        with open("/proc/self/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as handle:
            uptime_s = float(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    started_ticks = int(fields[19])  # field 22 of stat, counted after the command name
    return uptime_s - started_ticks / os.sysconf("SC_CLK_TCK")


def read_manifest(corpus: str) -> list[ManifestRow]:
    """The manifest's rows; a malformed row is an error naming the file and line."""
    path = os.path.join(corpus, "manifest.tsv")
    rows: list[ManifestRow] = []
    with open(path) as handle:
        lines = handle.read().splitlines()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[2] not in ("linearizable", "not-linearizable"):
            raise ValueError(
                f"{path}:{number}: expected 'file<TAB>model<TAB>linearizable|not-linearizable'"
            )
        rows.append(ManifestRow(fields[0], fields[1], fields[2] == "linearizable"))
    return rows


def parse_verdicts(output: str, paths: Sequence[str]) -> dict[str, bool | None]:
    """Per path, the verdict found on an output line that names it (as a whole token)."""
    wanted = set(paths)
    verdicts: dict[str, bool | None] = {}
    for line in output.splitlines():
        tokens = line.split()
        named = [token for token in tokens if token in wanted]
        words = [VERDICT_WORDS[t.lower()] for t in tokens if t.lower() in VERDICT_WORDS]
        if len(named) == 1 and words:
            verdicts.setdefault(named[0], words[0])
    return verdicts


def count_agreeing(
    verdicts: dict[str, bool | None], paths: Sequence[str], rows: Sequence[ManifestRow]
) -> int:
    return sum(
        1 for path, row in zip(paths, rows, strict=True) if verdicts.get(path) is row.linearizable
    )


def run_tool(command: Sequence[str], paths: Sequence[str], rows: Sequence[ManifestRow]) -> ToolRun:
    """Run one checker as a whole process over the files; wall time includes its start-up."""
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    completed = subprocess.run(
        [*command, *paths], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    wall_s = time.perf_counter() - began
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    verdicts = parse_verdicts(completed.stdout, paths)
    return ToolRun(
        wall_s=wall_s,
        cpu_s=cpu_s,
        agreeing=count_agreeing(verdicts, paths, rows),
        returncode=completed.returncode,
        stderr_tail="\n".join(completed.stderr.strip().splitlines()[-5:]),
    )


def compare(
    ours: Sequence[str],
    baseline: Sequence[str],
    paths: Sequence[str],
    rows: Sequence[ManifestRow],
    repeat: int,
) -> dict[str, list[ToolRun]]:
    """Alternate the two tools, swapping which goes first each round (ABBA...)."""
    runs: dict[str, list[ToolRun]] = {"zynamo check": [], "baseline": []}
    tools = [("zynamo check", ours), ("baseline", baseline)]
    for round_number in range(repeat):
        order = tools if round_number % 2 == 0 else tools[::-1]
        for name, command in order:
            run = run_tool(command, paths, rows)
            runs[name].append(run)
            print(
                f"  round {round_number + 1}: {name:<12} {run.wall_s:7.3f} s wall, "
                f"{run.cpu_s:7.3f} s cpu",
                flush=True,
            )
    return runs


def print_table(runs: dict[str, list[ToolRun]], total: int, baseline_label: str) -> None:
    times = {name: [run.wall_s for run in tool_runs] for name, tool_runs in runs.items()}
    best = {name: min(walls) for name, walls in times.items()}
    median = {name: statistics.median(walls) for name, walls in times.items()}
    print(f"{'tool':<14} {'wall best s':>11} {'wall median s':>13} {'cpu median s':>12} agreeing")
    for name, tool_runs in runs.items():
        cpu = statistics.median([run.cpu_s for run in tool_runs])
        agreeing = min(run.agreeing for run in tool_runs)  # the worst round, should a tool vary
        print(
            f"{name:<14} {best[name]:11.3f} {median[name]:13.3f} {cpu:12.3f} {agreeing:>4}/{total}"
        )
    ours, theirs = "zynamo check", "baseline"
    print(
        f"ratio ours/baseline: best {best[ours] / best[theirs]:.2f}x, "
        f"median {median[ours] / median[theirs]:.2f}x"
    )
    print(f"baseline: {baseline_label}")
    for name, tool_runs in runs.items():
        last = tool_runs[-1]
        if last.agreeing < total and last.stderr_tail:
            print(f"{name} stderr (last round, exit {last.returncode}):\n{last.stderr_tail}")


def check_in_process(corpus: str, rows: Sequence[ManifestRow]) -> int:
    """Today's figures: check every file in this process; returns how many verdicts agree."""
    agree = 0
    slowest = (0.0, "")
    ops = 0
    checking_started = time.perf_counter()
    for row in rows:
        began = time.perf_counter()
        result = check_file(os.path.join(corpus, row.name), row.model)
        spent = time.perf_counter() - began
        slowest = max(slowest, (spent, row.name))
        ops += result["op_count"]
        if result["valid"] is row.linearizable:
            agree += 1
        else:
            expected = "linearizable" if row.linearizable else "not-linearizable"
            print(f"DISAGREES: {row.name}: {result['valid']} (manifest: {expected})")
    checking_s = time.perf_counter() - checking_started
    age = process_age_s()
    print(f"files checked: {len(rows)} ({ops} operations)")
    print(f"verdicts agreeing with the manifest: {agree}/{len(rows)}")
    print(f"checking time: {checking_s:.3f} s")
    print(f"slowest file: {slowest[1]} ({slowest[0]:.3f} s)")
    if age is not None:
        print(f"wall time, whole process (Python start-up included): {age:.3f} s")
    else:
        print(f"wall time since imports: {time.perf_counter() - START:.3f} s")
    return agree


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Check the Porcupine corpus; optionally time it side by side with a baseline."
    )
    parser.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS, metavar="CORPUS_DIR")
    parser.add_argument(
        "--baseline",
        metavar="CMD",
        help="a checker command to which the corpus paths are appended, timed against ours",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="N", help="runs of each tool (default 5)"
    )
    parser.add_argument(
        "--only", default="", metavar="PREFIX", help="only manifest rows starting with PREFIX"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat} must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    baseline = shlex.split(args.baseline) if args.baseline is not None else []
    if args.baseline is not None and (not baseline or shutil.which(baseline[0]) is None):
        print(
            f"--baseline {args.baseline!r}: not an executable command "
            "(e.g. /tmp/porcupine-baseline/cmd/porcupine-corpus, see bench/README.md)",
            file=sys.stderr,
        )
        return 2
    corpus = os.path.abspath(args.corpus)
    rows = [row for row in read_manifest(corpus) if row.name.startswith(args.only)]
    if not rows:
        print(f"--only {args.only!r}: no manifest row starts with it", file=sys.stderr)
        return 2
    agree = check_in_process(corpus, rows)
    if not baseline:
        return 0 if agree == len(rows) else 1

    paths = [os.path.join(corpus, row.name) for row in rows]
    ours = [sys.executable, "-m", "zynamo", "check"]
    print(f"\nside by side, whole processes, {args.repeat} round(s), {len(paths)} files:")
    runs = compare(ours, baseline, paths, rows, args.repeat)
    print()
    print_table(runs, len(rows), args.baseline)
    ours_agree = min(run.agreeing for run in runs["zynamo check"])
    return 0 if agree == len(rows) and ours_agree == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
