"""Network faults as nemeses: partitions (grudges applied to the per-link proxies) and slow links.

``PartitionNemesis``: ``start-partition`` computes the grudge its value asks for
(``nemesis.shapes.grudge_for``), cuts the links it implies in the mode asked (``refuse`` or
``drop``), and returns the grudge, the mode and the links; a new partition replaces the one in
force. ``stop-partition`` and ``heal`` restore every link. ``LatencyNemesis``: ``start-latency``
delays (and optionally throttles) every link from or to its targets; ``stop-latency`` and
``heal`` remove that. Does network I/O through the ``nemesis.environment.Network`` given
(e.g. ``ProxyNet``).
"""

from __future__ import annotations

import random
from typing import Any

from nemesis import grudge as g
from nemesis.base import FaultOp
from nemesis.environment import Network
from nemesis.network import link_label, links_touching
from nemesis.options import NemesisOptions
from nemesis.shapes import PARTITION_MODES, check_choice, grudge_for
from nemesis.targets import choose_targets


class PartitionNemesis:
    def __init__(self, net: Network, rng: random.Random, options: NemesisOptions) -> None:
        self.net = net
        self.rng = rng
        self.options = options

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "partition":
            raise ValueError(f"the partition nemesis cannot do {op.f!r}")
        if not op.starts:
            self.net.uncut()
            return {"healed": True}
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
        return value

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
        return {"nodes": list(targets), "links": [link_label(link) for link in slowed], **figures}

    def heal(self) -> None:
        self.net.unslow()
