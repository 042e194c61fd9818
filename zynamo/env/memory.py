"""The no-op environment: a cluster that is only flags and one in-memory store, for tests of
the harness (runner, nemesis, final phase, checkers, report) without processes or sockets.

Every node "runs" until killed, pauses and resumes as flags; the network records cut and slowed
links and changes nothing; clients are ``workloads.memory_client.MemoryClient`` over one shared
``MemoryStore``, so every replica holds the same state and a run converges. Admin ops answer
``clock``, ``status``, ``replica`` and ``ping``; any other raises ``ClientError``, as a node
that does not know the op would. Nodes named in ``broken`` refuse to restart. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cluster.net import ClientError
from nemesis.environment import Link, Network
from nemesis.membership import MembershipCluster
from nemesis.process import ProcessCluster
from workloads.client import Client
from workloads.memory_client import MemoryClient, MemoryStore
from zynamo.env.realtime import RealTime


class MemoryNetwork:
    """``nemesis.environment.Network`` that only remembers which links are cut or slow."""

    def __init__(self, nodes: tuple[str, ...]) -> None:
        self._nodes = nodes
        self.cut_links: set[Link] = set()
        self.slow_links: set[Link] = set()

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    def cut(self, links: Iterable[Link], mode: str) -> list[Link]:
        chosen = sorted(set(links))
        self.cut_links.update(chosen)
        return chosen

    def uncut(self, links: Iterable[Link] | None = None) -> None:
        self.cut_links -= set(self.cut_links if links is None else links)

    def slow(
        self, links: Iterable[Link], latency_ms: int, jitter_ms: int = 0, bandwidth_kbps: int = 0
    ) -> list[Link]:
        chosen = sorted(set(links))
        self.slow_links.update(chosen)
        return chosen

    def unslow(self, links: Iterable[Link] | None = None) -> None:
        self.slow_links -= set(self.slow_links if links is None else links)

    def heal(self) -> None:
        self.cut_links.clear()
        self.slow_links.clear()


class MemoryEnvironment(RealTime):
    """``zynamo.env.base.Environment`` with nothing real behind it."""

    def __init__(self, nodes: Iterable[str], broken: Iterable[str] = ()) -> None:
        self._nodes = tuple(nodes)
        self.store = MemoryStore()
        self.net = MemoryNetwork(self._nodes)
        self.running: set[str] = set()
        self.paused: set[str] = set()
        self.members = set(self._nodes)
        self.skew_ms: dict[str, float] = dict.fromkeys(self._nodes, 0.0)
        self.broken = set(broken)
        self.clients: list[MemoryClient] = []
        self.stopped = False

    def __enter__(self) -> MemoryEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- ProcessCluster and MembershipCluster, as flags

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    @property
    def endpoints(self) -> dict[str, str]:
        return {node: f"memory://{node}" for node in self._nodes}

    def is_running(self, node: str) -> bool:
        return node in self.running

    def is_paused(self, node: str) -> bool:
        return node in self.paused

    def kill(self, node: str) -> None:
        self.running.discard(node)
        self.paused.discard(node)
        self.skew_ms[node] = 0.0  # the skew lives in the process

    def start_node(self, node: str, timeout_s: float = 1.0) -> None:
        if node in self.broken:
            raise RuntimeError(f"node {node} did not answer a ping")
        self.running.add(node)

    def pause(self, node: str) -> None:
        self.paused.add(node)

    def resume(self, node: str) -> None:
        self.paused.discard(node)

    def leave(self, node: str) -> None:
        self.members.discard(node)

    def join(self, node: str) -> None:
        self.members.add(node)

    # --- FaultEnvironment

    @property
    def processes(self) -> ProcessCluster:
        return self

    @property
    def network(self) -> Network | None:
        return self.net

    @property
    def membership(self) -> MembershipCluster | None:
        return self

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        args.pop("timeout_ms", None)
        if node not in self.running or node in self.paused:
            raise ClientError("no answer", definite=False, node=node)
        if op == "ping":
            return {"node": node}
        if op == "clock":
            if "offset_ms" in args:
                self.skew_ms[node] = float(args["offset_ms"])
            self.skew_ms[node] += float(args.get("bump_ms", 0))
            return {"clock_skew_ms": self.skew_ms[node]}
        if op == "status":
            return {"up": sorted(self.running - self.paused)}
        if op == "replica":
            key = str(args["key"])
            values = self.store.values(key)
            clock = self.store.clock(key)
            clocks = [clock] if clock else []
            return {"values": values, "empty": not values, "tombstone": False, "clocks": clocks}
        raise ClientError(f"unknown admin op {op!r}", definite=True, node=node)

    # --- the run around the faults

    def describe(self) -> str:
        return f"{len(self._nodes)} in-memory nodes"

    def start(self) -> None:
        self.running = set(self._nodes)

    def wait_ready(self, timeout_s: float) -> None:
        down = [node for node in self._nodes if node not in self.running or node in self.paused]
        if down:
            raise RuntimeError(f"nodes not ready: {', '.join(down)}")

    def client(self, timeout_ms: int) -> Client:
        client = MemoryClient(self.store)
        self.clients.append(client)
        return client

    def collect_logs(self, directory: Path) -> None:
        """In-memory nodes write no logs."""

    def stop(self) -> None:
        self.running.clear()
        self.paused.clear()
        self.stopped = True
