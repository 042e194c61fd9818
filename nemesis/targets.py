"""Which nodes a fault hits: one, a minority, a majority, all, the primaries of a key, or nodes
named by the user.

A *target spec* is one of the keywords in ``TARGETS``, ``primaries:KEY`` (the key's preference
list; plain ``primaries`` is the run's hot key), or named nodes (a list of names, or one
string of names separated by commas). Which nodes hold a key depends on the ring, which only
the environment knows: ``primaries`` specs are resolved to named nodes before they get here
(``nemesis.combined`` does, through the environment's ``preference_list``).
``parse_targets`` validates a spec against the cluster's nodes; ``pick_targets`` resolves it
to concrete nodes with a seeded ``random.Random``, so the same seed hits the same nodes. As in
Jepsen's ``db-nodes``, ``minority`` is the largest minority (⌊(n-1)/2⌋ nodes) and
``majority`` the smallest majority (⌊n/2⌋+1 nodes). Pure, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

TARGETS = ("one", "minority", "majority", "all")
PRIMARIES = "primaries"


def primaries_key(spec: object) -> str | None:
    """For ``primaries`` (``""``: the hot key) or ``primaries:KEY`` (``KEY``); else None."""
    if not isinstance(spec, str):
        return None
    text = spec.strip()
    if text == PRIMARIES:
        return ""
    if text.startswith(PRIMARIES + ":") and text[len(PRIMARIES) + 1 :].strip():
        return text[len(PRIMARIES) + 1 :].strip()
    return None


# A keyword from TARGETS, or named nodes.
TargetSpec = str | Sequence[str]


def minority_size(n: int) -> int:
    """The largest number of nodes that is still fewer than half of ``n``."""
    return (n - 1) // 2


def majority_size(n: int) -> int:
    """The smallest number of nodes that is more than half of ``n``."""
    return n // 2 + 1


def _accepted(nodes: Sequence[str]) -> str:
    return (
        f"accepted: {', '.join(TARGETS)}, {PRIMARIES}, {PRIMARIES}:KEY,"
        f" or node names from {', '.join(nodes)}"
    )


def parse_targets(spec: TargetSpec, nodes: Sequence[str], option: str = "targets") -> TargetSpec:
    """``spec`` normalised: a keyword, or a tuple of distinct node names in cluster order.

    Raises ``ValueError`` naming ``option`` and the accepted values for anything else.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text in TARGETS or primaries_key(text) is not None:
            return text
        names = [part.strip() for part in text.split(",")]
    else:
        names = [str(part).strip() for part in spec]
    if not names or any(not name for name in names):
        raise ValueError(f"{option}: empty target in {spec!r}; {_accepted(nodes)}")
    unknown = [name for name in names if name not in nodes]
    if unknown:
        raise ValueError(
            f"{option}: unknown target {', '.join(map(repr, unknown))}; {_accepted(nodes)}"
        )
    chosen = set(names)
    return tuple(node for node in nodes if node in chosen)


def pick_targets(spec: TargetSpec, nodes: Sequence[str], rng: random.Random) -> tuple[str, ...]:
    """The nodes ``spec`` designates among ``nodes``, in the order of ``nodes``.

    Keywords choose at random (from ``rng``) among ``nodes``; ``one`` of no nodes is none.
    Named nodes that are not in ``nodes`` (e.g. not eligible right now) are left out.
    """
    keyword = spec.strip() if isinstance(spec, str) else None
    if primaries_key(keyword) is not None:
        raise ValueError(
            f"targets {spec!r}: which nodes hold a key depends on the ring; resolve it through"
            " the environment's preference_list first"
        )
    if keyword not in TARGETS:
        parts = spec.split(",") if isinstance(spec, str) else spec
        named = {str(name).strip() for name in parts}
        return tuple(node for node in nodes if node in named)
    n = len(nodes)
    size = {
        "one": min(1, n),
        "minority": max(0, minority_size(n)),
        "majority": majority_size(n) if n else 0,
        "all": n,
    }[keyword]
    chosen = set(rng.sample(list(nodes), size))
    return tuple(node for node in nodes if node in chosen)


def choose_targets(
    spec: TargetSpec,
    nodes: Sequence[str],
    eligible: Sequence[str],
    rng: random.Random,
    option: str = "targets",
) -> tuple[str, ...]:
    """``spec`` validated against the cluster's ``nodes`` (``ValueError`` naming ``option``),
    then resolved among the ``eligible`` nodes: keywords size themselves on the eligible ones,
    named nodes that are not eligible (down, already faulted) are skipped."""
    parse_targets(spec, nodes, option)
    return pick_targets(spec, [node for node in nodes if node in set(eligible)], rng)
