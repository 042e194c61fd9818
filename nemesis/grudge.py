"""Network partitions as data: *grudges*, computed by pure functions.

A grudge maps a node to the nodes it no longer hears from (a node absent from the map, or
mapped to the empty set, hears everyone). The shapes follow Jepsen's ``jepsen.nemesis``:
``complete-grudge``, ``bisect`` (halves, smaller half first), ``split-one`` (isolate),
``majorities-ring`` and ``bridge``, plus one-way (asymmetric) cuts. An adapter turns a grudge
into the directed links to cut (``links_to_cut``) and the history records it (``describe``).

No I/O. Randomness only from the ``random.Random`` passed in; the random shapes shuffle the
*sorted* node names, so the same seed gives the same grudge whatever order the nodes come in.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

Grudge = Mapping[str, frozenset[str]]


def _checked(nodes: Collection[str]) -> list[str]:
    """The nodes as a list, rejecting empty names and repeats."""
    names = list(nodes)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"node names must be non-empty strings, got {name!r}")
    repeated = sorted(n for n, c in Counter(names).items() if c > 1)
    if repeated:
        raise ValueError(f"nodes named more than once: {', '.join(repeated)}")
    return names


def _shuffled(nodes: Collection[str], rng: random.Random) -> list[str]:
    names = sorted(_checked(nodes))
    rng.shuffle(names)
    return names


def _at_least(names: list[str], count: int, shape: str) -> None:
    if len(names) < count:
        raise ValueError(f"{shape} needs at least {count} nodes, got {len(names)}")


def complete_grudge(components: Sequence[Collection[str]]) -> dict[str, frozenset[str]]:
    """Nodes in different components cannot hear each other; within one, everyone hears
    everyone. Every node named gets an entry."""
    groups = [frozenset(_checked(c)) for c in components]
    seen: Counter[str] = Counter(node for group in groups for node in group)
    shared = sorted(n for n, c in seen.items() if c > 1)
    if shared:
        raise ValueError(f"nodes in more than one component: {', '.join(shared)}")
    universe = frozenset(seen)
    return {node: universe - group for group in groups for node in group}


def halves(nodes: Sequence[str]) -> dict[str, frozenset[str]]:
    """Jepsen's ``bisect``: the first ⌊n/2⌋ nodes (the smaller half) against the rest."""
    names = _checked(nodes)
    cut = len(names) // 2
    return complete_grudge([names[:cut], names[cut:]])


