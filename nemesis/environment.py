"""What a nemesis acts on: the fault side of an environment, as small interfaces.

A ``FaultEnvironment`` offers the node processes (``ProcessCluster``: kill, restart, pause,
resume), each node's admin channel (``admin(node, op, **args)``: clock skew), and, when it has
them, the links between nodes (``Network``: cut, slow, heal) and membership changes
(``MembershipCluster``: join, leave). The nemesis adapters take what they need from it, never a
concrete cluster class, so the same faults run wherever an environment implements this: the
real one (``zynamo.env.real``: local processes behind Toxiproxy) and the simulator's.
Optional capabilities: an environment (or its network) *may* also offer the methods of
``Placement`` (``preference_list(key)``: the ``primaries`` targets and partition shape),
``StorageFaults`` (``power_loss``, ``corrupt``, ``sync_mode``: the ``disk`` fault),
``MessageFaults`` (``set_message_faults`` / ``clear_message_faults``: the ``message`` fault)
and, on its network, ``Toxics`` (``add_toxic`` / ``remove_toxics``: the ``toxic`` fault). They
are not part of the ``FaultEnvironment`` protocol, so an environment without them still is
one; ``capability(obj, Protocol)`` returns ``obj`` when it has every method, and each fault's
``needs`` uses it to name what is missing before a run starts.

``ClusterFaults`` builds one from parts (a process cluster, optionally a network and an admin
callable): the form tests and small tools use. ``AdminChannel`` is an admin callable over a
blocking ``cluster.net.Client``.

Every environment has a ``Clock``: what a fault that waits (a clock strobe between flips, a
membership change until the handoff is done) waits on. ``WallClock`` is real time; the
simulator's clock is virtual, and a wait there lets the simulated cluster and the workload run
on meanwhile. Network I/O only in ``AdminChannel``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from cluster.net import Client
from nemesis.membership import MembershipCluster, supports_membership
from nemesis.process import ProcessCluster
from nemesis.timekeeping import Clock, WallClock

Link = tuple[str, str]  # (sender, receiver)
# admin(node, op, **args) -> the reply's data; raises on failure.
Admin = Callable[..., Any]

ADMIN_TIMEOUT_MS = 1000


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


class Placement(Protocol):
    """Which nodes hold a key: its preference list's primaries, from the ring in force."""

    def preference_list(self, key: str) -> tuple[str, ...]: ...


class StorageFaults(Protocol):
    """Disk faults on a node's durable store.

    ``power_loss(node)``: the node stops at once, as ``kill -9``, and its store loses every
    write it had not synced to disk (the environment's model of a page cache that dies with
    the power); the node stays down. Returns what was lost, JSON-able, at least
    ``{"transactions_lost": int, "keys_rolled_back": int}``.
    ``corrupt(node, mode, rng)``: stop the node (cleanly) and damage its store's file
    (``mode``: ``bitflip`` flips one random bit of the data, ``truncate`` cuts the file short);
    the node stays down. Returns what was done (``{"file", "offset", ...}``).
    ``restart(node)``: start a node these left down; returns ``{"started": bool, "refused":
    str | None}``, ``refused`` the node's one log line when it would not start on a store it
    found damaged. ``sync_mode``: the store's sync setting (``off``, ``normal``, ``full``).
    """

    @property
    def sync_mode(self) -> str: ...

    def power_loss(self, node: str) -> dict[str, Any]: ...

    def corrupt(self, node: str, mode: str, rng: random.Random) -> dict[str, Any]: ...

    def restart(self, node: str) -> dict[str, Any]: ...


class MessageFaults(Protocol):
    """Faults on individual protocol messages a node sends to its peers (not on client
    replies): each message is dropped, duplicated, held back behind later ones (reordered) or
    delayed with the given probabilities, drawn from a generator seeded with ``seed``.
    ``set_message_faults`` replaces the node's settings; both return the node's counters so
    far (``{"sent", "dropped", "duplicated", "reordered", "delayed"}``), and
    ``clear_message_faults`` stops every fault (delayed messages still leave)."""

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
    ) -> dict[str, int]: ...

    def clear_message_faults(self, node: str) -> dict[str, int]: ...


class Toxics(Protocol):
    """Toxiproxy toxics on links: ``add_toxic(links, kind, attributes)`` puts a toxic of
    ``kind`` (``reset_peer``, ``slicer``, ``limit_data``, ``timeout``, ...) on each link's
    upstream; ``remove_toxics(links)`` takes them off (default: every link)."""

    def add_toxic(
        self, links: Iterable[Link], kind: str, attributes: dict[str, Any]
    ) -> list[Link]: ...

    def remove_toxics(self, links: Iterable[Link] | None = None) -> None: ...


def capability(obj: object, protocol: type) -> Any:
    """``obj`` if it has every method ``protocol`` declares (an optional capability), else
    None."""
    if obj is None:
        return None
    names = [
        name
        for name in vars(protocol)
        if not name.startswith("_") and callable(getattr(protocol, name, None))
    ]
    properties = [name for name, v in vars(protocol).items() if isinstance(v, property)]
    if all(callable(getattr(obj, name, None)) for name in names if name not in properties) and all(
        hasattr(obj, name) for name in properties
    ):
        return obj
    return None


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
