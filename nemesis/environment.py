"""What a nemesis acts on: the fault side of an environment, as small interfaces.

A ``FaultEnvironment`` offers the node processes (``ProcessCluster``: kill, restart, pause,
resume), each node's admin channel (``admin(node, op, **args)``: clock skew), and, when it has
them, the links between nodes (``Network``: cut, slow, heal) and membership changes
(``MembershipCluster``: join, leave). The nemesis adapters take what they need from it, never a
concrete cluster class, so the same faults run wherever an environment implements this: the
real one (``zynamo.env.real``: local processes behind Toxiproxy) and the simulator's.
``ClusterFaults`` builds one from parts (a process cluster, optionally a network and an admin
callable): the form tests and small tools use. ``AdminChannel`` is an admin callable over a
blocking ``cluster.net.Client``.

Every environment has a ``Clock``: what a fault that waits (a clock strobe between flips, a
membership change until the handoff is done) waits on. ``WallClock`` is real time; the
simulator's clock is virtual, and a wait there lets the simulated cluster and the workload run
on meanwhile. Network I/O only in ``AdminChannel``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from cluster.net import Client
from nemesis.membership import MembershipCluster, supports_membership
from nemesis.process import ProcessCluster

Link = tuple[str, str]  # (sender, receiver)
# admin(node, op, **args) -> the reply's data; raises on failure.
Admin = Callable[..., Any]

ADMIN_TIMEOUT_MS = 1000


class Clock(Protocol):
    """The time faults and the harness read and wait on."""

    def now(self) -> float:
        """Seconds on a monotonic clock (any origin)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``event`` (it may return when the time is up even if the
        event was set meanwhile); whether it is set."""
        ...


class WallClock:
    """Real time: ``time.monotonic`` and sleeping threads."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))


class Network(Protocol):
    """The links between nodes, each of which can be cut or slowed on its own
    (``nemesis.network.ProxyNet`` over Toxiproxy; the simulator's network)."""

    @property
    def nodes(self) -> tuple[str, ...]: ...

    def cut(self, links: Iterable[Link], mode: str) -> list[Link]:
        """Cut ``links`` (``refuse`` or ``drop``); the links cut."""
        ...

    def uncut(self, links: Iterable[Link] | None = None) -> None:
        """Undo ``cut`` (default: on every link)."""
        ...

    def slow(
        self, links: Iterable[Link], latency_ms: int, jitter_ms: int = 0, bandwidth_kbps: int = 0
    ) -> list[Link]:
        """Delay (and optionally throttle) ``links``; the links slowed."""
        ...

    def unslow(self, links: Iterable[Link] | None = None) -> None:
        """Undo ``slow`` (default: on every link)."""
        ...

    def heal(self) -> None:
        """Every link whole and fast again. Idempotent."""
        ...


class FaultEnvironment(Protocol):
    """Where faults land: processes and admin always; a network and membership when offered."""

    @property
    def processes(self) -> ProcessCluster: ...

    @property
    def network(self) -> Network | None: ...

    @property
    def membership(self) -> MembershipCluster | None: ...

    @property
    def clock(self) -> Clock: ...

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        """The node's admin op ``op`` with ``args``; its reply's data. Raises on failure."""
        ...


class AdminChannel:
    """``admin(node, op, **args)`` over one ``cluster.net.Client``, from any thread."""

    def __init__(self, endpoints: dict[str, str], timeout_ms: int = ADMIN_TIMEOUT_MS) -> None:
        self._client = Client(endpoints, timeout_ms=timeout_ms)
        self._lock = threading.Lock()

    def __call__(self, node: str, op: str, /, **args: Any) -> Any:
        with self._lock:
            return self._client.admin(node, op, **args)

    def close(self) -> None:
        with self._lock:
            self._client.close()


class ClusterFaults:
    """A ``FaultEnvironment`` from parts: ``cluster`` (its processes, and its membership if it
    has ``join``/``leave``), an optional ``network``, and ``admin`` (default: an
    ``AdminChannel`` to ``cluster.endpoints``, opened on first use and closed by ``close``)."""

    def __init__(
        self,
        cluster: ProcessCluster,
        network: Network | None = None,
        admin: Admin | None = None,
    ) -> None:
        self._cluster = cluster
        self._network = network
        self._admin = admin
        self._channel: AdminChannel | None = None

    @property
    def processes(self) -> ProcessCluster:
        return self._cluster

    @property
    def network(self) -> Network | None:
        return self._network

    @property
    def membership(self) -> MembershipCluster | None:
        cluster: Any = self._cluster
        return cluster if supports_membership(cluster) else None

    @property
    def clock(self) -> Clock:
        return WallClock()

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        if self._admin is not None:
            return self._admin(node, op, **args)
        if self._channel is None:
            self._channel = AdminChannel(self._cluster.endpoints)
        return self._channel(node, op, **args)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
