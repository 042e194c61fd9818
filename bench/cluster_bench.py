"""Cluster benchmark: throughput and latency of a local Zynamo cluster under a closed loop.

Starts a local cluster (default 5 nodes, N=3 R=2 W=2) in a temporary directory, runs a closed
loop of concurrent clients (default 16 asyncio tasks sharing one ``AsyncClient``) for a fixed
time, half gets and half puts of 200-byte values over a key space, then prints throughput and
p50/p99 latency for gets and puts separately, and error counts. Each put writes back the
context of the last get of its key, as a read-modify-write client would, so siblings stay few.
Does process and network I/O; prints figures, never passes or fails.

    .venv/bin/python bench/cluster_bench.py [--seconds 10] [--rounds 3] [--clients 16] [--nodes 5]
        [--journal on|off|both]

``--journal both`` measures the cost of the nodes' event journal (``cluster.core.journal``):
two clusters, one with it on and one with it off, run side by side and take turns, round by
round (the same neighbours for both), and the medians of each are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cluster.core import ClusterConfig, Ring
from cluster.net import AsyncClient, ClientError, LocalCluster

# The target on a 2-core machine.
TARGET_OPS = 2000
TARGET_P99_MS = 20


@dataclass
class Tally:
    """Latencies (ms) of successful operations and counts of failed ones, by kind."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"get": [], "put": []})
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str, err: ClientError) -> None:
        label = f"{kind} {'definite' if err.definite else 'indefinite'}"
        self.errors[label] = self.errors.get(label, 0) + 1


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


async def client_loop(
    client: AsyncClient,
    rng: random.Random,
    keys: int,
    value: str,
    get_ratio: float,
    stop_at: float,
    contexts: dict[str, str],
    tally: Tally,
) -> None:
    """One closed-loop client: the next request starts when the previous one has finished."""
    while time.perf_counter() < stop_at:
        key = f"k{rng.randrange(keys)}"
        kind = "get" if rng.random() < get_ratio else "put"
        started = time.perf_counter()
        try:
            if kind == "get":
                result = await client.get(key)
                contexts[key] = result.context
            else:
                await client.put(key, value, context=contexts.get(key, ""))
        except ClientError as err:
            tally.error(kind, err)
            continue
        tally.latencies_ms[kind].append((time.perf_counter() - started) * 1000)


async def run_load(
    endpoints: dict[str, str],
    config: ClusterConfig,
    args: argparse.Namespace,
    seconds: float,
    tally: Tally,
) -> float:
    """Run the closed loop for ``seconds``; return the elapsed wall time."""
    ring = Ring.build(config.nodes, config.partitions) if args.route == "primary" else None
    client = AsyncClient(
        endpoints, timeout_ms=args.timeout_ms, rng=random.Random(args.seed), ring=ring, n=config.n
    )
    contexts: dict[str, str] = {}
    value = "v" * args.value_bytes
    try:
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(
            *(
                client_loop(
                    client,
                    random.Random(args.seed * 1000 + i),
                    args.keys,
                    value,
                    args.get_ratio,
                    stop_at,
                    contexts,
                    tally,
                )
                for i in range(args.clients)
            )
        )
        return time.perf_counter() - started
    finally:
        await client.close()


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> list[int]:
    """The machine's CPU time counters (``/proc/stat``: user, nice, system, idle, iowait, irq,
    softirq, steal, ...), or nothing where there are none."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return []


@dataclass
class CpuUse:
    """CPU seconds the nodes and this client process spent during the measured run, and the
    share of the machine's CPU time the hypervisor gave to others (steal)."""

    nodes_s: float
    client_s: float
    steal: float | None = None


