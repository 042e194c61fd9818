"""Benchmark: check a generated register history of 100,000 operations over 1,000 keys.

Simulates 10 concurrent client processes against a real linearizable register per key: each
operation is invoked, takes effect at one instant inside its interval, and completes later,
so operations overlap; about 1% of writes crash (``info``: they take effect or not, and the
process is replaced by a new one). The history is written as this project's JSON Lines to a
temporary file (I/O), read back and checked; the script prints the times. Seeded: the same
seed gives the same history.

    .venv/bin/python bench/checker_generated.py [--ops 100000] [--keys 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checker.api import check_linearizable, read_history

CONCURRENCY = 10
CRASH_FRACTION = 0.01


def generate(rng: random.Random, ops: int, keys: int) -> list[dict[str, Any]]:
    """History records of a linearizable register per key, with overlapping operations."""
    state: dict[str, int | None] = {}
    next_value = 0
    records: list[dict[str, Any]] = []
    # events: (time_ns, order, kind, slot); kinds: 0 invoke, 1 take effect, 2 complete
    events: list[tuple[int, int, int, int]] = []
    order = 0
    processes = list(range(CONCURRENCY))
    current: list[dict[str, Any]] = [{} for _ in range(CONCURRENCY)]
    invoked = 0

    def schedule(time_ns: int, kind: int, slot: int) -> None:
        nonlocal order
        heapq.heappush(events, (time_ns, order, kind, slot))
        order += 1

    def emit(time_ns: int, process: int, kind: str, op: dict[str, Any], value: Any) -> None:
        records.append(
            {
                "index": len(records),
                "time": time_ns,
                "process": process,
                "type": kind,
                "f": op["f"],
                "key": op["key"],
                "value": value,
            }
        )

    for slot in range(CONCURRENCY):
        schedule(rng.randrange(1_000, 100_000), 0, slot)
    while events:
        time_ns, _, kind, slot = heapq.heappop(events)
        op = current[slot]
        if kind == 0:
            if invoked >= ops:
                continue
            invoked += 1
            key = f"k{rng.randrange(keys)}"
            if rng.random() < 0.5:
                op = {"f": "read", "key": key}
            else:
                next_value += 1
                op = {"f": "write", "key": key, "value": next_value}
            op["crash"] = op["f"] == "write" and rng.random() < CRASH_FRACTION
            current[slot] = op
            emit(time_ns, processes[slot], "invoke", op, op.get("value"))
            effect_ns = time_ns + rng.randrange(10_000, 2_000_000)
            schedule(effect_ns, 1, slot)
            schedule(effect_ns + rng.randrange(10_000, 2_000_000), 2, slot)
        elif kind == 1:
            if op["f"] == "write":
                if not op["crash"] or rng.random() < 0.5:
                    state[op["key"]] = op["value"]
            else:
                op["result"] = state.get(op["key"])
        else:
            if op["crash"]:
                emit(time_ns, processes[slot], "info", op, op["value"])
                processes[slot] += CONCURRENCY  # the crashed process is replaced
            else:
                emit(time_ns, processes[slot], "ok", op, op.get("result", op.get("value")))
            schedule(time_ns + rng.randrange(1_000, 500_000), 0, slot)
    return records


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv[1:])

    began = time.perf_counter()
    records = generate(random.Random(args.seed), args.ops, args.keys)
    generated_s = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "history.jsonl")
        with open(path, "w") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)
        began = time.perf_counter()
        history = read_history(path)
        read_s = time.perf_counter() - began
    began = time.perf_counter()
    result = check_linearizable(history, "register")
    check_s = time.perf_counter() - began
    crashed = sum(1 for op in history if op.type == "info")
    print(
        f"generated {len(history)} operations over {result['keys']} keys from "
        f"{CONCURRENCY} concurrent processes ({crashed} crashed writes) in {generated_s:.2f} s"
    )
    print(f"read: {read_s:.3f} s   check: {check_s:.3f} s   total: {read_s + check_s:.3f} s")
    print(f"verdict: {result['valid']} ({result['configurations']} configurations explored)")
    return 0 if result["valid"] is True else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
