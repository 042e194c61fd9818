"""The run's nemesis: the chosen fault packages composed into one ``Nemesis``.

``build_nemesis(packages, cluster=..., net=..., rng=..., options=...)`` builds one adapter per
fault (partition and latency on the per-link proxies, kill and pause on the node processes, clock
through the admin channel, membership through the cluster's join/leave) and returns a
``CombinedNemesis`` that dispatches each ``FaultOp`` to its adapter and records nothing itself:
``invoke`` returns what was done, for the runner to record.

``heal`` is heal-all: whatever the packages, it restores every link of the net (enabled, no
toxics), resumes every paused node, restarts the nodes it killed, has the nodes that left join
back, and resets every live node's clock, in that order (a clock can only be reset on a node
that runs). A step that fails does not stop the others; a ``HealError`` lists what failed.
It is idempotent and thread-safe: the runner may call it from its main thread (on an error or
Ctrl-C) while the nemesis thread is inside ``invoke``; a clock strobe in progress is cut short.
Does process and network I/O through the adapters.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cluster.net import Client
from nemesis.base import FAULTS, FaultOp
from nemesis.clock import Admin, ClockNemesis
from nemesis.errors import HealError, NemesisError
from nemesis.link_faults import LatencyNemesis, PartitionNemesis
from nemesis.membership import MISSING_SUPPORT, MembershipNemesis, supports_membership
from nemesis.network import ProxyNet
from nemesis.options import coerce_options, parse_packages
from nemesis.process import KillNemesis, PauseNemesis, ProcessCluster, live_nodes

ADMIN_TIMEOUT_MS = 1000
NETWORK_FAULTS = ("partition", "latency")


class FaultNemesis(Protocol):
    """One adapter: applies the start and stop of one fault, and heals it."""

    def invoke(self, op: FaultOp) -> dict[str, Any]: ...

    def heal(self) -> None: ...


class AdminChannel:
    """``admin(node, op, **args)`` over one ``cluster.net.client.Client``, from any thread."""

    def __init__(self, endpoints: dict[str, str], timeout_ms: int = ADMIN_TIMEOUT_MS) -> None:
        self._client = Client(endpoints, timeout_ms=timeout_ms)
        self._lock = threading.Lock()

    def __call__(self, node: str, op: str, **args: Any) -> Any:
        with self._lock:
            return self._client.admin(node, op, **args)

    def close(self) -> None:
        with self._lock:
            self._client.close()


def check_op(op: FaultOp) -> str:
    """The fault ``op`` is about; ``ValueError`` naming the accepted forms otherwise."""
    kind, _, fault = op.f.partition("-")
    if kind not in ("start", "stop") or fault not in FAULTS:
        raise ValueError(
            f"nemesis op {op.f!r}: expected start-<fault> or stop-<fault>,"
            f" fault one of {', '.join(FAULTS)}"
        )
    return fault


class CombinedNemesis:
    """Dispatches fault ops to their adapters; heals everything."""

    def __init__(
        self,
        packages: Sequence[str],
        adapters: dict[str, FaultNemesis],
        heal_steps: Sequence[tuple[str, Callable[[], None]]],
        on_teardown: Sequence[Callable[[], None]] = (),
        interrupt: threading.Event | None = None,
    ) -> None:
        self.packages = tuple(packages)
        self.adapters = adapters
        self.heal_steps = list(heal_steps)
        self._on_teardown = list(on_teardown)
        self._interrupt = interrupt
        self._lock = threading.RLock()

    def setup(self) -> None:
        """Nothing to prepare: the proxies exist before the cluster starts (the runner sets up
        the ``ProxyNet`` so that nodes can dial through it)."""

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        fault = check_op(op)
        if fault not in self.packages:
            raise ValueError(
                f"nemesis op {op.f!r}: {fault} is not among this run's faults"
                f" ({', '.join(self.packages) or 'none'})"
            )
        with self._lock:
            return self.adapters[fault].invoke(op)

    def heal(self) -> None:
        if self._interrupt is not None:
            self._interrupt.set()  # before the lock: a strobe in progress holds it
        failures: list[str] = []
        with self._lock:
            for name, step in self.heal_steps:
                try:
                    step()
                except Exception as err:  # heal the rest, then report
                    failures.append(f"{name}: {err}")
        if failures:
            raise HealError(failures)

    def teardown(self) -> None:
        for close in self._on_teardown:
            close()
        self._on_teardown.clear()


def build_nemesis(
    packages: str | Sequence[str],
    *,
    cluster: ProcessCluster,
    net: ProxyNet | None = None,
    rng: random.Random,
    options: object = None,
    admin: Admin | None = None,
) -> CombinedNemesis:
    """The nemesis for ``packages`` (names from ``nemesis.options.PACKAGES``).

    ``net`` is needed for partition and latency faults, a cluster with ``join``/``leave`` for
    membership faults (``ValueError`` otherwise, before anything is done); ``admin``
    (``admin(node, op, **args)``) defaults to a client of ``cluster.endpoints``; ``options`` is
    anything ``nemesis.options.coerce_options`` accepts. Each adapter draws from its own
    generator seeded from ``rng``, so adding a package does not change what the others do.
    """
    chosen = parse_packages(packages)
    opts = coerce_options(options)
    opts.check_nodes(cluster.nodes)
    needs_net = [fault for fault in chosen if fault in NETWORK_FAULTS]
    if needs_net and net is None:
        raise ValueError(
            f"nemesis packages {', '.join(needs_net)} need the per-link proxies (a ProxyNet)"
        )
    if "membership" in chosen and not supports_membership(cluster):
        lacking = "leave" if not callable(getattr(cluster, "leave", None)) else "join"
        raise ValueError(MISSING_SUPPORT.format(missing=lacking))
    seeds = {fault: rng.getrandbits(64) for fault in FAULTS}

    def rng_for(fault: str) -> random.Random:
        return random.Random(seeds[fault])

    def live() -> tuple[str, ...]:
        return live_nodes(cluster)

    on_teardown: list[Callable[[], None]] = []
    if admin is None:
        channel = AdminChannel(cluster.endpoints)
        on_teardown.append(channel.close)
        admin = channel
    kill = KillNemesis(cluster, rng_for("kill"))
    pause = PauseNemesis(cluster, rng_for("pause"))
    clock = ClockNemesis(admin, cluster.nodes, live, rng_for("clock"), opts)
    adapters: dict[str, FaultNemesis] = {"kill": kill, "pause": pause, "clock": clock}
    heal_steps: list[tuple[str, Callable[[], None]]] = []
    if net is not None:
        adapters["partition"] = PartitionNemesis(net, rng_for("partition"), opts)
        adapters["latency"] = LatencyNemesis(net, rng_for("latency"), opts)
        heal_steps.append(("network", net.heal))
    heal_steps += [("pause", pause.heal), ("kill", kill.heal)]
    if "membership" in chosen:
        membership = MembershipNemesis(cluster, live, rng_for("membership"))
        adapters["membership"] = membership
        heal_steps.append(("membership", membership.heal))
    heal_steps.append(("clock", clock.heal))
    missing = [fault for fault in chosen if fault not in adapters]
    if missing:  # cannot happen with the checks above; a clear error if it ever does
        raise NemesisError(f"no adapter for {', '.join(missing)}")
    return CombinedNemesis(chosen, adapters, heal_steps, on_teardown, clock.interrupt)
