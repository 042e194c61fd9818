"""Toxiproxy's other toxics as a nemesis: ``reset_peer``, ``slicer``, ``limit_data`` and
``timeout`` on every link from or to the targets (the network's optional ``Toxics``
capability; ``nemesis.network.ProxyNet`` has it).

``start-toxic`` picks a kind among ``toxic_kinds`` and puts it on the upstream of each link
touching its targets, with the options' figures: ``timeout`` stops the data and closes the
connection after ``toxic_timeout_ms``; ``reset_peer`` resets the connection (TCP RST) after
``toxic_timeout_ms``; ``slicer`` cuts the stream into small slices of about
``slicer_average_bytes`` (ZeroMQ must reassemble frames); ``limit_data`` closes a connection
after ``limit_data_bytes``. ``stop-toxic`` and ``heal`` take them off. Does network I/O through
the network.
"""

from __future__ import annotations

import random
from typing import Any

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.environment import Network, Toxics
from nemesis.network import link_label, links_touching
from nemesis.options import TOXIC_KINDS, NemesisOptions
from nemesis.shapes import check_choice
from nemesis.targets import choose_targets


def toxic_attributes(kind: str, options: NemesisOptions) -> dict[str, Any]:
    """Toxiproxy's attributes for a toxic of ``kind`` from the options' figures."""
    if kind in ("timeout", "reset_peer"):
        return {"timeout": options.toxic_timeout_ms}
    if kind == "slicer":
        size = options.slicer_average_bytes
        return {"average_size": size, "size_variation": size // 2, "delay": 0}
    return {"bytes": options.limit_data_bytes}


def start_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    from nemesis.schedule import spec_to_json

    return {
        "kind": rng.choice(options.toxic_kinds),
        "targets": spec_to_json(rng.choice(options.toxic_targets)),
    }


class ToxicNemesis:
    def __init__(
        self, net: Network, toxics: Toxics, rng: random.Random, options: NemesisOptions
    ) -> None:
        self.net = net
        self.toxics = toxics
        self.rng = rng
        self.options = options

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "toxic":
            raise ValueError(f"the toxic nemesis cannot do {op.f!r}")
        if not op.starts:
            self.toxics.remove_toxics()
            return {"healed": True, "effect": effect("toxics removed", True)}
        kind = check_choice("toxic kind", op.value.get("kind", "timeout"), TOXIC_KINDS)
        nodes = self.net.nodes
        targets = choose_targets(op.value.get("targets", "one"), nodes, nodes, self.rng)
        attributes = {**toxic_attributes(kind, self.options), **op.value.get("attributes", {})}
        self.toxics.remove_toxics()
        links = self.toxics.add_toxic(links_touching(targets, nodes), kind, attributes)
        return {
            "kind": kind,
            "nodes": list(targets),
            "attributes": attributes,
            "links": [link_label(link) for link in links],
            "effect": effect(f"{kind} {attributes} on {len(links)} links", bool(links)),
        }

    def heal(self) -> None:
        self.toxics.remove_toxics()
