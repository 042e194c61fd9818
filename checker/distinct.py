"""Linearizability in polynomial time for a key whose written values are all distinct.

No I/O. Covers sets whose adds are distinct (`checker.distinct_sets`), and here registers
(read / write) and the kv model (get / put / append on a string that starts empty) when every
value written, put or appended is distinct (and neither empty nor the initial value) and, with
appends, every string a read returns splits in at most one way
into "the last put, then these appends, in order" (always so when no value is a prefix of
another, as with Porcupine's ``x 3 7 y``; otherwise each split is counted by dynamic
programming). Anything else (cas, repeated values, a read that splits two ways) is left
to the Wing–Gong–Lowe search (`checker.wgl`), which the caller keeps for it:
`check_distinct` returns None. Time O(n log n) plus the splitting of the reads (linear in
their length, and a read that is a prefix of one already split costs one comparison).

The algorithm follows Gibbons & Korach, "Testing shared memories" (SIAM J. Comput. 26(4),
1997), whose read-mapping case is polynomial: when each read names the write it saw, a
linearization exists iff the *clusters* (a write with the reads of its value) can be laid out
one after another. We generalise the cluster to an *epoch* to cover appends:

- An epoch is a put (or the initial state) followed by the appends that reads saw after it:
  a read of ``P a1 a2`` says that put ``P`` came, then exactly appends ``a1``, ``a2``, and no
  other put in between. Every read of the epoch must be a prefix of its longest read (one
  chain), and an append belongs to at most one epoch, once. Within the epoch the order is then
  fixed: put, reads of level 0, a1, reads of level 1, a2, ...
- In any linearization an epoch is contiguous: from its put to its last read, nothing else
  happens (another put or an unseen append would change what the later reads see, and a read
  of another epoch sees a different string). Scheduling the epoch's operations as early as
  possible from a start ``s`` shows it fits iff every operation's completion comes after the
  invocations of the operations the chain puts before it (checked once) and ``s`` is before
  the earliest completion ``m`` of its operations; it then ends at the latest invocation ``M``.
  So an epoch behaves exactly like Gibbons & Korach's cluster with *zone* ``[m, M]``.
- A completed write or append that no read saw is a cluster of its own (it must be placed
  where no read sees it: between epochs); a crashed (``info``) one that no read saw is left
  out, since never taking effect is always allowed and never hurts. A crashed operation that
  a read did see takes part with no completion (``m`` unaffected): it may take effect at any
  time after its invocation.
- Gibbons & Korach's condition, checked in O(n log n): a *forward* zone (``m < M``) must be
  occupied by its cluster alone, so forward zones are pairwise disjoint; a *backward* cluster
  (``M < m``) can be squeezed to a point anywhere in ``(M, m)``, so it fails only if that
  whole interval lies inside a forward zone. The initial state's epoch, if read, has
  ``m = -inf``: it comes first.

Lee & Mathur (OOPSLA 2025) give log-linear monitors for the same distinct-values setting;
this module implements the zone argument above, not their monitors.

For an invalid key the explanation is found the way the search reports it: the first
completion of the history after which it is no longer linearizable (binary search over the
completions, as the property is monotone in the cut), the operation that completes there, and
a witness linearization of the history cut just before it (built from the zones: forward
clusters in zone order, each backward cluster at a free point).
"""

from __future__ import annotations

import array
import bisect
import itertools
from dataclasses import dataclass
from typing import Any

from checker.distinct_sets import check_distinct_set
from checker.models import ADD, APPEND, READ, WRITE, Step
from checker.wgl import SearchOutcome

_NEG_INF = float("-inf")
_INF = float("inf")
_INITIAL = -1  # epoch of the initial state
_IMPOSSIBLE = -2  # a read of a string no sequence of the history's writes can produce
_CHAINS_TRIED = 8  # known chains of an epoch a read is compared with before it is split


@dataclass(frozen=True, slots=True)
class _Reading:
    """What each read saw, decoded: its epoch and the appends after the epoch's put."""

    epoch: list[int]  # per op: the WRITE op index, _INITIAL, _IMPOSSIBLE (reads only)
    chain: list[int]  # per op: index into `chains` (reads only)
    level: list[int]  # per op: how many appends of that chain it saw (reads only)
    chains: list[tuple[int, ...]]  # append op indices, in order


