"""Dotted version vectors, the default versioning (``versioning = dvv``): Preguiça, Baquero et
al., "Dotted Version Vectors: Logical Clocks for Optimistic Replication" (2010; PODC 2012), as
in Riak's dvvset.

Each version carries the single event (its dot: the coordinator and a fresh counter there) that
created it and the causal past the client had seen, so a version is superseded only by one whose
past contains its dot. Two concurrent writes through the same coordinator with the same context
therefore both survive as siblings: no lost update, which the paper's vector clocks
(DeCandia et al. 2007, §4.4; see ``vclock``) cannot promise. This is the hottest code of a node,
so merge and ``descends`` run in one pass over the versions (the join of their pasts and the
winner of each dot) instead of comparing every pair, and two single-version states are decided
without building the general pass. Pure values: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from cluster.core.versions.context import Context
from cluster.core.versions.encoding import _encode_value
from cluster.core.versions.scheme import _merged, _typed
from cluster.core.versions.siblings import Siblings, _new_siblings
from cluster.core.versions.version import DvvVersion, _new_dvv


def _reach_and_winners(
    versions: Iterable[DvvVersion],
) -> tuple[dict[str, int], dict[tuple[str, int], DvvVersion]] | None:
    """The join of the versions' pasts, and for each dot the version claiming it that wins
    the tie (the largest canonical text); ``None`` if some version's past already contains its
    own dot (only a hand-built version can), which the one-pass comparisons cannot handle."""
    reach: dict[str, int] = {}
    winners: dict[tuple[str, int], DvvVersion] = {}
    for w in versions:
        node, counter = w.node, w.counter
        for n, c in w.past:
            if c > reach.get(n, 0):
                reach[n] = c
            if n == node and c >= counter:
                return None
        dot = (node, counter)
        best = winners.get(dot)
        if best is None or (best is not w and best != w and w.sort_key > best.sort_key):
            winners[dot] = w
    return reach, winners


_sort_key = attrgetter("sort_key")


def _dvv_maximal(s: Siblings, versions: tuple[DvvVersion, ...]) -> Siblings:
    """``s`` (whose versions are ``versions``) without the versions it supersedes itself: the
    merge of ``s`` with itself or with nothing."""
    if s._maximal:
        return s
    if len(versions) > 1:
        found = _reach_and_winners(versions)
        if found is None:
            kept = [v for v in versions if not any(w != v and v.seen_by(w) for w in versions)]
            return _merged(versions, kept, s)
        reach, winners = found
        # ``versions`` has no repeats, so a version keeps its dot only by being its winner.
        kept = [
            v
            for v in versions
            if reach.get(v.node, 0) < v.counter and winners[(v.node, v.counter)] is v
        ]
        if len(kept) != len(versions):
            s = _new_siblings(tuple(kept))  # a subsequence of a canonical order is one
    # (A single version supersedes nothing but itself, even one whose past holds its dot.)
    object.__setattr__(s, "_maximal", True)
    return s


def _dvv_merge_pair(a: Siblings, x: DvvVersion, b: Siblings, y: DvvVersion) -> Siblings | None:
    """The merge of two different states of one version each (``a`` holds ``x``, ``b`` holds
    ``y``), the common case (a replica receiving the next write of a key, a read meeting a
    stale replica), without the dicts of the general merge; ``None`` leaves the cases it does
    not decide (two values claiming one dot, a past holding its own dot, two versions
    superseding each other) to that merge."""
    x_node, x_counter, y_node, y_counter = x.node, x.counter, y.node, y.counter
    if x_node == y_node and x_counter == y_counter:
        return None
    x_past, y_past = dict(x.past), dict(y.past)
    if x_past.get(x_node, 0) >= x_counter or y_past.get(y_node, 0) >= y_counter:
        return None
    # A version is superseded exactly when the other's past reaches its dot (its own past
    # does not, and the dots differ, so neither version wins a tie over the other).
    x_kept = y_past.get(x_node, 0) < x_counter
    y_kept = x_past.get(y_node, 0) < y_counter
    if x_kept and y_kept:  # concurrent: siblings, in canonical order
        result = _new_siblings((x, y) if x.sort_key < y.sort_key else (y, x))
    elif x_kept:
        result = a
    elif y_kept:
        result = b  # the replica write path: the incoming version descends the local one
    else:
        return None
    object.__setattr__(result, "_maximal", True)
    return result


class Dvv:
    """Dotted version vectors: a write's dot is a fresh event of its coordinator, and a version
    is superseded only by one whose past contains that dot."""

    name = "dvv"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        versions = _typed(local, DvvVersion, self.name)
        seen = context.as_dict()
        # A fresh event at `node`: above everything the client and this replica know of it.
        counter = seen.get(node, 0)
        for v in versions:
            if v.node == node and v.counter > counter:
                counter = v.counter
            for n, c in v.past:
                if n == node and c > counter:
                    counter = c
        counter += 1
        new = _new_dvv(_encode_value(value), node, counter, context.counters, value)
        concurrent = [v for v in versions if seen.get(v.node, 0) < v.counter]
        seen[node] = counter  # the join of the context and the new dot: counter > seen[node]
        if not concurrent:  # the context covered the whole local state: the common case
            return _new_siblings((new,)), seen
        # ``concurrent`` keeps the canonical order of ``local``; the new version's dot is new
        # (its counter is above every event of ``node`` here), so it goes in at its place.
        key = new.sort_key
        place = 0
        while place < len(concurrent) and concurrent[place].sort_key < key:
            place += 1
        concurrent.insert(place, new)
        return _new_siblings(tuple(concurrent)), seen

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        mine = _typed(a, DvvVersion, self.name)
        theirs = _typed(b, DvvVersion, self.name)
        # Equal states (a read's replicas mostly agree) and an empty side (a read's first
        # answer, a key new to a replica) need only one side's versions: a duplicate neither
        # supersedes nor saves anything.
        if not theirs or a is b or mine == theirs:
            return _dvv_maximal(a, mine)
        if not mine:
            return _dvv_maximal(b, theirs)
        if len(mine) == 1 and len(theirs) == 1:
            pair = _dvv_merge_pair(a, mine[0], b, theirs[0])
            if pair is not None:
                return pair
        union = mine + theirs
        found = _reach_and_winners(union)
        if found is None:
            pairwise = [v for v in union if not any(w != v and v.seen_by(w) for w in union)]
            return _merged(union, pairwise, None)
        # One pass instead of every pair: a version is superseded when some version's past
        # reaches its dot (a well-formed past never reaches its own dot, hence never that of
        # another version claiming the same dot), or when another value claiming the same dot
        # wins the tie. Each side is in canonical order without repeats, so a version of ``a``
        # survives only as its dot's winner itself, and one of ``b`` that survives is kept
        # unless ``a`` kept its dot already (an equal version, perhaps the same object).
        reach, winners = found
        kept: list[DvvVersion] = []
        taken: set[tuple[str, int]] = set()  # the dots of the versions of ``a`` kept
        for v in mine:
            dot = (v.node, v.counter)
            if reach.get(v.node, 0) < v.counter and winners[dot] is v:
                kept.append(v)
                taken.add(dot)
        all_of_mine = len(kept) == len(mine)
        all_of_theirs = True  # every version of ``b`` survives (itself or an equal of ``a``'s)
        for w in theirs:
            if reach.get(w.node, 0) >= w.counter:
                all_of_theirs = False
                continue
            dot = (w.node, w.counter)
            winner = winners[dot]
            if winner is w or winner == w:
                if dot not in taken:
                    kept.append(w)
            else:
                all_of_theirs = False
        # The result is one input whole when it keeps exactly that input's versions: the
        # replica write path (the incoming state descends the local one, and carries the local
        # versions it did not supersede) returns ``b`` without sorting or building anything.
        result: Siblings
        if all_of_theirs and len(kept) == len(theirs):
            result = b
        elif all_of_mine and len(kept) == len(mine):
            result = a
        else:
            if len(kept) > 1:  # both sides are sorted: interleave them
                kept.sort(key=_sort_key)
            result = _new_siblings(tuple(kept))
        # No version of a merge supersedes another, so merging it again changes nothing.
        object.__setattr__(result, "_maximal", True)
        return result

    def context(self, s: Siblings) -> Context:
        versions = _typed(s, DvvVersion, self.name)
        if len(versions) == 1:  # the common case: the version's past and its dot
            v = versions[0]
            joined = dict(v.past)
            if v.counter > joined.get(v.node, 0):
                joined[v.node] = v.counter
            return Context.of(joined)
        joined = {}
        for v in versions:
            for n, c in v.past:
                if c > joined.get(n, 0):
                    joined[n] = c
            if v.counter > joined.get(v.node, 0):
                joined[v.node] = v.counter
        return Context.of(joined)

    def descends(self, a: Siblings, b: Siblings) -> bool:
        mine = _typed(a, DvvVersion, self.name)
        theirs = _typed(b, DvvVersion, self.name)
        if not theirs or a is b or mine == theirs:
            return True  # every version has seen itself
        found = _reach_and_winners(mine)
        if found is None:
            return all(any(v.seen_by(w) for w in mine) for v in theirs)
        reach, winners = found
        for v in theirs:
            if reach.get(v.node, 0) >= v.counter:
                continue
            winner = winners.get((v.node, v.counter))
            if winner is None or not (winner is v or winner == v or winner.sort_key >= v.sort_key):
                return False
        return True

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [v.clock() for v in _typed(s, DvvVersion, self.name)]
