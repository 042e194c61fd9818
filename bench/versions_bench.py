"""Micro-benchmark: what the version and ring code costs a node per operation, in µs.

For each versioning (dvv, vclock, lww) it times the paths a Dynamo node runs for every request,
on realistic states (1 to 3 siblings, clocks of 3 to 5 entries, 200-byte values), starting from
fresh JSON-able data as the store and the wire hand it over:

- ``coordinator put``: ``Context.decode`` of the client's context, ``from_json`` of the stored
  state, ``update``, ``to_json``;
- ``replica put``: ``from_json`` of the incoming and of the stored state, ``merge``, ``to_json``;
- ``get merge``: ``from_json`` of 2 or 3 replica answers, their merge, ``context().encode()``
  and ``values``;
- ``descends`` (the read-repair check) and ``digest`` of an already built state;

and the ring's ``partition_of``, ``primaries`` and ``preference_list`` (64 partitions, 5 nodes,
N=3, with everyone up and with one primary down). Each figure is the best of several rounds,
averaged over the fixtures; times are the process's CPU time, which other load on the machine
disturbs far less than wall time. Pure CPU: no I/O but printing the table.

    .venv/bin/python bench/versions_bench.py [--rounds 5] [--min-time 0.1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster.core import VERSIONINGS, Context, Ring, Siblings, Versioning, versioning

NODES = ("n1", "n2", "n3", "n4", "n5")
VALUE_BYTES = 200
SIBLING_COUNTS = (1, 2, 3)
RING_KEYS = 1_000


@dataclass(frozen=True)
class Fixture:
    """One key's states as JSON-able data, as the store and the wire deliver them."""

    stored: Any  # the replica's state before the put (``siblings`` versions)
    updated: Any  # the coordinator's state after the put: what replicas receive
    replies: tuple[Any, ...]  # what 3 replicas answer a get: two current, one stale
    context: str  # the encoded context a read-modify-write client sends back


def wire(state: Siblings) -> Any:
    """The state as a receiver gets it: a fresh copy through JSON text."""
    return json.loads(json.dumps(state.to_json()))


def value_of(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(letters) for _ in range(VALUE_BYTES))


def build_fixture(mode: Versioning, siblings: int, rng: random.Random) -> Fixture:
    """A key written by read-modify-writes through 3 coordinators, then by ``siblings``
    concurrent writes (all from the same read) through the next ones: the stored state has
    ``siblings`` versions (one under lww) with clocks of 3 or 4 entries. The put under test reads
    it and writes through a fifth coordinator (a clock of 5 entries)."""
    state, now = Siblings.EMPTY, 1_000.0
    for node in NODES[:3]:
        now += 10
        state, _ = mode.update(state, mode.context(state), value_of(rng), node, now)
    stale, seen = state, mode.context(state)
    writers = NODES[3:4] + NODES[:3]  # a new coordinator first, then the older ones
    for node in writers[:siblings]:
        now += 10
        written, _ = mode.update(stale, seen, value_of(rng), node, now)
        state = written if state is stale else mode.merge(state, written)
    now += 10
    updated, _ = mode.update(state, mode.context(state), value_of(rng), NODES[4], now)
    return Fixture(
        stored=wire(state),
        updated=wire(updated),
        replies=(wire(state), wire(state), wire(stale)),
        context=mode.context(state).encode(),
    )


def per_call_us(calls: Sequence[Callable[[], object]], rounds: int, min_time_s: float) -> float:
    """Mean CPU µs per call over ``calls`` (the best of ``rounds`` timed loops)."""
    loops = 1
    while True:  # enough loops that one round takes ``min_time_s``
        started = time.process_time()
        for _ in range(loops):
            for call in calls:
                call()
        if time.process_time() - started >= min_time_s:
            break
        loops *= 2
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(loops):
            for call in calls:
                call()
        best = min(best, time.process_time() - started)
    return best / (loops * len(calls)) * 1e6


def coordinator_put(mode: Versioning, f: Fixture, value: str) -> Callable[[], object]:
    def run() -> object:
        local = Siblings.from_json(f.stored)
        state, _ = mode.update(local, Context.decode(f.context), value, "n5", 5_000.0)
        return state.to_json()

    return run