def random_halves(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """``halves`` of a random order: a random minority cut off from a random majority."""
    return halves(_shuffled(nodes, rng))


def isolate(nodes: Collection[str], node: str) -> dict[str, frozenset[str]]:
    """Jepsen's ``split-one``: ``node`` hears nobody and nobody hears it."""
    names = _checked(nodes)
    if node not in names:
        raise ValueError(f"cannot isolate {node!r}: not one of {', '.join(sorted(names))}")
    return complete_grudge([[node], [n for n in names if n != node]])


def isolate_random(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    names = sorted(_checked(nodes))
    _at_least(names, 1, "isolate")
    return isolate(names, rng.choice(names))


def majorities_ring(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """Every node hears a majority, and (from 4 nodes up) no two hear the same majority.

    The nodes are put in a random ring and each hears the ring neighbours within ⌊m/2⌋ steps
    either side (m = ⌊n/2⌋+1, a majority), so 2⌊m/2⌋+1 ≥ m nodes including itself. Unlike
    Jepsen's (whose windows are one-sided for some sizes and stochastic above five nodes) the
    grudge is symmetric: a link is cut in both directions or not at all. A symmetric window
    holds an odd number of nodes, so when m is even nodes hear m+1, one more than a bare
    majority. With three nodes or fewer every window is the whole ring and nothing is cut.
    """
    ring = _shuffled(nodes, rng)
    count = len(ring)
    reach = (count // 2 + 1) // 2
    everyone = frozenset(ring)
    return {
        node: everyone - {ring[(i + step) % count] for step in range(-reach, reach + 1)}
        for i, node in enumerate(ring)
    }


def minority_third(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """A random third of the nodes (at least one, always a minority) cut off, together, from
    the other two thirds: a smaller minority than ``random-halves`` leaves."""
    names = _shuffled(nodes, rng)
    _at_least(names, 2, "minority-third")
    cut = max(1, len(names) // 3)
    return complete_grudge([names[:cut], names[cut:]])


def bridge(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """Jepsen's ``bridge``: random halves that cannot hear each other, except one node of the
    larger half (the bridge) that hears, and is heard by, everyone."""
    names = _shuffled(nodes, rng)
    _at_least(names, 3, "bridge")
    cut = len(names) // 2
    span = names[cut]
    grudge = complete_grudge([names[:cut], names[cut:]])
    return {node: frozenset() if node == span else grudge[node] - {span} for node in grudge}


def bridge_node(grudge: Grudge) -> str | None:
    """The node a ``bridge`` grudge keeps connected to everyone (``None`` if there is none)."""
    nodes = set(grudge)
    for node in sorted(nodes):
        if not grudge[node] and all(node not in grudge[other] for other in nodes):
            return node
    return None


def one_way(src: str, dst: str) -> dict[str, frozenset[str]]:
    """An asymmetric cut: ``dst`` no longer hears ``src``; ``src`` still hears ``dst``."""
    _checked([src, dst])
    return {src: frozenset(), dst: frozenset({src})}


def one_way_random(nodes: Collection[str], rng: random.Random) -> dict[str, frozenset[str]]:
    """``one_way`` between two random distinct nodes; every other node hears everyone."""
    names = sorted(_checked(nodes))
    _at_least(names, 2, "one-way")
    src, dst = rng.sample(names, 2)
    return {node: frozenset() for node in names} | one_way(src, dst)


def hears(grudge: Grudge, receiver: str, sender: str) -> bool:
    """Whether ``receiver`` still gets ``sender``'s messages under ``grudge``."""
    return sender not in grudge.get(receiver, frozenset())


def links_to_cut(grudge: Grudge) -> set[tuple[str, str]]:
    """The directed links ``(sender, receiver)`` whose traffic must be dropped."""
    return {(sender, receiver) for receiver, deaf_to in grudge.items() for sender in deaf_to}


def describe(grudge: Grudge) -> dict[str, list[str]]:
    """A JSON-able, sorted form for history records: ``{"n1": ["n3", "n4"], ...}``."""
    return {node: sorted(grudge[node]) for node in sorted(grudge)}


def from_description(data: object) -> dict[str, frozenset[str]]:
    """The grudge ``describe`` produced (e.g. given on a command line); ``ValueError`` naming
    the problem otherwise."""
    if not isinstance(data, Mapping):
        raise ValueError(f"grudge: expected an object of node -> [nodes], got {data!r}")
    grudge: dict[str, frozenset[str]] = {}
    for node, others in data.items():
        if not isinstance(node, str) or not node:
            raise ValueError(f"grudge: node names must be non-empty strings, got {node!r}")
        if not isinstance(others, list) or not all(isinstance(o, str) and o for o in others):
            raise ValueError(f"grudge[{node!r}]: expected a list of node names, got {others!r}")
        if node in others:
            raise ValueError(f"grudge[{node!r}]: a node cannot hold a grudge against itself")
        grudge[node] = frozenset(others)
    return grudge


def parse_grudge(text: str) -> dict[str, frozenset[str]]:
    """A grudge written on a command line: ``"n1:n2,n3;n4:n5"`` means n1 no longer hears n2
    and n3, and n4 no longer hears n5 (one direction each: write ``n2:n1`` too for a cut both
    ways). ``ValueError`` naming the part that is wrong otherwise."""
    grudge: dict[str, frozenset[str]] = {}
    parts = [part.strip() for part in str(text).split(";") if part.strip()]
    if not parts:
        raise ValueError(f"grudge {text!r}: expected node:nodes;node:nodes, e.g. 'n1:n2,n3;n4:n5'")
    for part in parts:
        node, sep, others = part.partition(":")
        node = node.strip()
        deaf = [other.strip() for other in others.split(",") if other.strip()]
        if not sep or not node or not deaf:
            raise ValueError(f"grudge {text!r}: {part!r} is not node:nodes (e.g. 'n1:n2,n3;n4:n5')")
        if node in deaf:
            raise ValueError(f"grudge {text!r}: {node} cannot hold a grudge against itself")
        grudge[node] = grudge.get(node, frozenset()) | frozenset(deaf)
    return grudge
