"""Node core benchmark: the CPU a request costs inside the nodes, without sockets.

Runs the cluster benchmark's load (N=3 R=2 W=2, a closed loop of concurrent clients, half
gets and half read-modify-write puts of 200-byte values) against ``Node`` cores in one process,
each on its own SQLite store, with every message encoded and decoded by the real codec and
each delivery committed before what it sends moves on (the server does so per batch). What is
left out is exactly ZeroMQ and the operating system's scheduling, so the figure it prints —
CPU microseconds per operation in the node cores (with this loop's own small share: encoding
the requests, decoding the replies) — is the part of ``cluster_bench.py``'s per-operation cost
that the protocol code itself decides, measured without the noise of ten processes sharing two
cores. ``--profile`` prints where that time goes. Does file I/O (temporary SQLite files);
prints figures only.

    .venv/bin/python bench/node_core_bench.py [--ops 20000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import heapq
import pstats
import random
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cluster.core import (
    ClientGet,
    ClientPut,
    ClusterConfig,
    GetReply,
    Log,
    Node,
    PutReply,
    Reply,
    Send,
    SetTimer,
    Timer,
    decode,
    encode,
)
from cluster.storage import SqliteStore

Callback = Callable[[Any], None]


class CoreCluster:
    """Node cores wired together by an in-process FIFO of encoded frames, on the real clock."""

    def __init__(self, config: ClusterConfig, directory: Path) -> None:
        now_ms = time.monotonic() * 1000
        self.stores = {n: SqliteStore(directory / f"{n}.sqlite3") for n in config.nodes}
        self.nodes = {
            n: Node(n, config, self.stores[n], random.Random(n), generation=1) for n in config.nodes
        }
        self.frames: deque[tuple[str, bytes | None, bytes]] = deque()  # (dst, client, frame)
        self.timers: list[tuple[float, int, str, Timer]] = []
        self.waiting: dict[bytes, Callback] = {}  # client id -> what to do with the reply
        self._seq = 0
        for name, node in self.nodes.items():
            self._apply(name, node.start(now_ms))
        self.run_until_idle()

    def _apply(self, name: str, effects: list[Any]) -> None:
        for effect in effects:
            if type(effect) is Send:
                self.frames.append((effect.dst, None, encode(effect.msg)))
            elif type(effect) is Reply:
                callback = self.waiting.pop(effect.client, None)
                if callback is not None:
                    callback(decode(encode(effect.msg)))
            elif type(effect) is SetTimer:
                self._seq += 1
                heapq.heappush(self.timers, (effect.at_ms, self._seq, name, effect.timer))
            elif not isinstance(effect, Log):
                raise TypeError(f"unexpected effect {effect!r}")

    def request(self, node: str, client: bytes, msg: Any, callback: Callback) -> None:
        self.waiting[client] = callback
        self.frames.append((node, client, encode(msg)))

    def step(self) -> bool:
        """Deliver one frame (and fire due timers); False when there was nothing to do."""
        now_ms = time.monotonic() * 1000
        timers = self.timers
        while timers and timers[0][0] <= now_ms:
            _, _, name, timer = heapq.heappop(timers)
            self._apply(name, self.nodes[name].on_timer(timer, now_ms))
        if not self.frames:
            return False
        dst, client, frame = self.frames.popleft()
        store = self.stores[dst]
        store.begin_batch()
        effects = self.nodes[dst].on_message(client, decode(frame), now_ms)
        store.commit_batch()
        self._apply(dst, effects)
        return True

    def run_until_idle(self) -> None:
        while self.step():
            pass

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


def run_load(
    cluster: CoreCluster, ops: int, clients: int, keys: int, value_bytes: int, seed: int
) -> tuple[int, int]:
    """A closed loop of ``clients`` requests in flight until ``ops`` have completed; returns
    (completed, failed). Requests go to the key's first primary, as the benchmark's client."""
    rng = random.Random(seed)
    names = list(cluster.nodes)
    ring = cluster.nodes[names[0]].ring
    contexts: dict[str, str] = {}
    value = "x" * value_bytes
    done = [0, 0]
    req = [0]

    def issue(client: bytes) -> None:
        if done[0] + done[1] + len(cluster.waiting) >= ops:
            return
        req[0] += 1
        key = f"k{rng.randrange(keys)}"
        node = ring.primaries(key, 3)[0]
        msg: Any
        if rng.random() < 0.5:
            msg = ClientGet(req[0], key)
        else:
            msg = ClientPut(req[0], key, value, contexts.get(key, ""))

        def answered(reply: Any) -> None:
            done[0 if reply.ok else 1] += 1
            if type(reply) is GetReply and reply.ok:
                contexts[key] = reply.context
            elif type(reply) is not PutReply and type(reply) is not GetReply:
                raise TypeError(f"unexpected reply {reply!r}")
            issue(client)

        cluster.request(node, client, msg, answered)

    for i in range(clients):
        issue(f"client-{i}".encode())
    while cluster.waiting:
        if not cluster.step():
            time.sleep(0.0005)  # only timers left: the next request is waiting on one
    return done[0], done[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000, help="operations to complete")
    parser.add_argument("--clients", type=int, default=16, help="requests in flight")
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--value-bytes", type=int, default=200)
    parser.add_argument("--versioning", default="dvv", choices=["dvv", "vclock", "lww"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args(argv)
    config = ClusterConfig(
        nodes=tuple(f"n{i}" for i in range(1, args.nodes + 1)), versioning=args.versioning
    )
    with tempfile.TemporaryDirectory(prefix="zynamo-core-bench-") as tmp:
        cluster = CoreCluster(config, Path(tmp))
        # Warm up: every key written once, so the measured loop sees a full store.
        run_load(cluster, args.keys, args.clients, args.keys, args.value_bytes, args.seed + 1)
        profiler = cProfile.Profile(time.thread_time) if args.profile else None
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        ok, failed = run_load(
            cluster, args.ops, args.clients, args.keys, args.value_bytes, args.seed
        )
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        cluster.close()
    total = ok + failed
    print(
        f"node cores: {args.nodes} nodes, N=3 R=2 W=2, {args.versioning}; {args.clients} in"
        f" flight, {args.value_bytes}-byte values, {args.keys} keys, 50% gets"
    )
    print(f"{total:,} operations ({failed} failed) in {wall:.2f} s")
    per_op_us = cpu / total * 1e6
    print(f"cpu per operation in the node cores (codec and SQLite included): {per_op_us:,.0f} us")
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