def measure(cluster: LocalCluster, run: Callable[[], float]) -> tuple[float, CpuUse]:
    """Run ``run`` (which returns its elapsed time) and account the CPU it cost."""
    pids = [cluster.pid(n) for n in cluster.nodes]
    nodes_before = sum(process_cpu_s(pid) for pid in pids)
    client_before = time.process_time()
    ticks_before = machine_ticks()
    elapsed = run()
    ticks = [b - a for a, b in zip(ticks_before, machine_ticks(), strict=False)]
    total_ticks = sum(ticks)
    cpu = CpuUse(
        nodes_s=sum(process_cpu_s(pid) for pid in pids) - nodes_before,
        client_s=time.process_time() - client_before,
        steal=ticks[7] / total_ticks if len(ticks) > 7 and total_ticks else None,
    )
    return elapsed, cpu


def report(tally: Tally, elapsed_s: float, cpu: CpuUse, args: argparse.Namespace) -> None:
    total = sum(len(v) for v in tally.latencies_ms.values())
    print(
        f"cluster: {args.nodes} nodes, N={args.n} R={args.r} W={args.w};"
        f" {args.clients} clients, {args.value_bytes}-byte values, {args.keys} keys,"
        f" {args.get_ratio:.0%} gets, coordinator {args.route}, {elapsed_s:.1f} s"
    )
    print(f"throughput: {total / elapsed_s:,.0f} ops/s ({total} ok operations)")
    for kind, values in tally.latencies_ms.items():
        ordered = sorted(values)
        mean = statistics.fmean(ordered) if ordered else float("nan")
        print(
            f"{kind}: {len(ordered) / elapsed_s:,.0f} ops/s, latency ms"
            f" p50 {percentile(ordered, 0.50):.2f}  p99 {percentile(ordered, 0.99):.2f}"
            f"  max {ordered[-1] if ordered else float('nan'):.2f}  mean {mean:.2f}"
        )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(tally.errors.items())) or "none"
    print(f"errors: {errors}")
    if total:
        # On a shared machine throughput depends on the neighbours; CPU per operation does not
        # (much), and says what the cores could sustain if they were all ours.
        nodes_us = cpu.nodes_s / total * 1e6
        client_us = cpu.client_s / total * 1e6
        cores = os.cpu_count() or 1
        print(
            f"cpu per operation: nodes {nodes_us:,.0f} us, client {client_us:,.0f} us"
            f" -> at most {cores / (cpu.nodes_s + cpu.client_s) * total:,.0f} ops/s"
            f" on {cores} idle cores; load average at the end {os.getloadavg()[0]:.1f}"
        )
    if cpu.steal is not None:
        # On a virtual machine the host may run others on our cores: time we never saw.
        print(f"cpu steal during the run (the hypervisor's other guests): {cpu.steal:.1%}")
    print(
        f"target (>= {TARGET_OPS:,} ops/s, p99 < {TARGET_P99_MS} ms): {summary(tally, elapsed_s)}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measured runs on the same cluster (median shown)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up seconds")
    parser.add_argument("--clients", type=int, default=16, help="concurrent closed-loop clients")
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--r", type=int, default=2)
    parser.add_argument("--w", type=int, default=2)
    parser.add_argument("--keys", type=int, default=1000, help="size of the key space")
    parser.add_argument("--value-bytes", type=int, default=200)
    parser.add_argument("--get-ratio", type=float, default=0.5)
    parser.add_argument("--timeout-ms", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--route",
        choices=("primary", "random"),
        default="primary",
        help="coordinator choice: one of the key's primaries (a partition-aware client, Dynamo"
        " §4.5; default) or any node (which forwards when it is not a primary)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep the cluster here")
    parser.add_argument(
        "--journal",
        choices=("on", "off", "both"),
        default="on",
        help="the nodes' event journal; both: a cluster with it and one without, alternating"
        " rounds, and the throughput of each",
    )
    return parser.parse_args(argv)


