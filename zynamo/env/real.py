"""The real environment: local node processes (ZeroMQ, SQLite), each dialling its peers through
its own Toxiproxy proxies, so any link can be cut or slowed — or, with ``net="kernel"``
(``--net kernel``), each in its own network namespace, its links cut by nftables rules
(``nemesis.netns``, ``nemesis.kernel_net``; clients reach the nodes on Unix sockets).

Entering it starts Toxiproxy (the embedded server, or uses the one at ``toxiproxy_url``) and
creates one proxy per ordered pair of nodes; ``start`` starts the nodes; leaving it closes the
admin channel, deletes the proxies and stops the embedded Toxiproxy. Faults act on the
``LocalCluster`` (kill -9, SIGSTOP/SIGCONT, restart on the same data, join/leave), on the
``ProxyNet`` (cut, slow, toxics) and through the nodes' admin channel (clock offsets, message
faults in the node's transport). It also offers the optional capabilities of
``nemesis.environment``: ``StorageFaults`` (power loss with ``cluster.storage``'s model of
unsynced writes, a database file damaged), ``MessageFaults`` (the node's ``message-faults``
admin op) and ``Placement`` (a key's primaries, from the ring a live node holds). From
``start`` to ``stop`` a thread polls every node's event journal (``zynamo.env.journals``),
which ``collect_logs`` writes beside the logs. Does process, network and file I/O.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cluster.core import ClusterConfig, Ring
from cluster.net import AsyncClient, ClientError, ClusterError, LocalCluster
from cluster.storage import REFUSAL, damage_file, lose_unsynced_writes
from nemesis.environment import AdminChannel, Network
from nemesis.kernel_net import KernelNet
from nemesis.membership import MembershipCluster
from nemesis.netns import NamespaceTopology
from nemesis.network import ProxyNet
from nemesis.process import ProcessCluster
from nemesis.toxiproxy import open_toxiproxy
from workloads.client import Client
from workloads.protocol_client import ProtocolClient
from zynamo.env.journals import JournalCollector, JournalPoller
from zynamo.env.realtime import RealTime
from zynamo.options import NETS

DB_FILE = "data.sqlite3"  # a node's store in its directory (cluster.net.server)


class ProxiedMembership:
    """Join and leave on the ``LocalCluster``; a node that joins gets proxies for its links
    first, so every link of the newcomer can be cut and slowed like the others."""

    def __init__(self, cluster: LocalCluster, net: ProxyNet | KernelNet | None) -> None:
        self.cluster = cluster
        self.net = net

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.cluster.nodes

    def leave(self, node: str) -> Any:
        return self.cluster.leave(node)

    def join(self, node: str | None = None) -> Any:
        net = self.net
        if net is None:
            return self.cluster.join(node)

        def add_links(name: str, port: int) -> None:
            net.add_node(name, port)

        return self.cluster.join(node, before_start=add_links)


class RealEnvironment(RealTime):
    """``zynamo.env.base.Environment`` over local processes behind Toxiproxy."""

    def __init__(
        self,
        directory: Path,
        config: ClusterConfig,
        toxiproxy_url: str | None = None,
        seed: int | None = None,
        sync: str = "normal",
        net: str = "proxy",
    ) -> None:
        if net not in NETS:
            raise ValueError(f"--net: {net!r} is not one of {', '.join(NETS)}")
        self.net = net
        self.directory = directory
        self.config = config
        self.toxiproxy_url = toxiproxy_url
        self.seed = seed
        self.sync = sync
        self._stack = ExitStack()
        self._url = ""
        self._net: ProxyNet | KernelNet | None = None
        self._cluster: LocalCluster | None = None
        self._admin: AdminChannel | None = None
        self._journals: JournalPoller | None = None

    def __enter__(self) -> RealEnvironment:
        if self.net == "kernel":
            return self._enter_kernel()
        with ExitStack() as stack:
            toxiproxy = stack.enter_context(
                open_toxiproxy(
                    self.toxiproxy_url, seed=self.seed, log_path=self.directory / "toxiproxy.log"
                )
            )
            self._url = self.toxiproxy_url or toxiproxy.url
            net = ProxyNet(toxiproxy, self.config.nodes, prefix=f"zynamo-{os.getpid()}-")
            cluster = LocalCluster(
                self.directory / "cluster", self.config, dial=net.dial, sync=self.sync
            )
            net.setup(cluster.ports)
            stack.callback(net.teardown)
            admin = AdminChannel(cluster.endpoints)
            stack.callback(admin.close)
            self._net, self._cluster, self._admin = net, cluster, admin
            self._stack = stack.pop_all()
        return self

    def _enter_kernel(self) -> RealEnvironment:
        """Namespaces, then the cluster in them, then the rules' tables. Unwinding stops the
        nodes before their namespaces are deleted (a process would keep its namespace)."""
        with ExitStack() as stack:
            topology = stack.enter_context(NamespaceTopology())
            self._url = f"network namespaces {topology.prefix}*"
            cluster = LocalCluster(
                self.directory / "cluster", self.config, sync=self.sync, hosting=topology
            )
            stack.callback(cluster.stop)
            net = KernelNet(topology, self.config.nodes, lambda node: cluster.ports[node])
            admin = AdminChannel(cluster.endpoints)
            stack.callback(admin.close)
            self._net, self._cluster, self._admin = net, cluster, admin
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _running(self) -> LocalCluster:
        if self._cluster is None:
            raise RuntimeError("RealEnvironment: enter it (with ...) before using it")
        return self._cluster

    # --- FaultEnvironment

    @property
    def processes(self) -> ProcessCluster:
        return self._running()

    @property
    def network(self) -> Network | None:
        return self._net

    @property
    def membership(self) -> MembershipCluster | None:
        return ProxiedMembership(self._running(), self._net)

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        if self._admin is None:
            raise RuntimeError("RealEnvironment: enter it (with ...) before using it")
        return self._admin(node, op, **args)

    # --- optional fault capabilities (nemesis.environment)

    @property
    def sync_mode(self) -> str:
        return self.sync

    def _db_path(self, node: str) -> Path:
        return self._running().node_dir(node) / DB_FILE

    def power_loss(self, node: str) -> dict[str, Any]:
        """``kill -9``, then the disk keeps only what was synced (``lose_unsynced_writes``)."""
        self._running().kill(node)
        return lose_unsynced_writes(self._db_path(node), self.sync).to_json()

    def corrupt(self, node: str, mode: str, rng: random.Random) -> dict[str, Any]:
        """Stop the node cleanly (its store checkpoints into the file), then damage the file."""
        self._running().stop_node(node)
        return damage_file(self._db_path(node), mode, rng)

    def restart(self, node: str) -> dict[str, Any]:
        """Start a node a storage fault left down; ``refused`` is its refusal line if it found
        its store damaged."""
        cluster = self._running()
        try:
            cluster.start_node(node)
        except ClusterError as err:
            log = cluster.log_path(node)
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            refusals = [line for line in lines if REFUSAL in line]
            return {"started": False, "refused": refusals[-1] if refusals else str(err)}
        return {"started": True, "refused": None}

    def set_message_faults(
        self,
        node: str,
        *,
        drop: float,
        duplicate: float,
        reorder: float,
        delay: float,
        delay_ms: int,
        seed: int,
    ) -> dict[str, int]:
        reply = self.admin(
            node,
            "message-faults",
            drop=drop,
            duplicate=duplicate,
            reorder=reorder,
            delay=delay,
            delay_ms=delay_ms,
            seed=seed,
        )
        return dict(reply["counts"])

    def clear_message_faults(self, node: str) -> dict[str, int]:
        return dict(self.admin(node, "message-faults")["counts"])

    def preference_list(self, key: str) -> tuple[str, ...]:
        """The primaries of ``key`` in the ring a live node holds (the initial ring if none
        answers)."""
        cluster = self._running()
        for node in cluster.nodes:
            if not cluster.is_running(node) or cluster.is_paused(node):
                continue
            try:
                ring = Ring.from_json(self.admin(node, "ring"))
            except (ClientError, ValueError, KeyError, TypeError):
                continue
            return tuple(ring.primaries(key, self.config.n))
        ring = Ring.build(self.config.nodes, self.config.partitions)
        return tuple(ring.primaries(key, self.config.n))

    # --- the run around the faults

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.config.nodes

    def describe(self) -> str:
        if self.net == "kernel":
            return f"{len(self.config.nodes)} nodes in {self._url}, links cut by nftables"
        return f"{len(self.config.nodes)} nodes behind Toxiproxy at {self._url}"

    def start(self) -> None:
        cluster = self._running()
        cluster.start()
        if self._journals is not None:
            return  # already polling (a second start only starts the nodes that are not up)
        # The history's clock starts when the runner opens it, right after this returns: the
        # nodes' events are placed relative to this moment (zynamo.env.journals).
        channel = AdminChannel(cluster.endpoints)
        self._stack.callback(channel.close)
        collector = JournalCollector(channel, zero_ns=time.monotonic_ns())
        self._journals = JournalPoller(collector, lambda: list(cluster.nodes))
        self._journals.start()

    def wait_ready(self, timeout_s: float) -> None:
        self._running().wait_ready(timeout_s=timeout_s)

    def client(self, timeout_ms: int) -> Client:
        endpoints = self._running().endpoints
        return ProtocolClient(lambda: AsyncClient(endpoints, timeout_ms=timeout_ms))

    def collect_logs(self, directory: Path) -> None:
        """Each node's log as ``<node>.log`` and its event journal, as read while the run went
        on, as ``<node>.events.jsonl``."""
        cluster = self._running()
        for node in cluster.nodes:
            log = cluster.log_path(node)
            if log.exists():
                shutil.copyfile(log, directory / f"{node}.log")
        if self._journals is not None:
            self._journals.stop()  # a last read, if ``stop`` did not already make it
            self._journals.collector.write(directory)

    def stop(self) -> None:
        if self._journals is not None:
            self._journals.stop()  # what the nodes journalled last, before they go
        if self._cluster is not None:
            self._cluster.stop()
