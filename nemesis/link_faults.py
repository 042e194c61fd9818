"""Network faults as nemeses: partitions (grudges applied to the per-link proxies) and slow links.

``PartitionNemesis``: ``start-partition`` computes the grudge its value asks for
(``nemesis.shapes.grudge_for``), cuts the links it implies in the mode asked (``refuse`` or
``drop``), and returns the grudge, the mode and the links; a new partition replaces the one in
force. ``stop-partition`` and ``heal`` restore every link. ``LatencyNemesis``: ``start-latency``
delays (and optionally throttles) every link from or to its targets; ``stop-latency`` and
``heal`` remove that. A network that counts what its cuts stopped (``dropped_packets()``, as
``nemesis.kernel_net.KernelNet`` does from nftables counters) has that count in the stop's
summary too. Does network I/O through the ``nemesis.environment.Network`` given (e.g.
``ProxyNet``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from nemesis import grudge as g
from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.environment import Network
from nemesis.network import link_label, links_touching
from nemesis.options import NemesisOptions
from nemesis.shapes import PARTITION_MODES, check_choice, grudge_for
from nemesis.targets import choose_targets
from nemesis.timekeeping import Clock, WallClock

# The sends the nodes dropped so far (a peer's link down), summed; None if unknown.
DroppedSends = Callable[[], int | None]


def _unknown() -> int | None:
    return None


class PartitionNemesis:
    """``dropped_sends`` (optional) lets the stop say how many messages the cut stopped."""

    def __init__(
        self,
        net: Network,
        rng: random.Random,
        options: NemesisOptions,
        dropped_sends: DroppedSends = _unknown,
        clock: Clock | None = None,
    ) -> None:
        self.net = net
        self.rng = rng
        self.options = options
        self.dropped_sends = dropped_sends
        self.clock = clock or WallClock()  # "healed after 3.0 s": on the environment's clock
        # when, sends dropped, links cut, packets dropped (None: not counted)
        self._started: tuple[float, int | None, int, int | None] | None = None

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "partition":
            raise ValueError(f"the partition nemesis cannot do {op.f!r}")
        if not op.starts:
            self.net.uncut()
            return {"healed": True, "effect": self._stopped()}
        mode = check_choice(
            "partition mode", op.value.get("mode", self.options.partition_modes[0]), PARTITION_MODES
        )
        grudge = grudge_for(op.value, self.net.nodes, self.rng)
        self.net.uncut()  # the new grudge replaces whatever partition was in force
        cut = self.net.cut(g.links_to_cut(grudge), mode)
        value: dict[str, Any] = {
            "grudge": g.describe(grudge),
            "mode": mode,
            "links": [link_label(link) for link in cut],
        }
        if "shape" in op.value:
            value["shape"] = op.value["shape"]
        for key in ("key", "primaries", "form"):
            if key in op.value:
                value[key] = op.value[key]
        self._started = (self.clock.now(), self.dropped_sends(), len(cut), self._packets())
        name = op.value.get("shape", "grudge")
        value["effect"] = effect(f"partition {name}: {len(cut)} links cut ({mode})", bool(cut))
        return value

    def _stopped(self) -> dict[str, Any]:
        if self._started is None:
            return effect("no partition was in force", False)
        since, before, links, packets_before = self._started
        self._started = None
        summary = f"{links} links healed after {self.clock.now() - since:.1f} s"
        after = self.dropped_sends()
        if before is not None and after is not None:
            summary += f", {max(0, after - before):,} messages refused meanwhile"
        packets_after = self._packets()
        if packets_before is not None and packets_after is not None:
            summary += f", {max(0, packets_after - packets_before):,} packets dropped by the kernel"
        return effect(summary, links > 0)

    def _packets(self) -> int | None:
        """What the network's own counters say its cuts stopped so far; None if it has none.
        Read before ``uncut``: a kernel net adds the counts of the rules it deletes."""
        counter = getattr(self.net, "dropped_packets", None)
        return int(counter()) if callable(counter) else None

    def heal(self) -> None:
        self.net.uncut()


class LatencyNemesis:
    def __init__(self, net: Network, rng: random.Random, options: NemesisOptions) -> None:
        self.net = net
        self.rng = rng
        self.options = options

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "latency":
            raise ValueError(f"the latency nemesis cannot do {op.f!r}")
        if not op.starts:
            self.net.unslow()
            return {"healed": True}
        opts, value = self.options, op.value
        targets = choose_targets(
            value.get("targets", "all"), self.net.nodes, self.net.nodes, self.rng
        )
        figures = {
            "latency_ms": int(value.get("latency_ms", opts.latency_ms)),
            "jitter_ms": int(value.get("jitter_ms", opts.jitter_ms)),
            "bandwidth_kbps": int(value.get("bandwidth_kbps", opts.bandwidth_kbps)),
        }
        self.net.unslow()
        slowed = self.net.slow(links_touching(targets, self.net.nodes), **figures)
        slow = bool(figures["latency_ms"] or figures["jitter_ms"] or figures["bandwidth_kbps"])
        summary = (
            f"{figures['latency_ms']}±{figures['jitter_ms']} ms"
            + (f", {figures['bandwidth_kbps']} KB/s" if figures["bandwidth_kbps"] else "")
            + f" on {len(slowed)} links"
        )
        return {
            "nodes": list(targets),
            "links": [link_label(link) for link in slowed],
            **figures,
            "effect": effect(summary, bool(slowed) and slow),
        }

    def heal(self) -> None:
        self.net.unslow()
