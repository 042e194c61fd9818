"""The real environment: local node processes (ZeroMQ, SQLite), each dialling its peers through
its own Toxiproxy proxies, so any link can be cut or slowed.

Entering it starts Toxiproxy (the embedded server, or uses the one at ``toxiproxy_url``) and
creates one proxy per ordered pair of nodes; ``start`` starts the nodes; leaving it closes the
admin channel, deletes the proxies and stops the embedded Toxiproxy. Faults act on the
``LocalCluster`` (kill -9, SIGSTOP/SIGCONT, restart on the same data, join/leave), on the
``ProxyNet`` (cut, slow) and through the nodes' admin channel (clock offsets). From ``start``
to ``stop`` a thread polls every node's event journal (``zynamo.env.journals``), which
``collect_logs`` writes beside the logs. Does process, network and file I/O.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cluster.core import ClusterConfig
from cluster.net import AsyncClient, LocalCluster
from nemesis.environment import AdminChannel, Network
from nemesis.membership import MembershipCluster
from nemesis.network import ProxyNet
from nemesis.process import ProcessCluster
from nemesis.toxiproxy import open_toxiproxy
from workloads.client import Client
from workloads.protocol_client import ProtocolClient
from zynamo.env.journals import JournalCollector, JournalPoller
from zynamo.env.realtime import RealTime


class RealEnvironment(RealTime):
    """``zynamo.env.base.Environment`` over local processes behind Toxiproxy."""

    def __init__(
        self,
        directory: Path,
        config: ClusterConfig,
        toxiproxy_url: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.toxiproxy_url = toxiproxy_url
        self.seed = seed
        self._stack = ExitStack()
        self._url = ""
        self._net: ProxyNet | None = None
        self._cluster: LocalCluster | None = None
        self._admin: AdminChannel | None = None
        self._journals: JournalPoller | None = None

    def __enter__(self) -> RealEnvironment:
        with ExitStack() as stack:
            toxiproxy = stack.enter_context(
                open_toxiproxy(
                    self.toxiproxy_url, seed=self.seed, log_path=self.directory / "toxiproxy.log"
                )
            )
            self._url = self.toxiproxy_url or toxiproxy.url
            net = ProxyNet(toxiproxy, self.config.nodes, prefix=f"zynamo-{os.getpid()}-")
            cluster = LocalCluster(self.directory / "cluster", self.config, dial=net.dial)
            net.setup(cluster.ports)
            stack.callback(net.teardown)
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
        return self._running()

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        if self._admin is None:
            raise RuntimeError("RealEnvironment: enter it (with ...) before using it")
        return self._admin(node, op, **args)

    # --- the run around the faults

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.config.nodes

    def describe(self) -> str:
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