def check_distinct(
    steps: list[Step], calls: list[int], rets: list[int | None], initial: Any
) -> SearchOutcome | None:
    """Decide linearizability of one key in polynomial time, or None when the key's
    operations are not of a shape this module covers (then search with `checker.wgl`).

    Arguments as `checker.wgl.search`: ``steps[i]`` op i's step code, ``calls[i]`` and
    ``rets[i]`` its invocation and completion positions (``None``: it never completed)."""
    if any(step[0] == ADD for step in steps):
        return check_distinct_set(steps, calls, rets) if initial == frozenset() else None
    reading = _decode(steps, initial)
    if reading is None:
        return None
    if _feasible(steps, calls, rets, reading, None) is not None:
        return SearchOutcome(True, None, (), initial, 0)
    return _explain_failure(steps, calls, rets, initial, reading)


def _decode(steps: list[Step], initial: Any) -> _Reading | None:
    """Map every read to the epoch and appends it saw; None if the key is out of scope."""
    has_append = False
    mutation_of: dict[Any, int] = {}
    for i, (code, a, _) in enumerate(steps):
        if code == READ:
            continue
        if code == APPEND:
            has_append = True
        elif code != WRITE:
            return None  # cas: the search handles it
        try:
            if a in mutation_of or a == initial:
                return None
        except TypeError:
            return None  # an unhashable value
        mutation_of[a] = i
    count = len(steps)
    epoch = [_IMPOSSIBLE] * count
    chain = [0] * count
    level = [0] * count
    chains: list[tuple[int, ...]] = [()]
    if not has_append:
        for i, (code, a, _) in enumerate(steps):
            if code == READ:
                if a == initial:
                    epoch[i] = _INITIAL
                else:
                    epoch[i] = mutation_of.get(a, _IMPOSSIBLE)
        return _Reading(epoch, chain, level, chains)
    if initial != "" or not all(isinstance(v, str) for v in mutation_of):
        return None
    if "" in mutation_of:
        return None  # an empty put or append: not told apart from no operation
    decoder = _Decoder(steps, mutation_of, _prefix_free(list(mutation_of)))
    reads = [i for i, step in enumerate(steps) if step[0] == READ]
    if not all(isinstance(steps[i][1], str) for i in reads):
        return None
    # Longest first, so that most reads are found as prefixes of one already split.
    reads.sort(key=lambda i: -len(steps[i][1]))
    try:
        for i in reads:
            epoch[i], chain[i], level[i] = decoder.decode(steps[i][1])
    except _Ambiguous:
        return None  # a read's string splits in several ways: the search decides
    return _Reading(epoch, chain, level, decoder.chains)


class _Ambiguous(Exception):
    """A read's string is made of the history's writes in more than one way."""


def _prefix_free(values: list[str]) -> bool:
    """No value is a proper prefix of another (it would be a prefix of its successor)."""
    values.sort()
    return not any(values[k + 1].startswith(values[k]) for k in range(len(values) - 1))


