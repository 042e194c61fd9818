"""Partition shapes and modes by name: what ``start-partition`` accepts and the grudge it means.

``grudge_for`` turns a partition op's value (``{"shape": "random-halves"}``, optionally naming the
node to ``isolate``, the ``src``/``dst`` of a ``one-way`` cut, or an explicit ``grudge``) into a
grudge, using ``nemesis.grudge`` and a seeded ``random.Random``. The ``primaries`` shape cuts
the preference list of a key (``value["primaries"]``, resolved from the ring by the caller):
``apart`` (each primary no longer hears the other primaries; the coordinators still reach
them all) or ``cut-off`` (the primaries, together, from every other node). Modes say how a
cut link behaves: ``refuse`` (connections reset, reconnects refused) or ``drop`` (a black
hole). Pure, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from nemesis import grudge as g

# Shapes computed from the node names alone (the default set) ...
PARTITION_SHAPES = (
    "halves",
    "random-halves",
    "isolate",
    "majorities-ring",
    "bridge",
    "one-way",
    "minority-third",
)
# ... and the Dynamo-specific one that needs the ring: the preference list of the hot key.
PRIMARIES_SHAPE = "primaries"
ACCEPTED_SHAPES = (*PARTITION_SHAPES, PRIMARIES_SHAPE)
PRIMARIES_FORMS = ("apart", "cut-off")
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
    shape = check_choice("partition shape", value.get("shape"), ACCEPTED_SHAPES)
    if shape == PRIMARIES_SHAPE:
        return _primaries_grudge(value, nodes, rng)
    if shape == "minority-third":
        return g.minority_third(nodes, rng)
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


def _primaries_grudge(
    value: Mapping[str, Any], nodes: Sequence[str], rng: random.Random
) -> dict[str, frozenset[str]]:
    primaries = value.get("primaries")
    if not isinstance(primaries, list | tuple) or not primaries:
        raise ValueError(
            "partition primaries: the key's primaries must be resolved from the ring first"
            " (value['primaries'])"
        )
    unknown = sorted(set(primaries) - set(nodes))
    if unknown:
        raise ValueError(f"partition primaries: unknown nodes {', '.join(unknown)}")
    form = value.get("form") or rng.choice(PRIMARIES_FORMS)
    check_choice("partition primaries form", form, PRIMARIES_FORMS)
    chosen = frozenset(primaries)
    if form == "apart":
        return {node: (chosen - {node} if node in chosen else frozenset()) for node in nodes}
    rest = [node for node in nodes if node not in chosen]
    return g.complete_grudge([sorted(chosen), rest]) if rest else {n: frozenset() for n in nodes}
