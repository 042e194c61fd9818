"""Recovery benchmark: how fast a cluster repairs a replica that missed writes.

Starts a local cluster (default 5 nodes, N=3) whose node-to-node links go through Toxiproxy
(one proxy per ordered pair), then measures two things:

1. **Anti-entropy.** Every link *into* one node (the victim) is cut while its own links out stay
   up, so its peers keep hearing it, never suspect it, and write no hints: the writes of
   ``--keys`` keys simply never reach it. After the heal, no client reads anything; the time
   until every replica of every key agrees is what Merkle-tree anti-entropy alone takes, at
   the anti-entropy interval given (``--anti-entropy-interval-ms``).
2. **Hinted handoff.** The victim is killed (``kill -9``), ``--keys`` more keys are written
   (the fallbacks keep the victim's share as hints), the victim restarts, and the time until
   the last hint has been handed off and deleted gives the delivery rate in hints per second.

"All replicas agree" is checked through the admin ``merkle`` op: every partition's primaries
report the same Merkle root, and no node holds hints or data it no longer owns. Does process and
network I/O; prints figures, never passes or fails.

    .venv/bin/python bench/recovery_bench.py [--keys 10000] [--anti-entropy-interval-ms 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cluster.core import ClusterConfig, Ring
from cluster.net import AsyncClient, Client, ClientError, LocalCluster
from nemesis.network import ProxyNet
from nemesis.toxiproxy import ToxiproxyClient, ToxiproxyProcess

POLL_S = 0.05


def admin(client: Client, node: str, op: str) -> Any:
    return client.admin(node, op, timeout_ms=5000)


def replicas_agree(client: Client, ring: Ring, nodes: Sequence[str], n: int) -> bool:
    reports = {node: admin(client, node, "merkle") for node in nodes}
    if any(r["hints"] or r["misplaced"] for r in reports.values()):
        return False
    return all(
        len({reports[p]["roots"][str(partition)] for p in ring.partition_primaries(partition, n)})
        == 1
        for partition in range(ring.partitions)
    )


def total_hints(client: Client, nodes: Sequence[str]) -> int:
    return sum(sum(admin(client, node, "status")["hints"].values()) for node in nodes)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll ``check`` until true; the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"timed out after {timeout_s:g} s waiting until {what}")
        time.sleep(POLL_S)
    return time.monotonic() - started


class HintSampler(threading.Thread):
    """Samples the total hints held by ``nodes`` until there are none (its own client: ZeroMQ
    sockets are not shared between threads)."""

    def __init__(self, endpoints: dict[str, str], nodes: Sequence[str]) -> None:
        super().__init__(daemon=True)
        self.endpoints = endpoints
        self.nodes = list(nodes)
        self.samples: list[tuple[float, int]] = []

    def run(self) -> None:
        with Client(self.endpoints, timeout_ms=5000) as client:
            while True:
                count = total_hints(client, self.nodes)
                self.samples.append((time.monotonic(), count))
                if count == 0:
                    return
                time.sleep(POLL_S / 5)

    def delivery_window(self) -> tuple[float, float]:
        """When the first hint went (the last sample still holding all of them) and when the
        last one did."""
        if not self.samples or self.samples[-1][1] != 0:
            raise RuntimeError("the hints were not all delivered in time")
        initial = self.samples[0][1]
        before = [t for t, count in self.samples if count == initial]
        return before[-1], self.samples[-1][0]


async def write_keys(
    endpoints: dict[str, str],
    ring: Ring,
    n: int,
    keys: Sequence[str],
    value: str,
    avoid: str,
    concurrency: int,
) -> int:
    """Write every key through one of its primaries other than ``avoid``; the failures."""
    client = AsyncClient(endpoints, timeout_ms=5000)
    queue = list(keys)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while queue:
            key = queue.pop()
            coordinator = next(p for p in ring.primaries(key, n) if p != avoid)
            try:
                await client.put(key, value, node=coordinator)
            except ClientError:
                failures += 1

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await client.close()
    return failures


def run(args: argparse.Namespace, directory: Path) -> None:
    nodes = tuple(f"n{i}" for i in range(1, args.nodes + 1))
    victim = args.victim or nodes[-1]
    config = ClusterConfig(
        nodes=nodes,
        n=args.n,
        partitions=args.partitions,
        anti_entropy_interval_ms=args.anti_entropy_interval_ms,
        handoff_interval_ms=args.handoff_interval_ms,
    )
    ring = Ring.build(nodes, config.partitions)
    others = [node for node in nodes if node != victim]
    value = "v" * args.value_bytes
    print(
        f"recovery: {len(nodes)} nodes, N={config.n}, {config.partitions} partitions,"
        f" {args.keys} keys of {args.value_bytes} bytes; anti-entropy interval"
        f" {config.anti_entropy_interval_ms} ms, handoff interval {config.handoff_interval_ms} ms"
    )
    with ToxiproxyProcess(log_path=directory / "toxiproxy.log") as toxiproxy:
        net = ProxyNet(ToxiproxyClient(toxiproxy.url), nodes, prefix="recovery-bench-")
        cluster = LocalCluster(directory / "cluster", config, dial=net.dial, seed=args.seed)
        net.setup(cluster.ports)
        try:
            with cluster, Client(cluster.endpoints, timeout_ms=5000) as client:
                cluster.start()
                wait_until(
                    lambda: all(len(admin(client, x, "status")["up"]) == len(nodes) for x in nodes),
                    30,
                    "every node sees every other up",
                )
                # ------------------------------------------------ 1. anti-entropy
                net.cut([(x, victim) for x in others], "refuse")
                keys = [f"aae-{i}" for i in range(args.keys)]
                started = time.monotonic()
                failed = asyncio.run(
                    write_keys(
                        cluster.endpoints, ring, config.n, keys, value, victim, args.concurrency
                    )
                )
                load_s = time.monotonic() - started
                missed = sum(1 for k in keys if victim in ring.primaries(k, config.n))
                hints = total_hints(client, nodes)
                print(
                    f"anti-entropy: wrote {len(keys) - failed} keys in {load_s:.1f} s"
                    f" ({failed} failed) while {victim} heard nothing; it missed {missed}"
                    f" (it holds {admin(client, victim, 'merkle')['keys']}), hints written: {hints}"
                )
                net.uncut()
                took = wait_until(
                    lambda: replicas_agree(client, ring, nodes, config.n),
                    args.timeout_s,
                    "all replicas agree",
                )
                print(
                    f"anti-entropy: after the heal, every replica of every key agreed in"
                    f" {took:.2f} s (interval {config.anti_entropy_interval_ms} ms);"
                    f" {victim} now holds {admin(client, victim, 'merkle')['keys']} keys"
                )
                # ------------------------------------------------ 2. hinted handoff
                cluster.kill(victim)
                wait_until(
                    lambda: all(victim not in admin(client, x, "status")["up"] for x in others),
                    30,
                    f"every node sees {victim} down",
                )
                keys = [f"hint-{i}" for i in range(args.keys)]
                failed = asyncio.run(
                    write_keys(
                        cluster.endpoints, ring, config.n, keys, value, victim, args.concurrency
                    )
                )
                hints = total_hints(client, others)
                print(
                    f"hinted handoff: wrote {len(keys) - failed} keys ({failed} failed) with"
                    f" {victim} down: {hints} hints held for it"
                )
                sampler = HintSampler(cluster.endpoints, others)
                sampler.start()
                boot = time.monotonic()
                cluster.start_node(victim)
                sampler.join(args.timeout_s)
                first, last = sampler.delivery_window()
                agreed_s = (
                    time.monotonic()
                    - boot
                    + wait_until(
                        lambda: replicas_agree(client, ring, nodes, config.n),
                        args.timeout_s,
                        "all replicas agree",
                    )
                )
                span = max(last - first, POLL_S)
                print(
                    f"hinted handoff: {hints} hints delivered and deleted within {span:.2f} s"
                    f" of the first delivery ({first - boot:.2f} s after the restart began):"
                    f" {hints / span:,.0f} hints/s; all replicas agreed {agreed_s:.2f} s after"
                    " the restart began"
                )
        finally:
            net.teardown()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--value-bytes", type=int, default=100)
    parser.add_argument("--anti-entropy-interval-ms", type=int, default=2000)
    parser.add_argument("--handoff-interval-ms", type=int, default=1000)
    parser.add_argument("--victim", default=None, help="the node that misses writes (last)")
    parser.add_argument("--concurrency", type=int, default=32, help="writes in flight")
    parser.add_argument("--timeout-s", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="keep the cluster here")
    args = parser.parse_args(argv)
    if args.nodes < args.n + 1:
        parser.error(f"--nodes must exceed --n ({args.n}) so that fallbacks exist")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zynamo-recovery-") as tmp:
        run(args, args.dir or Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
