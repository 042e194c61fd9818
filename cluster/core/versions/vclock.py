"""The paper's vector clocks (DeCandia et al. 2007, §4.4), as an option (``versioning = vclock``).

The coordinator of a put increments its own entry of the client's context; a version whose clock
another version's clock dominates is dropped. Clocks are truncated at ``VCLOCK_MAX_ENTRIES``
entries by oldest timestamp, as §4.4 describes, at the price the paper warns of: a truncated
clock no longer shows what it descends, and old versions linger as false siblings. Two
concurrent read-modify-writes through one coordinator with the same context get *equal* clocks,
and one silently replaces the other (``_vclock_key`` decides which, deterministically): the lost
update Riak fixed with dotted version vectors (see ``dvv``). The harness shows that loss.
Pure values: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cluster.core.versions.context import Context
from cluster.core.versions.encoding import _encode_value
from cluster.core.versions.scheme import _merged, _typed, _union
from cluster.core.versions.siblings import Siblings
from cluster.core.versions.version import VclockVersion, _new_vclock

VCLOCK_MAX_ENTRIES = 10  # the paper's truncation threshold (§4.4)


def _vclock_key(v: VclockVersion) -> tuple[int, str, str]:
    """Which of two versions with equal counters survives: the later write (its newest
    timestamp), then the larger value encoding, then the larger clock — a total order."""
    return (max(t for _, _, t in v.entries), v.value_json, v.sort_key)


def _vclock_below(v: VclockVersion, w: VclockVersion) -> bool:
    """``v`` is superseded by ``w``: a strictly smaller clock, or an equal clock that loses."""
    return v is not w and _clock_below(v, v._clock, w, w._clock)


def _clock_below(
    v: VclockVersion, vc: dict[str, int], w: VclockVersion, wc: dict[str, int]
) -> bool:
    """``_vclock_below`` for two distinct versions, given their clocks."""
    if vc == wc:
        return _vclock_key(v) < _vclock_key(w)
    if len(vc) > len(wc):
        return False  # v counts an event at a node w has never heard of
    for n, c in vc.items():  # noqa: SIM110 (a plain loop: half the cost of all() here)
        if c > wc.get(n, 0):
            return False
    return True


def _vclock_maximal(versions: Sequence[VclockVersion]) -> list[VclockVersion]:
    """The versions no other version supersedes (each clock looked up once)."""
    if len(versions) < 2:
        return list(versions)
    clocked = [(v, v._clock) for v in versions]
    return [
        v
        for v, vc in clocked
        if not any(w is not v and _clock_below(v, vc, w, wc) for w, wc in clocked)
    ]


class Vclock:
    """The paper's vector clocks (§4.4): the coordinator increments its own entry of the
    client's context; versions whose clocks another version's clock dominates are dropped."""

    name = "vclock"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        versions = _typed(local, VclockVersion, self.name)
        stamps = context.timestamps()
        entries = {n: (c, stamps.get(n, 0)) for n, c in context.counters}
        entries[node] = (entries.get(node, (0, 0))[0] + 1, int(now_ms))
        if len(entries) > VCLOCK_MAX_ENTRIES:
            # Truncation (§4.4): drop the oldest entries, never the one just written.
            others = sorted((n for n in entries if n != node), key=lambda n: (entries[n][1], n))
            for victim in others[: len(entries) - VCLOCK_MAX_ENTRIES]:
                del entries[victim]
        new = _new_vclock(
            _encode_value(value), tuple(sorted([(n, c, t) for n, (c, t) in entries.items()])), value
        )
        # Keep the maximal versions of local ∪ {new}, as merge would: equal clocks mean one of
        # the two writes is silently lost (normally the older one); a local version that
        # strictly dominates a write from a stale context makes that write vanish.
        return self._maximal([new, *versions]), new.clock()

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        union, whole = _union(a, b, VclockVersion, self.name)
        if whole is not None and whole._maximal:
            return whole
        return _merged(union, _vclock_maximal(union), whole)

    @staticmethod
    def _maximal(versions: list[VclockVersion]) -> Siblings:
        return Siblings(tuple(_vclock_maximal(versions)))

    def context(self, s: Siblings) -> Context:
        best: dict[str, tuple[int, int]] = {}
        for v in _typed(s, VclockVersion, self.name):
            for n, c, t in v.entries:
                best[n] = max(best.get(n, (0, 0)), (c, t))
        return Context.of(
            {n: c for n, (c, _) in best.items()}, {n: t for n, (_, t) in best.items()}
        )

    def descends(self, a: Siblings, b: Siblings) -> bool:
        mine = _typed(a, VclockVersion, self.name)
        theirs = _typed(b, VclockVersion, self.name)
        if a is b or mine == theirs:
            return True  # every version equals itself
        return all(any(v == w or _vclock_below(v, w) for w in mine) for v in theirs)

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [v.clock() for v in _typed(s, VclockVersion, self.name)]
