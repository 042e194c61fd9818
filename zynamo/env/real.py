"""The real environment: local node processes (ZeroMQ, SQLite), each dialling its peers through
its own Toxiproxy proxies, so any link can be cut or slowed.

Entering it starts Toxiproxy (the embedded server, or uses the one at ``toxiproxy_url``) and
creates one proxy per ordered pair of nodes; ``start`` starts the nodes; leaving it closes the
admin channel, deletes the proxies and stops the embedded Toxiproxy. Faults act on the
``LocalCluster`` (kill -9, SIGSTOP/SIGCONT, restart on the same data, join/leave), on the
``ProxyNet`` (cut, slow) and through the nodes' admin channel (clock offsets). Does process,
network and file I/O.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cluster.core import ClusterConfig
from cluster.net import LocalCluster
from nemesis.environment import AdminChannel, Network
from nemesis.membership import MembershipCluster
from nemesis.network import ProxyNet
from nemesis.process import ProcessCluster
from nemesis.toxiproxy import open_toxiproxy
from workloads.client import Client
from workloads.net_client import NetClient


class RealEnvironment:
    """``zynamo.env.base.Environment`` over local processes behind Toxiproxy."""

    def __init__(
        self,
        directory: Path,
        config: ClusterConfig,
        toxiproxy_url: str | None = None,
        seed: int | None = None,
        sync: str = "normal",
    ) -> None:
        self.directory = directory
        self.config = config
        self.toxiproxy_url = toxiproxy_url
        self.seed = seed
        self.sync = sync
        self._stack = ExitStack()
        self._url = ""
        self._net: ProxyNet | None = None
        self._cluster: LocalCluster | None = None
        self._admin: AdminChannel | None = None

    def __enter__(self) -> RealEnvironment:
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
        self._running().start()

    def wait_ready(self, timeout_s: float) -> None:
        self._running().wait_ready(timeout_s=timeout_s)

    def client(self, timeout_ms: int) -> Client:
        return NetClient(self._running().endpoints, timeout_ms=timeout_ms)

    def collect_logs(self, directory: Path) -> None:
        cluster = self._running()
        for node in cluster.nodes:
            log = cluster.log_path(node)
            if log.exists():
                shutil.copyfile(log, directory / f"{node}.log")

    def stop(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
