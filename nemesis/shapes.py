"""Partition shapes and modes by name: what ``start-partition`` accepts and the grudge it means.

``grudge_for`` turns a partition op's value (``{"shape": "random-halves"}``, optionally naming the
node to ``isolate``, the ``src``/``dst`` of a ``one-way`` cut, or an explicit ``grudge``) into a
grudge, using ``nemesis.grudge`` and a seeded ``random.Random``. Modes say how a cut link behaves:
``refuse`` (connections reset, reconnects refused) or ``drop`` (a black hole). Pure, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from nemesis import grudge as g

PARTITION_SHAPES = ("halves", "random-halves", "isolate", "majorities-ring", "bridge", "one-way")
PARTITION_MODES = ("refuse", "drop")


def check_choice(option: str, value: object, accepted: Sequence[str]) -> str:
    """``value`` if it is one of ``accepted``; otherwise ``ValueError`` naming both."""
    if not isinstance(value, str) or value not in accepted:
        raise ValueError(f"{option}: {value!r} is not accepted; accepted: {', '.join(accepted)}")
    return value


def _named_node(value: Mapping[str, Any], key: str, nodes: Sequence[str]) -> str | None:
    name = value.get(key)
    if name is None:
        return None
    if name not in nodes:
        raise ValueError(f"partition {key}: unknown node {name!r}; nodes: {', '.join(nodes)}")
    return str(name)


def grudge_for(
    value: Mapping[str, Any], nodes: Sequence[str], rng: random.Random
) -> dict[str, frozenset[str]]:
    """The grudge a ``start-partition`` value asks for, among ``nodes``.

    ``{"grudge": {...}}`` is taken as given (the ``describe`` form); otherwise ``shape`` (one of
    ``PARTITION_SHAPES``) is computed, with ``node`` fixing whom ``isolate`` cuts off and
    ``src``/``dst`` fixing a ``one-way`` cut.
    """
    if "grudge" in value:
        grudge = g.from_description(value["grudge"])
        strangers = sorted({n for n, deaf in grudge.items() for n in (n, *deaf)} - set(nodes))
        if strangers:
            raise ValueError(
                f"partition grudge: unknown nodes {', '.join(strangers)}; nodes: {', '.join(nodes)}"
            )
        return grudge
    shape = check_choice("partition shape", value.get("shape"), PARTITION_SHAPES)
    if shape == "halves":
        return g.halves(nodes)
    if shape == "random-halves":
        return g.random_halves(nodes, rng)
    if shape == "isolate":
        node = _named_node(value, "node", nodes)
        return g.isolate(nodes, node) if node is not None else g.isolate_random(nodes, rng)
    if shape == "majorities-ring":
        return g.majorities_ring(nodes, rng)
    if shape == "bridge":
        return g.bridge(nodes, rng)
    src, dst = _named_node(value, "src", nodes), _named_node(value, "dst", nodes)
    if src is not None and dst is not None:
        if src == dst:
            raise ValueError(f"partition one-way: src and dst must differ, both are {src!r}")
        return {node: frozenset() for node in nodes} | g.one_way(src, dst)
    if src is not None or dst is not None:
        raise ValueError("partition one-way: give both src and dst, or neither")
    return g.one_way_random(nodes, rng)