def replica_put(mode: Versioning, f: Fixture) -> Callable[[], object]:
    def run() -> object:
        incoming = Siblings.from_json(f.updated)
        local = Siblings.from_json(f.stored)
        return mode.merge(local, incoming).to_json()

    return run


def get_merge(mode: Versioning, f: Fixture, answers: int) -> Callable[[], object]:
    replies = f.replies[:answers]

    def run() -> object:
        merged = Siblings.EMPTY
        for raw in replies:
            merged = mode.merge(merged, Siblings.from_json(raw))
        return mode.context(merged).encode(), merged.values

    return run


def version_rows(rounds: int, min_time_s: float) -> dict[str, dict[str, float]]:
    """``{operation: {mode: µs}}`` for the version paths."""
    rows: dict[str, dict[str, float]] = {}
    for name in VERSIONINGS:
        mode = versioning(name)
        rng = random.Random(7)
        fixtures = [build_fixture(mode, s, rng) for s in SIBLING_COUNTS]
        value = value_of(rng)
        states = [Siblings.from_json(f.stored) for f in fixtures]
        copies = [Siblings.from_json(f.stored) for f in fixtures]  # equal, not identical
        stale = [Siblings.from_json(f.replies[2]) for f in fixtures]
        cases: dict[str, Sequence[Callable[[], object]]] = {
            "coordinator put": [coordinator_put(mode, f, value) for f in fixtures],
            "replica put": [replica_put(mode, f) for f in fixtures],
            "get merge (2 answers)": [get_merge(mode, f, 2) for f in fixtures],
            "get merge (3 answers)": [get_merge(mode, f, 3) for f in fixtures],
            # Read repair asks whether each answer descends the merge: one stale, one not.
            "descends": [partial(mode.descends, t, s) for s, t in zip(states, stale, strict=True)]
            + [partial(mode.descends, c, s) for s, c in zip(states, copies, strict=True)],
            "from_json": [partial(Siblings.from_json, f.stored) for f in fixtures],
            "to_json": [s.to_json for s in states],
            "digest": [s.digest for s in states],
        }
        for label, calls in cases.items():
            rows.setdefault(label, {})[name] = per_call_us(calls, rounds, min_time_s)
    return rows


def ring_rows(rounds: int, min_time_s: float) -> dict[str, float]:
    ring = Ring.build(NODES, 64)
    keys = [f"k{i}" for i in range(RING_KEYS)]
    one_down = frozenset(NODES[1:])
    cases: dict[str, Sequence[Callable[[], object]]] = {
        "partition_of": [partial(ring.partition_of, k) for k in keys],
        "primaries (n=3)": [partial(ring.primaries, k, 3) for k in keys],
        "preference_list (all up)": [partial(ring.preference_list, k, 3) for k in keys],
        "preference_list (1 down)": [partial(ring.preference_list, k, 3, one_down) for k in keys],
    }
    return {label: per_call_us(calls, rounds, min_time_s) for label, calls in cases.items()}


def report(versions: dict[str, dict[str, float]], ring: dict[str, float]) -> None:
    width = max(len(label) for label in [*versions, *ring]) + 2
    print(f"{'versions (µs per call)':<{width}}" + "".join(f"{m:>10}" for m in VERSIONINGS))
    for label, by_mode in versions.items():
        print(f"{label:<{width}}" + "".join(f"{by_mode[m]:>10.1f}" for m in VERSIONINGS))
    print()
    print(f"{'ring (µs per call)':<{width}}")
    for label, us in ring.items():
        print(f"{label:<{width}}{us:>10.2f}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds, best kept")
    parser.add_argument(
        "--min-time", type=float, default=0.1, help="seconds each timed round lasts at least"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.min_time <= 0:
        parser.error(f"--min-time must be positive, got {args.min_time}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    versions = version_rows(args.rounds, args.min_time)
    ring = ring_rows(args.rounds, args.min_time)
    report(versions, ring)


if __name__ == "__main__":
    main()
