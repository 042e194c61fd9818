"""Benchmark: check the whole Porcupine corpus (102 etcd logs, 6 kv logs) in one process.

Reads the corpus files (I/O) and prints: the wall time of the whole process (Python start-up
included, from /proc), the time spent checking, the slowest file, and how many verdicts agree
with the manifest. Porcupine itself (Go) checks the same corpus in 0.66 s on this kind of
machine; the target is at most 5x that, whole process included.

    .venv/bin/python bench/checker_corpus.py [CORPUS_DIR]
"""

from __future__ import annotations

import os
import sys
import time

START = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checker.api import check_file  # noqa: E402

DEFAULT_CORPUS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "testdata", "porcupine"
)


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


def main(argv: list[str]) -> int:
    corpus = argv[1] if len(argv) > 1 else DEFAULT_CORPUS
    with open(os.path.join(corpus, "manifest.tsv")) as handle:
        rows = [line.split("\t") for line in handle.read().splitlines()[1:] if line.strip()]
    agree = 0
    slowest = (0.0, "")
    ops = 0
    checking_started = time.perf_counter()
    for name, model, expected in rows:
        began = time.perf_counter()
        result = check_file(os.path.join(corpus, name), model)
        spent = time.perf_counter() - began
        slowest = max(slowest, (spent, name))
        ops += result["op_count"]
        if result["valid"] is (expected == "linearizable"):
            agree += 1
        else:
            print(f"DISAGREES: {name}: {result['valid']} (manifest: {expected})")
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
    return 0 if agree == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
