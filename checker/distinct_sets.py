"""Linearizability in polynomial time for a set (add, read the whole set) whose adds are distinct.

No I/O. Called by `checker.distinct.check_distinct` for the ``set`` model when no element is
added twice. The state only grows, so the sets the reads return must form a chain
``T1 ⊂ T2 ⊂ ... ⊂ Tk`` (two reads that saw incomparable sets, or a set with an element nobody
added, cannot both be linearized), and the chain fixes the order of everything up to the order
inside each group: the reads of the empty set, then the adds of ``T1``, the reads of ``T1``,
the adds of ``T2 \\ T1``, the reads of ``T2``, ..., and last the adds no read saw (a crashed
one that no read saw is left out: never taking effect is allowed and never hurts). A sequence
of groups, each unordered inside, fits the operations' intervals iff placing every operation
as early as possible after the previous group (at the later of its invocation and the latest
point of that group) puts it before its completion: a greedy pass, O(n log n) with the sort.
This is the set case of the distinct-values setting of Lee & Mathur (OOPSLA 2025), decided
here with that greedy argument rather than their monitor.

An invalid key is explained as in `checker.distinct`: the first completion after which the
history stops being linearizable (binary search over the completions; the property is
monotone in the cut) and the greedy linearization of the history cut just before it.
"""

from __future__ import annotations

from typing import Any

from checker.models import ADD, READ, Step
from checker.wgl import SearchOutcome

_INF = float("inf")
_NEG_INF = float("-inf")


def check_distinct_set(
    steps: list[Step], calls: list[int], rets: list[int | None]
) -> SearchOutcome | None:
    """Decide a set key whose adds are distinct, or None if it is not of that shape."""
    added_by: dict[Any, int] = {}
    for i, (code, a, _) in enumerate(steps):
        if code == ADD:
            (element,) = a
            if element in added_by:
                return None  # added twice: the search decides
            added_by[element] = i
        elif code != READ or not isinstance(a, frozenset):
            return None
    if _plan(steps, calls, rets, added_by, None) is not None:
        return SearchOutcome(True, None, (), frozenset(), 0)
    completions = sorted((ret, i) for i, ret in enumerate(rets) if ret is not None)
    low, high = 0, len(completions) - 1  # the first cut that fails is in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _plan(steps, calls, rets, added_by, completions[middle][0] + 1) is None:
            high = middle
        else:
            low = middle + 1
    ret, stuck = completions[low]
    order = _plan(steps, calls, rets, added_by, ret)
    assert order is not None, "a history cut before its first completion is linearizable"
    state = frozenset(next(iter(steps[i][1])) for i in order if steps[i][0] == ADD)
    return SearchOutcome(False, stuck, tuple(order), state, 0)


def _plan(
    steps: list[Step],
    calls: list[int],
    rets: list[int | None],
    added_by: dict[Any, int],
    cut: int | None,
) -> list[int] | None:
    """A linearization of the history's events before ``cut`` (all if None), or None."""
    end = _INF if cut is None else cut

    def ret_of(i: int) -> float:
        ret = rets[i]
        return _INF if ret is None or ret >= end else ret

    reads_of: dict[frozenset[Any], list[int]] = {}
    for i, (code, a, _) in enumerate(steps):
        if code == READ and ret_of(i) != _INF and calls[i] < end:
            reads_of.setdefault(a, []).append(i)
    chain = sorted(reads_of, key=len)
    groups: list[list[int]] = []
    seen: frozenset[Any] = frozenset()
    observed: set[int] = set()
    for current in chain:
        if not seen <= current:
            return None  # two reads saw sets neither of which contains the other
        adds = []
        for element in current - seen:
            op = added_by.get(element)
            if op is None or calls[op] >= end:
                return None  # an element nobody added (yet)
            adds.append(op)
            observed.add(op)
        groups.append(adds)
        groups.append(reads_of[current])
        seen = current
    groups.append(
        [
            op
            for op in added_by.values()
            if op not in observed and calls[op] < end and ret_of(op) != _INF
        ]
    )
    keyed: list[tuple[float, int, int]] = []
    latest = _NEG_INF
    for number, group in enumerate(groups):
        group_latest = latest
        for op in group:
            point = max(latest, calls[op])
            if point >= ret_of(op):
                return None
            group_latest = max(group_latest, point)
            keyed.append((point, number, op))
        latest = group_latest
    keyed.sort()
    return [op for *_, op in keyed]
