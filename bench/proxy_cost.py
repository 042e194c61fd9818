"""Benchmark: what the per-link proxies cost the cluster, in one run.

Measures the cluster benchmark's closed loop (``bench/cluster_bench.py``: by default 16
concurrent clients, half gets, 200-byte values, 5 nodes, N=3 R=2 W=2) twice, on two fresh
clusters: once with the nodes dialling each other directly, once with every node-to-node link
through its own proxy on the embedded Toxiproxy (a child process, as in ``zynamo test``; or a
real one with ``--toxiproxy URL``), without toxics. Clients reach the nodes directly in both,
as in a test run. Prints both throughputs and their ratio, and the CPU each operation cost
(nodes, client and proxy), which a busy shared machine disturbs much less than throughput.
Does process and network I/O; prints figures, never passes or fails.

    .venv/bin/python bench/proxy_cost.py [--rounds 1] [--toxiproxy URL] [cluster_bench options]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the ``bench`` directory importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster_bench import (
    CpuUse,
    Tally,
    measure,
    parse_args,
    process_cpu_s,
    report,
    run_load,
)
from cluster.core import ClusterConfig
from cluster.net import LocalCluster
from nemesis.network import ProxyNet
from nemesis.toxiproxy import ToxiproxyClient, ToxiproxyProcess

MODES = ("direct", "proxied")


@dataclass
class Figures:
    """One measured run: its tally and time, and the CPU it cost (the proxy's included)."""

    tally: Tally
    elapsed_s: float
    cpu: CpuUse
    proxy_cpu_s: float

    @property
    def ok(self) -> int:
        return sum(len(v) for v in self.tally.latencies_ms.values())

    @property
    def ops_per_s(self) -> float:
        return self.ok / self.elapsed_s

    @property
    def cpu_us_per_op(self) -> float:
        """Node, client and proxy CPU per successful operation: what the cluster costs, whatever
        else the machine is busy with."""
        spent = self.cpu.nodes_s + self.cpu.client_s + self.proxy_cpu_s
        return spent / max(self.ok, 1) * 1e6


def run_mode(
    mode: str,
    config: ClusterConfig,
    args: argparse.Namespace,
    toxiproxy: ToxiproxyClient,
    proxy_pid: int | None,
) -> Figures:
    """One fresh cluster, wired ``mode``, under the cluster benchmark's closed loop."""
    with tempfile.TemporaryDirectory(prefix=f"zynamo-proxy-cost-{mode}-") as tmp:
        net = None
        if mode == "proxied":
            net = ProxyNet(toxiproxy, config.nodes, prefix=f"proxy-cost-{os.getpid()}-")
        cluster = LocalCluster(
            Path(tmp), config, dial=net.dial if net is not None else None, seed=args.seed
        )
        try:
            if net is not None:
                net.setup(cluster.ports)
            with cluster:
                cluster.start()
                if args.warmup > 0:
                    asyncio.run(run_load(cluster.endpoints, config, args, args.warmup, Tally()))
                tally = Tally()
                proxy_before = process_cpu_s(proxy_pid) if proxy_pid else 0.0
                elapsed, cpu = measure(
                    cluster,
                    lambda: asyncio.run(
                        run_load(cluster.endpoints, config, args, args.seconds, tally)
                    ),
                )
                proxy_cpu = process_cpu_s(proxy_pid) - proxy_before if proxy_pid else 0.0
        finally:
            if net is not None:
                net.teardown()
    return Figures(tally, elapsed, cpu, proxy_cpu)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main(argv: Sequence[str] | None = None) -> int:
    ours = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Other options are the cluster benchmark's (bench/cluster_bench.py --help).",
    )
    ours.add_argument("--rounds", type=int, default=1, help="direct/proxied pairs to measure")
    ours.add_argument("--toxiproxy", default=None, help="URL of a Toxiproxy to use instead")
    mine, rest = ours.parse_known_args(argv)
    if mine.rounds < 1:
        ours.error(f"--rounds: must be at least 1, got {mine.rounds}")
    args = parse_args(rest)
    config = ClusterConfig(
        nodes=tuple(f"n{i}" for i in range(1, args.nodes + 1)), n=args.n, r=args.r, w=args.w
    )
    runs: dict[str, list[Figures]] = {mode: [] for mode in MODES}
    with ToxiproxyProcess() as embedded:
        toxiproxy = ToxiproxyClient(mine.toxiproxy or embedded.url)
        proxy_pid = None if mine.toxiproxy else embedded.pid
        for round_number in range(1, mine.rounds + 1):
            for mode in MODES:  # alternated, so a busy neighbour hurts both alike
                figures = run_mode(mode, config, args, toxiproxy, proxy_pid)
                runs[mode].append(figures)
                print(f"--- round {round_number}, {mode} node-to-node links ---")
                report(figures.tally, figures.elapsed_s, figures.cpu, args)
                if mode == "proxied" and proxy_pid:
                    print(f"proxy cpu: {figures.proxy_cpu_s / max(figures.ok, 1) * 1e6:,.0f} us/op")
    where = mine.toxiproxy or "the embedded Toxiproxy (a child process)"
    throughput = {mode: mean([f.ops_per_s for f in runs[mode]]) for mode in MODES}
    cpu = {mode: mean([f.cpu_us_per_op for f in runs[mode]]) for mode in MODES}
    print(f"=== proxy cost ({mine.rounds} round(s); proxies on {where}) ===")
    for mode in MODES:
        print(f"{mode + ' links:':15} {throughput[mode]:8,.0f} ops/s  {cpu[mode]:6,.0f} us cpu/op")
    print(f"throughput ratio proxied/direct: {throughput['proxied'] / throughput['direct']:.2f}")
    if proxy_pid:
        print(f"cpu per op ratio proxied/direct: {cpu['proxied'] / cpu['direct']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
