"""Benchmark: hard kv histories (many clients, few keys, distinct values), checked under caps.

Generates histories of a simulated linearizable kv store (I/O: writes them to a temporary
directory, or to ``--keep DIR``): ``--clients`` processes on ``--keys`` keys run ``--ops``
operations in all, each invoked, taking effect at one instant inside its interval and
completing later, so that up to every client overlaps every other. ``--mix mixed`` is gets,
appends and puts; ``--mix append`` gets and appends only (the shape that makes the
Wing–Gong–Lowe search explode: every order of appends reaches a different state). Every
put and append value is distinct, ``x CLIENT N y`` as in Porcupine's kv tests. A fraction
``--crash-rate`` of the puts and appends crash (``info``: they take effect or not, and the
client is replaced by a new process). ``--invalid`` then makes one get see two appends in the
wrong order, appends whose real-time order is known, so the history is certainly not
linearizable.

Each history is written in Porcupine's kv format (``{:process 6, :type :invoke, :f :append,
:key "0", :value "x 6 0 y"}``, what ``zynamo check`` reads as EDN) and in this project's JSON
Lines, and checked as a whole process, ``python -m zynamo check --json FILE``, with its address
space capped (``--memory-cap``, default 2 GiB, by ``setrlimit(RLIMIT_AS)`` in the child) and a
wall-time cap (``--timeout``). With ``--baseline CMD`` the kv-format file is also given to
``CMD FILE`` under the same caps (Porcupine built outside the repository, see bench/README.md;
it must print a verdict word: Ok / Illegal / valid / INVALID ...). The script prints, per
history: verdict and whether it is right, wall time, peak resident memory, for each tool.

    .venv/bin/python bench/checker_hard.py --clients 50 --keys 10 --ops 6000 --mix append
    .venv/bin/python bench/checker_hard.py --sweep            # the grid of the README figures
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIXES = {"mixed": (0.5, 0.35, 0.15), "append": (0.5, 0.5, 0.0)}  # get, append, put


@dataclass(frozen=True)
class Shape:
    """What a generated history looks like."""

    clients: int
    keys: int
    ops: int
    crash_rate: float
    mix: str
    invalid: bool
    seed: int

    def name(self) -> str:
        kind = "bad" if self.invalid else "ok"
        return (
            f"{self.mix}-c{self.clients}-k{self.keys}-n{self.ops}-"
            f"crash{self.crash_rate:g}-{kind}-s{self.seed}"
        )


@dataclass(frozen=True)
class Record:
    """One history event."""

    process: int
    type: str  # invoke, ok, info
    f: str  # get, put, append
    key: str
    value: str | None


def generate(shape: Shape) -> list[Record]:
    """A history of a linearizable kv store of that shape (made invalid if asked)."""
    rng = random.Random(shape.seed)
    get_p, append_p, _ = MIXES[shape.mix]
    state: dict[str, str] = {}
    records: list[Record] = []
    # per op: dict with f, key, value, crash, call (record index), ret, seen (get)
    ops: list[dict[str, Any]] = []
    events: list[tuple[float, int, int, int]] = []  # (time, order, kind, client slot)
    order = 0
    process = list(range(shape.clients))
    current: list[int] = [-1] * shape.clients
    counter = [0] * shape.clients
    invoked = 0

    def schedule(at: float, kind: int, slot: int) -> None:
        nonlocal order
        heapq.heappush(events, (at, order, kind, slot))
        order += 1

    for slot in range(shape.clients):
        schedule(rng.random(), 0, slot)
    while events:
        now, _, kind, slot = heapq.heappop(events)
        if kind == 0:  # invoke
            if invoked >= shape.ops:
                continue
            invoked += 1
            key = str(rng.randrange(shape.keys))
            roll = rng.random()
            op: dict[str, Any] = {"key": key, "call": len(records), "ret": None}
            if roll < get_p:
                op["f"] = "get"
                op["value"] = None
            else:
                op["f"] = "append" if roll < get_p + append_p else "put"
                op["value"] = f"x {process[slot]} {counter[slot]} y"
                counter[slot] += 1
            op["crash"] = op["f"] != "get" and rng.random() < shape.crash_rate
            current[slot] = len(ops)
            ops.append(op)
            records.append(Record(process[slot], "invoke", op["f"], key, op["value"]))
            # Long, varied intervals: many clients overlap many others.
            effect = now + rng.expovariate(1.0) * 3
            schedule(effect, 1, slot)
            schedule(effect + rng.expovariate(1.0) * 3, 2, slot)
        elif kind == 1:  # take effect
            op = ops[current[slot]]
            key = op["key"]
            if op["f"] == "get":
                op["seen"] = state.get(key, "")
            elif op["crash"] and rng.random() < 0.5:
                op["applied"] = False  # a crashed op that never took effect
            elif op["f"] == "append":
                state[key] = state.get(key, "") + op["value"]
            else:
                state[key] = op["value"]
        else:  # complete
            op = ops[current[slot]]
            op["ret"] = len(records)
            if op["crash"]:
                records.append(Record(process[slot], "info", op["f"], op["key"], op["value"]))
                process[slot] += shape.clients  # a crashed client is replaced
            else:
                value = op["seen"] if op["f"] == "get" else op["value"]
                records.append(Record(process[slot], "ok", op["f"], op["key"], value))
                op["record"] = len(records) - 1
            schedule(now + rng.expovariate(4.0), 0, slot)
    if shape.invalid:
        _break(rng, ops, records)
    return records


def _break(rng: random.Random, ops: list[dict[str, Any]], records: list[Record]) -> None:
    """Make one get see two appends swapped, the first having completed before the second was
    invoked: no linearization can put them in that order."""
    appends = {op["value"]: op for op in ops if op["f"] == "append" and not op["crash"]}
    gets = [op for op in ops if op["f"] == "get" and "record" in op and op["seen"]]
    rng.shuffle(gets)
    for op in gets:
        tokens = _split(op["seen"], appends)
        pairs = [
            (i, j)
            for i in range(len(tokens))
            for j in range(i + 1, min(len(tokens), i + 8))
            if tokens[i] in appends
            and tokens[j] in appends
            and appends[tokens[i]]["ret"] < appends[tokens[j]]["call"]
        ]
        if not pairs:
            continue
        i, j = rng.choice(pairs)
        tokens[i], tokens[j] = tokens[j], tokens[i]
        old = records[op["record"]]
        records[op["record"]] = Record(old.process, "ok", "get", old.key, "".join(tokens))
        return
    raise SystemExit("no get saw two appends in a known order: use more --ops")


def _split(seen: str, appends: dict[str, Any]) -> list[str]:
    """The values a string is made of ("x ... y" each)."""
    parts = seen.split("y")
    return [part + "y" for part in parts[:-1]]


def write_porcupine_kv(records: Sequence[Record], path: str) -> None:
    with open(path, "w") as handle:
        for r in records:
            value = "nil" if r.value is None else json.dumps(r.value)
            handle.write(
                f"{{:process {r.process}, :type :{r.type}, :f :{r.f}, :key {json.dumps(r.key)}, "
                f":value {value}}}\n"
            )


def write_jsonl(records: Sequence[Record], path: str) -> None:
    with open(path, "w") as handle:
        for r in records:
            handle.write(
                json.dumps(
                    {"process": r.process, "type": r.type, "f": r.f, "key": r.key, "value": r.value}
                )
                + "\n"
            )


@dataclass(frozen=True)
class Run:
    """One capped whole-process run of a checker on one file."""

    verdict: bool | None  # None: unknown, or no verdict (timeout, crash)
    wall_s: float
    peak_rss_mib: float
    note: str  # exit code, "timeout", ...


VERDICT_WORDS = {"valid": True, "ok": True, "true": True, "invalid": False, "illegal": False}


def run_capped(command: Sequence[str], memory_cap: int, timeout_s: float) -> Run:
    """Run a command with its address space and wall time capped; parse its verdict."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    began = time.perf_counter()
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=cap,
        cwd=PROJECT_ROOT,
    )
    timer = threading.Timer(timeout_s, child.kill)
    timer.start()
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(child.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    out = child.stdout.read()  # type: ignore[union-attr]
    reader.join()
    # Reap the child here, not through Popen, to get its own resource usage.
    _, status, usage = os.wait4(child.pid, 0)
    timed_out = not timer.is_alive()
    timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    note = f"timeout {timeout_s:g} s" if timed_out else f"exit {child.returncode}"
    verdict = None if timed_out else _verdict(out)
    if not timed_out and verdict is None:  # say why: "runtime: out of memory", a traceback
        text = "".join(errors)
        if "out of memory" in text or "MemoryError" in text:
            note += " out of memory"
        else:
            note += " " + (text.strip().splitlines() or [""])[-1][:60]
    return Run(verdict, wall, usage.ru_maxrss / 1024, note)


def _verdict(out: str) -> bool | None:
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            valid = json.loads(line).get("valid")
            return valid if isinstance(valid, bool) else None
        for word in line.replace("\t", " ").split():
            found = VERDICT_WORDS.get(word.lower())
            if found is not None:
                return found
    return None


def check_shape(shape: Shape, args: argparse.Namespace, directory: str) -> None:
    records = generate(shape)
    kv_path = os.path.join(directory, shape.name() + ".txt")
    jsonl_path = os.path.join(directory, shape.name() + ".jsonl")
    write_porcupine_kv(records, kv_path)
    write_jsonl(records, jsonl_path)
    ours = [sys.executable, "-m", "zynamo", "check", "--json", *args.check_args]
    tools = [("zynamo check (kv)", [*ours, kv_path]), ("zynamo check (jsonl)", [*ours, jsonl_path])]
    if args.baseline:
        tools.append(("baseline", [*shlex.split(args.baseline), kv_path]))
    expected = not shape.invalid
    for label, command in tools:
        run = run_capped(command, args.memory_cap, args.timeout)
        if run.verdict is None:
            right = "no verdict"
        else:
            right = "right" if run.verdict == expected else "WRONG"
        print(
            f"{shape.name():<44} {label:<21} {_word(run.verdict):<8} {right:<10} "
            f"{run.wall_s:7.2f} s  peak RSS {run.peak_rss_mib:6.0f} MiB  {run.note}",
            flush=True,
        )


def _word(verdict: bool | None) -> str:
    return {True: "valid", False: "INVALID", None: "unknown"}[verdict]


SWEEP_SIZES = ((50, 10), (50, 5), (100, 10), (100, 5))  # clients, keys


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--ops", type=int, default=6000)
    parser.add_argument("--crash-rate", type=float, default=0.0)
    parser.add_argument("--mix", choices=sorted(MIXES), default="mixed")
    parser.add_argument("--invalid", action="store_true", help="break the history")
    parser.add_argument("--both", action="store_true", help="a valid and an invalid history")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="the README's grid: mixed and append, 50/100 clients on 5/10 keys, valid and invalid",
    )
    parser.add_argument(
        "--crash-rates", default="0,0.05", help="with --sweep: comma-separated crash rates"
    )
    parser.add_argument("--memory-cap", type=int, default=2 << 30, help="bytes (RLIMIT_AS)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--baseline", default=None, metavar="CMD")
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the histories here")
    parser.add_argument(
        "--check-args", default="", help="extra arguments for zynamo check, e.g. '--jobs 2'"
    )
    args = parser.parse_args(argv)
    args.check_args = shlex.split(args.check_args)
    args.crash_rates = [float(rate) for rate in args.crash_rates.split(",")]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    if args.sweep:
        shapes = [
            Shape(clients, keys, args.ops, crash, mix, invalid, args.seed)
            for mix in ("mixed", "append")
            for clients, keys in SWEEP_SIZES
            for crash in args.crash_rates
            for invalid in (False, True)
        ]
    else:
        invalids = (False, True) if args.both else (args.invalid,)
        shapes = [
            Shape(args.clients, args.keys, args.ops, args.crash_rate, args.mix, bad, args.seed)
            for bad in invalids
        ]
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        for shape in shapes:
            check_shape(shape, args, args.keep)
        return 0
    with tempfile.TemporaryDirectory() as directory:
        for shape in shapes:
            check_shape(shape, args, directory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
