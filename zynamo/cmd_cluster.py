"""`zynamo cluster start|status|stop|kill|join|leave`: run a local cluster in the background
from a directory.

``start`` writes ``DIR/cluster.json`` (settings, ports, pids) and starts one node process per
node, each in its own session so it outlives the command, with its data and ``node.log`` in
``DIR/<node>/``. Run against a directory whose cluster is (partly) stopped, it starts the
stopped nodes again on their old data and ports. ``status`` prints every node's pid, port,
generation, membership status, ring version, keys and hints held, and each node's own view of
which peers are up (with their phi); ``stop`` stops them all; ``kill`` sends one node SIGKILL
(``kill -9``). ``join`` adds a node (a new one, or one that left) and waits until the ring
includes it and the partitions it takes have been handed to it; ``leave NODE`` has a node hand
its data to the others and stops it. Does process, file and network I/O.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cluster.core import DEFAULT_PARTITIONS, VERSIONINGS, ClusterConfig
from cluster.net import CLUSTER_FILE, Client, ClientError, ClusterError, LocalCluster
from cluster.storage import SYNC_MODES
from zynamo.cli import EXIT_HARNESS_FAILED, EXIT_INVALID, ArgumentParser, UsageError

STATUS_TIMEOUT_MS = 1000


def _number_type(
    convert: Callable[[str], Any], accept: Callable[[Any], bool], what: str
) -> Callable[[str], Any]:
    """An argparse ``type`` that converts with ``convert`` and accepts only what ``accept``
    says, naming ``what`` was expected otherwise."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


