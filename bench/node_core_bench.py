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

``--codec generated,msgspec`` measures the project's codec and msgspec structs
(``bench/msgspec_messages.py``) in one invocation: each round runs each codec in a fresh child
process, alternating which goes first, and the script prints every round, the median of each
codec and the ratio msgspec / generated.

    .venv/bin/python bench/node_core_bench.py [--ops 20000] [--profile]
    .venv/bin/python bench/node_core_bench.py --ops 20000 --codec generated,msgspec --rounds 5
"""

from __future__ import annotations

import argparse
import cProfile
import heapq
import pstats
import random
import statistics
import subprocess
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

CODECS = ("generated", "msgspec")

# A child process measuring one codec: with ``msgspec``, the msgspec module stands in for the
# project's messages and codec modules before anything imports the node core, so the node
# builds, sends and dispatches msgspec structs throughout. (argv: codec, msgspec module path,
# this script's path, the script's arguments.)
_CHILD = """\
import importlib.util, runpy, sys
codec, module_path, script = sys.argv[1:4]
if codec == "msgspec":
    spec = importlib.util.spec_from_file_location("msgspec_messages", module_path)
    module = sys.modules["msgspec_messages"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["cluster.core.messages"] = sys.modules["cluster.core.codec"] = module
sys.argv = [script, *sys.argv[4:]]
runpy.run_path(script, run_name="__main__")
"""

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


def parse_codecs(text: str) -> list[str]:
    codecs = [c.strip() for c in text.split(",") if c.strip()]
    for codec in codecs:
        if codec not in CODECS:
            raise argparse.ArgumentTypeError(f"unknown codec {codec!r} (choose from {CODECS})")
    return codecs


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
    parser.add_argument(
        "--codec",
        type=parse_codecs,
        help="comma-separated codecs to compare, each round in fresh child processes"
        f" ({', '.join(CODECS)})",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --codec comparison")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.codec:
        return compare(args, argv if argv is not None else sys.argv[1:])
    return measure(args)


def compare(args: argparse.Namespace, argv: list[str]) -> int:
    """Rounds of one fresh child per codec, the codec that goes first rotating each round."""
    passed = []  # the arguments the children share: all but --codec and --rounds
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--codec", "--rounds"):
            skip = True
        elif not arg.startswith(("--codec=", "--rounds=")):
            passed.append(arg)
    module = Path(__file__).with_name("msgspec_messages.py")
    codecs: list[str] = args.codec
    figures: dict[str, list[float]] = {codec: [] for codec in codecs}
    for round_ in range(args.rounds):
        shift = round_ % len(codecs)
        for codec in codecs[shift:] + codecs[:shift]:
            command = [sys.executable, "-c", _CHILD, codec, str(module), __file__, *passed]
            done = subprocess.run([*command, "--child"], capture_output=True, text=True)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                raise SystemExit(f"the {codec} child failed")
            result = done.stdout.strip().splitlines()[-1].split()
            per_op_us, total, failed = float(result[1]), int(result[2]), int(result[3])
            figures[codec].append(per_op_us)
            print(
                f"round {round_ + 1} {codec:>9}: {per_op_us:6.1f} us/op"
                f" ({total:,} ops, {failed} failed)",
                flush=True,
            )
    medians = {codec: statistics.median(values) for codec, values in figures.items()}
    for codec, values in figures.items():
        print(
            f"{codec:>9}: median {medians[codec]:.1f} us/op, best {min(values):.1f}"
            f" over {len(values)} rounds"
        )
    if len(codecs) == 2:
        first, second = codecs
        print(f"ratio {second} / {first} (medians): {medians[second] / medians[first]:.3f}")
    return 0


def measure(args: argparse.Namespace) -> int:
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
    per_op_us = cpu / total * 1e6
    if args.child:  # one line for ``compare``
        print(f"RESULT {per_op_us:.3f} {total} {failed} {wall:.3f}")
        return 0
    print(
        f"node cores: {args.nodes} nodes, N=3 R=2 W=2, {args.versioning}; {args.clients} in"
        f" flight, {args.value_bytes}-byte values, {args.keys} keys, 50% gets"
    )
    print(f"{total:,} operations ({failed} failed) in {wall:.2f} s")
    print(f"cpu per operation in the node cores (codec and SQLite included): {per_op_us:,.0f} us")
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