class _Decoder:
    """Splits read strings into a put (or the initial "") and appends, reusing earlier splits:
    a read that is a prefix of a longer read, at a token boundary of its split, shares its
    chain (a second split of the prefix would give the longer read a second split too).

    When no value is a prefix of another, a split is found greedily; otherwise by counting
    the splits of every suffix (dynamic programming), and a read with two splits raises
    `_Ambiguous`."""

    def __init__(self, steps: list[Step], mutation_of: dict[Any, int], prefix_free: bool) -> None:
        self._steps = steps
        self._mutation_of = mutation_of
        self._prefix_free = prefix_free
        self._lengths = sorted({len(v) for v in mutation_of})
        self.chains: list[tuple[int, ...]] = [()]
        # per epoch: (chain id, the string it spells, the length spelled at each level)
        self._known: dict[int, list[tuple[int, str, array.array[int]]]] = {}

    def _token(self, text: str, at: int) -> int:
        """The mutation whose value starts at ``at`` (at most one: values are prefix-free)."""
        for length in self._lengths:
            found = self._mutation_of.get(text[at : at + length])
            if found is not None and at + length <= len(text):
                return found
        return -1

    def decode(self, text: str) -> tuple[int, int, int]:
        """(epoch, chain id, level) for a read of ``text``."""
        if text == "":
            return _INITIAL, 0, 0
        if self._prefix_free:
            first = self._token(text, 0)
            if first < 0:
                return _IMPOSSIBLE, 0, 0
            epochs = [first if self._steps[first][0] == WRITE else _INITIAL]
        else:
            epochs = list(self._known)
        for epoch in epochs:
            # The longest few: a consistent history has one chain per epoch, and one whose
            # reads diverge is better split afresh than compared with every earlier read.
            for chain_id, spelled, boundaries in self._known.get(epoch, ())[:_CHAINS_TRIED]:
                if spelled.startswith(text):
                    level = bisect.bisect_left(boundaries, len(text))
                    if level < len(boundaries) and boundaries[level] == len(text):
                        return epoch, chain_id, level
        split = self._greedy(text) if self._prefix_free else self._unique(text)
        if split is None:
            return _IMPOSSIBLE, 0, 0
        epoch, tokens = split
        at = 0 if epoch == _INITIAL else len(self._steps[epoch][1])
        boundaries = array.array("q", [at])  # the length spelled after each level
        for token in tokens:
            at += len(self._steps[token][1])
            boundaries.append(at)
        chain_id = len(self.chains)
        self.chains.append(tuple(tokens))
        self._known.setdefault(epoch, []).append((chain_id, text, boundaries))
        return epoch, chain_id, len(tokens)

    def _greedy(self, text: str) -> tuple[int, list[int]] | None:
        steps = self._steps
        first = self._token(text, 0)
        epoch = first if steps[first][0] == WRITE else _INITIAL
        at = 0 if epoch == _INITIAL else len(steps[first][1])
        tokens: list[int] = []
        while at < len(text):
            token = self._token(text, at)
            if token < 0 or steps[token][0] != APPEND:
                return None  # no split, or a put that is not first
            tokens.append(token)
            at += len(steps[token][1])
        return epoch, tokens

    def _unique(self, text: str) -> tuple[int, list[int]] | None:
        """The only split of ``text``; None if there is none; raises `_Ambiguous`."""
        steps = self._steps
        mutation_of = self._mutation_of
        lengths = self._lengths
        size = len(text)

        def appended(at: int, length: int) -> int:
            found = mutation_of.get(text[at : at + length], -1)
            return found if found >= 0 and steps[found][0] == APPEND else -1

        ways = [0] * (size + 1)  # splits of text[at:] into appends, counted up to 2
        ways[size] = 1
        for at in range(size - 1, -1, -1):
            count = 0
            for length in lengths:
                end = at + length
                if end > size:
                    break
                if ways[end] and appended(at, length) >= 0:
                    count += ways[end]
                    if count >= 2:
                        break
            ways[at] = min(count, 2)
        starts = [(_INITIAL, 0)] if ways[0] else []
        for length in lengths:
            if length > size:
                break
            found = mutation_of.get(text[:length], -1)
            if found >= 0 and steps[found][0] == WRITE and ways[length]:
                starts.append((found, length))
        if not starts:
            return None
        if len(starts) > 1 or ways[starts[0][1]] > 1:
            raise _Ambiguous
        epoch, at = starts[0]
        tokens: list[int] = []
        while at < size:
            for length in lengths:
                token = appended(at, length) if at + length <= size else -1
                if token >= 0 and ways[at + length]:
                    tokens.append(token)
                    at += length
                    break
            else:  # unreachable: ways[at] == 1 on the only split
                return None
        return epoch, tokens


@dataclass(slots=True)
class _Cluster:
    """Operations that must be linearized together, in ``order``, within zone ``[m, M]``."""

    m: float  # earliest completion among them
    big_m: float  # latest invocation among them
    order: list[int]  # the operations, in their forced order


def _feasible(
    steps: list[Step],
    calls: list[int],
    rets: list[int | None],
    reading: _Reading,
    cut: int | None,
) -> tuple[list[_Cluster], list[_Cluster]] | None:
    """Is the history (only its events before position ``cut``, if given) linearizable?
    Returns the (forward, backward) clusters if it is, else None."""
    end = _INF if cut is None else cut

    def ret_of(i: int) -> float:
        ret = rets[i]
        return _INF if ret is None or ret >= end else ret

    by_epoch: dict[int, list[int]] = {}
    mutations: list[int] = []
    for i, step in enumerate(steps):
        if calls[i] >= end:
            continue
        if step[0] == READ:
            ret = rets[i]
            if ret is not None and ret < end:
                by_epoch.setdefault(reading.epoch[i], []).append(i)
        else:
            mutations.append(i)
    if _IMPOSSIBLE in by_epoch:
        return None
    observed: set[int] = set()
    clusters: list[_Cluster] = []
    chains = reading.chains
    for epoch, reads in by_epoch.items():
        if epoch >= 0:
            if calls[epoch] >= end:
                return None
            observed.add(epoch)
        longest = max(reads, key=reading.level.__getitem__)
        chain = chains[reading.chain[longest]][: reading.level[longest]]
        by_level: list[list[int]] = [[] for _ in range(len(chain) + 1)]
        for r in reads:
            lvl = reading.level[r]
            own = reading.chain[r]
            if own != reading.chain[longest] and chains[own][:lvl] != chain[:lvl]:
                return None  # two reads of one epoch that are not on one chain
            by_level[lvl].append(r)
        for a in chain:
            if a in observed or calls[a] >= end:
                return None  # an append seen twice, or seen before it was invoked
            observed.add(a)
        cluster = _epoch_cluster(epoch, chain, by_level, calls, ret_of)
        if cluster is None:
            return None
        clusters.append(cluster)
    for i in mutations:
        if i not in observed and ret_of(i) != _INF:
            clusters.append(_Cluster(ret_of(i), calls[i], [i]))
    forward = sorted((c for c in clusters if c.m < c.big_m), key=lambda c: c.m)
    for before, after in itertools.pairwise(forward):
        if before.big_m >= after.m:
            return None
    starts = [c.m for c in forward]
    backward = [c for c in clusters if c.m > c.big_m]
    for cluster in backward:
        k = bisect.bisect_right(starts, cluster.big_m) - 1
        if k >= 0 and forward[k].big_m >= cluster.m:
            return None
    return forward, backward