positive_int = _number_type(int, lambda v: v >= 1, "a positive integer")
non_negative_int = _number_type(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number_type(float, lambda v: v > 0, "a positive number of seconds")


def load_cluster(directory: Path) -> LocalCluster:
    """The cluster recorded in ``directory``; a usage error naming ``--dir`` if there is none."""
    try:
        return LocalCluster.load(directory)
    except ClusterError as err:
        raise UsageError(f"--dir {directory}: {err}") from None


# --------------------------------------------------------------------------- start


def config_from_args(args: argparse.Namespace) -> ClusterConfig:
    # Defaults N=3 R=2 W=2, shrunk to fit a smaller cluster.
    n = min(3, args.nodes) if args.n is None else args.n
    if n > args.nodes:
        raise UsageError(f"--n {n}: cannot exceed --nodes {args.nodes}")
    try:
        return ClusterConfig(
            nodes=tuple(f"n{i}" for i in range(1, args.nodes + 1)),
            partitions=args.partitions,
            n=n,
            r=min(2, n) if args.r is None else args.r,
            w=min(2, n) if args.w is None else args.w,
            pr=args.pr,
            pw=args.pw,
            versioning=args.versioning,
            gossip_interval_ms=args.gossip_interval_ms,
            anti_entropy_interval_ms=args.anti_entropy_interval_ms,
            handoff_interval_ms=args.handoff_interval_ms,
            tombstone_grace_ms=args.tombstone_grace_ms,
        )
    except ValueError as err:  # names the setting, which is the option of the same name
        raise UsageError(f"bad cluster settings: --{err}") from None


def start(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    if (directory / CLUSTER_FILE).exists():
        cluster = load_cluster(directory)
        stopped = [n for n in cluster.nodes if not cluster.is_running(n)]
        if not stopped:
            raise UsageError(
                f"--dir {directory}: its cluster is already running;"
                f" stop it first with `zynamo cluster stop --dir {directory}`"
            )
        print(
            f"restarting {', '.join(stopped)} of the cluster in {directory}"
            " on its data and recorded settings (other options are ignored)"
        )
    else:
        from zynamo.preflight import directory_problem

        config = config_from_args(args)  # validated first: a refused command creates nothing
        problem = directory_problem("--dir", directory)
        if problem:
            raise UsageError(problem)
        cluster = LocalCluster(
            directory, config, base_port=args.base_port, seed=args.seed, sync=args.sync, detach=True
        )
    try:
        cluster.start()
    except ClusterError as err:
        print(f"zynamo cluster start: {err}")
        return EXIT_HARNESS_FAILED
    print(f"cluster running in {cluster.directory}:")
    for name in cluster.nodes:
        print(f"  {name}  pid {cluster.pid(name):<7}  {cluster.endpoints[name]}")
    print(f"stop it with: zynamo cluster stop --dir {directory}")
    return 0


# --------------------------------------------------------------------------- status


def print_table(rows: Sequence[Sequence[str]], indent: str = "") -> None:
    """Aligned columns; the first row is the heading."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(indent + line.rstrip())


def status(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.dir)
    c = cluster.config
    left = sorted(cluster.departed)
    print(
        f"cluster in {cluster.directory}: {len(cluster.nodes)} nodes, N={c.n} R={c.r} W={c.w}"
        f" PR={c.pr} PW={c.pw}, {c.versioning}, {c.partitions} partitions"
        + (f"; left: {', '.join(left)}" if left else "")
    )
    rows = [("node", "pid", "port", "state", "gen", "sees up")]
    views: dict[str, dict[str, Any]] = {}
    with Client(cluster.endpoints, timeout_ms=STATUS_TIMEOUT_MS) as client:
        for name in cluster.nodes:
            running = cluster.is_running(name)
            pid = str(cluster.pids[name]) if running and name in cluster.pids else "-"
            state, generation, up = ("running" if running else "stopped"), "-", "-"
            if running:
                try:
                    info = client.admin(name, "status")
                except ClientError as err:
                    state = "no answer" if not err.definite else "unreachable"
                else:
                    views[name] = info
                    generation = str(info.get("generation", "?"))
                    up = " ".join(info.get("up", [])) or "(none)"
                    pid = str(info.get("pid", pid))
            rows.append((name, pid, str(cluster.ports[name]), state, generation, up))
    print_table(rows)
    if views:
        print_views(views)
    return 0 if len(views) == len(cluster.nodes) else EXIT_INVALID


def print_views(views: dict[str, dict[str, Any]]) -> None:
    """Each node's own view: phi of every peer (how unlikely its silence is, log10) with a
    ``*`` where it considers that peer down and the generation it knows of it; then its own
    membership status, ring version, and the keys and hints it holds."""
    peers = sorted({p for info in views.values() for p in info.get("peers", {})} | set(views))
    print(
        "views, one row per node (phi of each peer, * = suspected down, @g = generation seen;"
        " status, ring version, keys and hints held):"
    )
    rows: list[tuple[str, ...]] = [("view", *peers, "status", "ring", "keys", "hints")]
    for observer, info in sorted(views.items()):
        cells = []
        for peer in peers:
            seen = info.get("peers", {}).get(peer)
            if peer == observer:
                cells.append("-")
            elif seen is None or seen.get("status") == "left":
                cells.append("")
            else:
                phi = seen.get("phi")
                mark = "" if seen.get("up") else "*"
                shown = "?" if phi is None else (f"{phi:.1f}" if phi < 1e6 else "inf")
                cells.append(f"{shown}{mark}@{seen.get('generation', '?')}")
        own = (
            str(info.get("status", "?")),
            f"v{info.get('ring_version', '?')}",
            str(info.get("keys", "?")),
            str(sum(info.get("hints", {}).values())),
        )
        rows.append((f"seen by {observer}", *cells, *own))
    print_table(rows, indent="  ")


# --------------------------------------------------------------------------- stop and kill


def stop(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.dir)
    running = {n: cluster.pids[n] for n in cluster.nodes if cluster.is_running(n)}
    if not running:
        print(f"no node of the cluster in {cluster.directory} was running")
        return 0
    cluster.stop()
    left = [n for n in running if cluster.is_running(n)]
    if left:
        print(f"could not stop {', '.join(left)}")
        return EXIT_HARNESS_FAILED
    print("stopped " + ", ".join(f"{n} (pid {pid})" for n, pid in running.items()))
    return 0


def kill(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.dir)
    if args.node not in cluster.nodes:
        raise UsageError(f"--node {args.node!r}: not in the cluster ({', '.join(cluster.nodes)})")
    if not cluster.is_running(args.node):
        raise UsageError(f"--node {args.node}: not running")
    pid = cluster.pid(args.node)
    cluster.kill(args.node)
    print(f"killed {args.node} (pid {pid}) with SIGKILL; `zynamo cluster start` restarts it")
    return 0


# --------------------------------------------------------------------------- join and leave


def join(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.dir)
    if args.node is not None and args.node in cluster.nodes:
        raise UsageError(f"--node {args.node}: already a member ({', '.join(cluster.nodes)})")
    try:
        name = cluster.join(args.node)
        print(f"{name} started (pid {cluster.pid(name)}, {cluster.endpoints[name]}); joining")
        if args.no_wait:
            return 0
        cluster.wait_settled(args.timeout)
        print(f"the ring now holds {', '.join(cluster.nodes)}; partitions are moving by handoff")
        wait_handed_off(cluster, args.timeout)
    except ClusterError as err:
        print(f"zynamo cluster join: {err}")
        return EXIT_HARNESS_FAILED
    print(f"{name} has joined: every partition is on its new owners")
    return 0


def wait_handed_off(cluster: LocalCluster, timeout_s: float) -> None:
    """Wait until no running node holds data of partitions it no longer replicates."""
    deadline = time.monotonic() + timeout_s
    with Client(cluster.endpoints, timeout_ms=STATUS_TIMEOUT_MS) as client:
        while True:
            try:
                live = [n for n in cluster.nodes if cluster.is_running(n)]
                if not any(client.admin(n, "merkle")["misplaced"] for n in live):
                    return
            except ClientError:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"partitions still moving after {timeout_s:g} s")
            time.sleep(0.2)


def leave(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.dir)
    if args.node not in cluster.nodes:
        raise UsageError(f"NODE {args.node!r}: not in the cluster ({', '.join(cluster.nodes)})")
    try:
        handed_off = cluster.leave(args.node, args.timeout)
    except ClusterError as err:
        print(f"zynamo cluster leave: {err}")
        return EXIT_HARNESS_FAILED
    how = (
        "handed its data to the others and was stopped"
        if handed_off
        else "was not running: removed without handoff (the other replicas remain)"
    )
    print(
        f"{args.node} {how}; the cluster is {', '.join(cluster.nodes)}"
        f" (`zynamo cluster join --node {args.node} --dir {args.dir}` brings it back)"
    )
    return 0


# --------------------------------------------------------------------------- parser


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cluster", help="start, inspect and stop a local cluster")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True

    p = actions.add_parser(
        "start",
        help="start a cluster in the background (or restart the stopped nodes of one)",
        description="Start S node processes on loopback ports, with their data and logs in"
        " DIR/<node>/, and return once every node answers. On a directory that already holds"
        " a cluster, start its stopped nodes again on their data.",
    )
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.add_argument("--nodes", type=positive_int, default=5, help="number of nodes (default 5)")
    p.add_argument("--n", type=positive_int, default=None, help="replicas per key (default 3)")
    p.add_argument("--r", type=positive_int, default=None, help="read quorum (default 2)")
    p.add_argument("--w", type=positive_int, default=None, help="write quorum (default 2)")
    p.add_argument("--pr", type=non_negative_int, default=0, help="primaries a read needs")
    p.add_argument("--pw", type=non_negative_int, default=0, help="primaries a write needs")
    p.add_argument("--versioning", choices=VERSIONINGS, default="dvv")
    p.add_argument("--partitions", type=positive_int, default=DEFAULT_PARTITIONS)
    defaults = ClusterConfig(nodes=("n1",))
    p.add_argument(
        "--gossip-interval-ms",
        type=positive_int,
        default=defaults.gossip_interval_ms,
        help=f"gossip round interval (default {defaults.gossip_interval_ms})",
    )
    p.add_argument(
        "--anti-entropy-interval-ms",
        type=non_negative_int,
        default=defaults.anti_entropy_interval_ms,
        help="Merkle-tree exchange interval, 0 for none"
        f" (default {defaults.anti_entropy_interval_ms})",
    )
    p.add_argument(
        "--handoff-interval-ms",
        type=positive_int,
        default=defaults.handoff_interval_ms,
        help=f"hinted and partition handoff interval (default {defaults.handoff_interval_ms})",
    )
    p.add_argument(
        "--tombstone-grace-ms",
        type=non_negative_int,
        default=defaults.tombstone_grace_ms,
        help="how long every replica must hold a tombstone before it is reaped"
        f" (default {defaults.tombstone_grace_ms})",
    )
    p.add_argument("--sync", choices=SYNC_MODES, default="normal", help="SQLite synchronous")
    p.add_argument("--seed", type=int, default=0, help="seed of the nodes' random generators")
    p.add_argument(
        "--base-port", type=positive_int, default=None, help="node i listens on BASE_PORT+i-1"
    )
    p.set_defaults(handler=start)

    p = actions.add_parser(
        "status",
        help="every node's pid, port, generation, status, and its view of who is up",
        description="Print a table of the cluster's nodes. Exits 0 if every node answered,"
        " 1 otherwise.",
    )
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.set_defaults(handler=status)

    p = actions.add_parser("stop", help="stop every node (SIGTERM, then SIGKILL)")
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.set_defaults(handler=stop)

    p = actions.add_parser("kill", help="kill -9 one node (restart it with `cluster start`)")
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.add_argument("--node", required=True, help="the node to kill, e.g. n2")
    p.set_defaults(handler=kill)

    p = actions.add_parser(
        "join",
        help="add a node to the cluster (a new one, or one that left)",
        description="Start a node that joins the ring through the seeds, then wait until"
        " every node has the new ring and the partitions that moved have been handed off.",
    )
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.add_argument("--node", default=None, help="its name (default: the next free nK)")
    p.add_argument(
        "--timeout", type=positive_float, default=120.0, help="seconds to wait (default 120)"
    )
    p.add_argument("--no-wait", action="store_true", help="return once the node is running")
    p.set_defaults(handler=join)

    p = actions.add_parser(
        "leave",
        help="remove a node: it hands its data to the others, then stops",
        description="Take NODE out of the ring, wait until it has handed all its data to the"
        " new owners (if it is down, until the others no longer count on it), and stop it.",
    )
    p.add_argument("node", metavar="NODE", help="the node to remove, e.g. n3")
    p.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    p.add_argument(
        "--timeout", type=positive_float, default=120.0, help="seconds to wait (default 120)"
    )
    p.set_defaults(handler=leave)