def bench_config(args: argparse.Namespace, journal: bool) -> ClusterConfig:
    return ClusterConfig(
        nodes=tuple(f"n{i}" for i in range(1, args.nodes + 1)),
        n=args.n,
        r=args.r,
        w=args.w,
        journal_events=ClusterConfig.journal_events if journal else 0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.journal == "both":
        return journal_ab(args)
    config = bench_config(args, args.journal == "on")
    with tempfile.TemporaryDirectory(prefix="zynamo-bench-") as tmp:
        directory = args.dir or Path(tmp)
        with LocalCluster(directory, config, seed=args.seed) as cluster:
            cluster.start()
            if args.warmup > 0:
                asyncio.run(run_load(cluster.endpoints, config, args, args.warmup, Tally()))
            rounds = []
            for number in range(1, args.rounds + 1):
                tally = Tally()

                def one_round(tally: Tally = tally) -> float:
                    return asyncio.run(
                        run_load(cluster.endpoints, config, args, args.seconds, tally)
                    )

                elapsed, cpu = measure(cluster, one_round)
                rounds.append((tally, elapsed, cpu))
                if args.rounds > 1:
                    print(f"round {number}: {summary(tally, elapsed, cpu)}", flush=True)
    # Several rounds on the same cluster: the whole report for the median round by
    # throughput, since neighbours on a shared machine move single runs by a tenth or more.
    rounds.sort(key=lambda r: sum(len(v) for v in r[0].latencies_ms.values()) / r[1])
    tally, elapsed, cpu = rounds[len(rounds) // 2]
    if args.rounds > 1:
        print(f"median round of {args.rounds}:")
    report(tally, elapsed, cpu, args)
    return 0


def journal_ab(args: argparse.Namespace) -> int:
    """The journal on and off, side by side: two clusters, rounds alternating between them."""
    throughput: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="zynamo-bench-") as tmp:
        clusters = {
            name: LocalCluster(Path(tmp) / name, bench_config(args, name == "on"), seed=args.seed)
            for name in ("on", "off")
        }
        try:
            for cluster in clusters.values():
                cluster.start()
            for name, cluster in clusters.items():
                config = bench_config(args, name == "on")
                if args.warmup > 0:
                    asyncio.run(run_load(cluster.endpoints, config, args, args.warmup, Tally()))
            for number in range(1, args.rounds + 1):
                # Alternate which goes first, so a trend in the neighbours' load hits both.
                order = ("on", "off") if number % 2 else ("off", "on")
                for name in order:
                    cluster, tally = clusters[name], Tally()
                    config = bench_config(args, name == "on")

                    def one_round(
                        tally: Tally = tally,
                        cluster: LocalCluster = cluster,
                        config: ClusterConfig = config,
                    ) -> float:
                        return asyncio.run(
                            run_load(cluster.endpoints, config, args, args.seconds, tally)
                        )

                    elapsed, cpu = measure(cluster, one_round)
                    total = sum(len(v) for v in tally.latencies_ms.values())
                    throughput[name].append(total / elapsed)
                    print(f"round {number} journal {name}: {summary(tally, elapsed, cpu)}")
        finally:
            for cluster in clusters.values():
                cluster.stop()
    on, off = (statistics.median(throughput[k]) for k in ("on", "off"))
    print(
        f"median of {args.rounds} rounds: journal on {on:,.0f} ops/s, off {off:,.0f} ops/s;"
        f" the journal costs {(off - on) / off:.1%} of throughput"
    )
    return 0


def summary(tally: Tally, elapsed_s: float, cpu: CpuUse | None = None) -> str:
    """One line: throughput, the worse p99 of gets and puts, and whether the target was met."""
    total = sum(len(v) for v in tally.latencies_ms.values())
    p99 = max(percentile(sorted(v), 0.99) for v in tally.latencies_ms.values())
    met = total / elapsed_s >= TARGET_OPS and p99 < TARGET_P99_MS
    line = f"{total / elapsed_s:,.0f} ops/s, p99 {p99:.2f} ms, target {'met' if met else 'not met'}"
    if cpu is not None and cpu.steal is not None:
        line += f" (cpu steal {cpu.steal:.1%})"
    return line


if __name__ == "__main__":
    sys.exit(main())
