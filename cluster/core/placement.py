"""Where data belongs under one ring: each partition's N primaries, computed once per ring.

``Ring.partition_primaries`` walks the ring, which costs O(Q) per partition; the background
protocols (anti-entropy, handoff, reaping) ask for every partition every round, so a node keeps
one ``Placement`` per ring version. A pure value: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cluster.core.ring import Ring


@dataclass(frozen=True)
class Placement:
    ring: Ring
    n: int
    primaries: tuple[tuple[str, ...], ...] = field(init=False)
    _replicated: dict[str, frozenset[int]] = field(init=False)

    def __post_init__(self) -> None:
        primaries = tuple(
            tuple(self.ring.partition_primaries(p, self.n)) for p in range(self.ring.partitions)
        )
        replicated: dict[str, set[int]] = {}
        for p, names in enumerate(primaries):
            for name in names:
                replicated.setdefault(name, set()).add(p)
        object.__setattr__(self, "primaries", primaries)
        object.__setattr__(
            self, "_replicated", {name: frozenset(ps) for name, ps in replicated.items()}
        )

    def key_primaries(self, key: str) -> tuple[str, ...]:
        return self.primaries[self.ring.partition_of(key)]

    def replicated(self, node: str) -> frozenset[int]:
        """The partitions ``node`` is a primary of."""
        return self._replicated.get(node, frozenset())

    def shared(self, a: str, b: str) -> list[int]:
        """The partitions both ``a`` and ``b`` replicate."""
        return sorted(self.replicated(a) & self.replicated(b))