def _epoch_cluster(
    epoch: int,
    chain: tuple[int, ...],
    by_level: list[list[int]],
    calls: list[int],
    ret_of: Any,
) -> _Cluster | None:
    """The epoch's cluster, or None if its forced order cannot fit the operations' intervals
    (an operation completes before one that must precede it is invoked)."""
    order: list[int] = []
    if epoch >= 0:
        latest_call: float = calls[epoch]
        earliest_ret: float = ret_of(epoch)
        order.append(epoch)
    else:
        latest_call = _NEG_INF
        earliest_ret = _NEG_INF
    previous_reads_call = _NEG_INF
    for lvl, reads in enumerate(by_level):
        if lvl > 0:
            a = chain[lvl - 1]
            latest_call = max(latest_call, previous_reads_call, calls[a])
            ret = ret_of(a)
            if latest_call >= ret:
                return None
            earliest_ret = min(earliest_ret, ret)
            order.append(a)
        previous_reads_call = _NEG_INF
        for r in reads:
            call = calls[r]
            ret = ret_of(r)
            if max(latest_call, call) >= ret:
                return None
            earliest_ret = min(earliest_ret, ret)
            previous_reads_call = max(previous_reads_call, call)
            order.append(r)
    return _Cluster(earliest_ret, max(latest_call, previous_reads_call), order)


def _witness(
    steps: list[Step], calls: list[int], forward: list[_Cluster], backward: list[_Cluster]
) -> list[int]:
    """A linearization: forward clusters in zone order, each backward one at a free point."""
    keyed: list[tuple[float, int, int, int]] = []
    for number, cluster in enumerate(forward):
        # As early as the forced order allows from just before the zone: reads of one level
        # are not ordered among themselves, each goes at its own earliest point, and the next
        # append waits for all of them.
        level_start = cluster.m - 0.5
        latest = level_start
        for seq, op in enumerate(cluster.order):
            if steps[op][0] != READ:
                level_start = latest = max(latest, calls[op])
                keyed.append((latest, number, seq, op))
            else:
                point = max(level_start, calls[op])
                latest = max(latest, point)
                keyed.append((point, number, seq, op))
    starts = [c.m for c in forward]
    base = len(forward)
    for number, cluster in enumerate(backward, base):
        point = cluster.big_m + 0.25
        k = bisect.bisect_right(starts, cluster.big_m) - 1
        if k >= 0 and forward[k].big_m > cluster.big_m:
            point = forward[k].big_m + 0.25
        for seq, op in enumerate(cluster.order):
            keyed.append((point, number, seq, op))
    keyed.sort()
    return [op for *_, op in keyed]


def _state_after(steps: list[Step], order: list[int], initial: Any) -> Any:
    """The model state after the operations in ``order``."""
    last_put = -1
    for k in range(len(order) - 1, -1, -1):
        if steps[order[k]][0] == WRITE:
            last_put = k
            break
    state = initial if last_put < 0 else steps[order[last_put]][1]
    appended = [steps[op][1] for op in order[last_put + 1 :] if steps[op][0] == APPEND]
    if appended:
        state = state + "".join(appended)
    return state


def _explain_failure(
    steps: list[Step],
    calls: list[int],
    rets: list[int | None],
    initial: Any,
    reading: _Reading,
) -> SearchOutcome:
    """The first completion after which the history stops being linearizable, and a
    linearization of what came before it."""
    completions = sorted((ret, i) for i, ret in enumerate(rets) if ret is not None)
    low, high = 0, len(completions) - 1  # the answer is in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _feasible(steps, calls, rets, reading, completions[middle][0] + 1) is None:
            high = middle
        else:
            low = middle + 1
    ret, stuck = completions[low]
    found = _feasible(steps, calls, rets, reading, ret)
    assert found is not None, "a history cut before its first completion is linearizable"
    order = _witness(steps, calls, *found)
    return SearchOutcome(False, stuck, tuple(order), _state_after(steps, order, initial), 0)
