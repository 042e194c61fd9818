"""The Wing–Gong–Lowe linearizability search over one independent partition of a history.

No I/O. The search keeps the history's completed operations as a doubly linked list of call and
return entries (in arrays, not objects); it repeatedly "lifts" a call whose operation is legal
in the current model state, and backtracks when it meets a return it could not pass. Every
configuration (bitset of linearized operations, model state) is explored once (memoization).

Operations that never complete (``info``) are not in the list: they may be linearized at any
time after their invocation, or never. Four rules keep them from blowing up the search, each
sound because such an operation is never required:

- they are tried only after every completed candidate (prefer configurations without them);
- a configuration is skipped when one with the same completed ops and state but a subset of
  the optional ops used was already explored (dominance: an unused optional op can only
  help); they live in a small bitset of their own, so this check stays cheap;
- among identical ones (same step, e.g. two timed-out writes of 3) the earlier-invoked one is
  used first (symmetry);
- for registers, an optional write is tried only if some op that could run right after it
  needs its value (anything else would overwrite it first).

Two more prunings, both sound:

- forced steps: a legal candidate that can never change the state (a read of the current
  value, a refused cas) is linearized at once with no alternative tried, since any
  linearization that puts it later can move it here;
- growing states (kv appends, set adds): a pending read of a value that the current state is
  not a prefix (subset) of can only become legal after a reset (put, cas) invoked before its
  return; with no such reset left, the configuration is dead.

The stack is a chain of immutable frames, so remembering the deepest point reached (for the
"longest linearizable prefix" of an invalid history) costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from checker.memory import used_bytes
from checker.models import ADD, APPEND, CAS, CAS_REFUSED, READ, WRITE, Step

# How many configurations between two looks at the clock.
_CLOCK_EVERY = 1023


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """What the search found for one partition (indices refer to the caller's op list)."""

    verdict: bool | str  # True, False or "unknown"
    stuck: int | None  # the op whose completion could not be passed, at the deepest point
    prefix: tuple[int, ...]  # ops linearized at that point, in order
    prefix_state: Any  # the model state after the prefix
    configurations: int  # configurations explored
    stopped_by: str | None = None  # unknown: "time", "configurations" or "memory"


def search(
    steps: list[Step],
    calls: list[int],
    rets: list[int | None],
    initial: Any,
    deadline: float | None = None,
    max_configurations: int | None = None,
    memory_limit: int | None = None,
) -> SearchOutcome:
    """Is there a linearization of these operations?

    ``steps[i]`` is op i's step code, ``calls[i]`` / ``rets[i]`` its invocation and completion
    positions (``rets[i] is None``: it never completed). ``deadline`` is a `time.monotonic`
    instant after which the answer is "unknown", as it is once the search has explored
    ``max_configurations`` or the process uses more than ``memory_limit`` bytes of address
    space (`checker.memory`); `SearchOutcome.stopped_by` says which."""
    runner = search_in_slices(
        steps, calls, rets, initial, deadline, max_configurations, memory_limit
    )
    while True:
        try:
            next(runner)
        except StopIteration as done:
            outcome: SearchOutcome = done.value
            return outcome


def search_in_slices(
    steps: list[Step],
    calls: list[int],
    rets: list[int | None],
    initial: Any,
    deadline: float | None = None,
    max_configurations: int | None = None,
    memory_limit: int | None = None,
) -> Generator[None, None, SearchOutcome]:
    """`search` as a generator that yields after every slice of work (about a thousand
    configurations), so that several partitions can be searched in turn and the whole check
    can stop as soon as one of them is not linearizable. Returns the `SearchOutcome`."""
    returning = [i for i, ret in enumerate(rets) if ret is not None]
    optional = sorted((i for i, ret in enumerate(rets) if ret is None), key=calls.__getitem__)
    if not returning:
        return SearchOutcome(True, None, (), initial, 0)

    # Linked list of entries: call and return of every completed op, in position order.
    events: list[tuple[int, int, int]] = [(calls[i], 1, i) for i in returning]
    for i in returning:
        ret = rets[i]
        assert ret is not None
        events.append((ret, 0, i))
    events.sort()
    count = len(events)
    head = count
    nxt = [*range(1, count + 1), 0]
    nxt[count - 1] = -1
    nxt[head] = 0
    prv = [head, *range(count - 1), -1]
    op_of = [e[2] for e in events]
    is_call = [e[1] == 1 for e in events]
    position: list[int] = [e[0] for e in events]
    match = [-1] * count
    call_entry = [-1] * len(steps)
    for index, (_, is_call_event, op) in enumerate(events):
        if is_call_event:
            call_entry[op] = index
        else:
            match[call_entry[op]] = index

    kind = [s[0] for s in steps]
    arg_a = [s[1] for s in steps]
    arg_b = [s[2] for s in steps]

    # Optional ops, in invocation order, numbered 0.. in a bitset of their own (`used`), with
    # the bit of the previous identical one.
    optional_call = [calls[i] for i in optional]
    optional_bit = [1 << k for k in range(len(optional))]
    previous_same: list[int] = []
    last_of: dict[tuple[int, Any, Any], int] = {}
    for k, i in enumerate(optional):
        signature = (kind[i], arg_a[i], arg_b[i])
        previous_same.append(last_of.get(signature, 0))
        last_of[signature] = 1 << k
    optional_count = len(optional)

    # Growing states (kv appends, set adds): between two resets (a put or a cas) the state only
    # grows, so a pending read, with no reset able to come before its return, needs the
    # current state to be a prefix (a subset) of what it read. Needs ops numbered in
    # invocation order (lowest unlinearized reset = earliest invoked), as the checker does.
    growth = 0
    if all(calls[i] <= calls[i + 1] for i in range(len(calls) - 1)):
        expected = [arg_a[i] for i, code in enumerate(kind) if code == READ]
        if isinstance(initial, str) and all(isinstance(v, str) for v in expected):
            growth = 1
        elif isinstance(initial, frozenset) and all(isinstance(v, frozenset) for v in expected):
            growth = 2
        if APPEND not in kind and ADD not in kind:
            growth = 0
    reset_mask = 0
    for i, code in enumerate(kind):
        if code in (WRITE, CAS):
            reset_mask |= 1 << i

    remaining = len(returning)
    state = initial
    linearized = 0  # bitset of the completed ops linearized
    used = 0  # bitset of the optional ops linearized
    # Memo: (linearized, state) -> the `used` sets explored with it. A configuration is
    # skipped if one of those is a subset of its own: same completed ops, same state, and
    # fewer optional ops spent (an unused optional op can only help).
    cache: dict[tuple[int, Any], list[int]] = {}
    configurations = 0
    frame: tuple[Any, ...] | None = None  # (entry, k, state, limit, op, parent, wanted)
    best_position = -1
    best_frame: tuple[Any, ...] | None = None
    best_stuck: int | None = None
    best_state = initial
    clock = time.monotonic
    budget = _CLOCK_EVERY

    def explored(key: tuple[int, Any], used: int) -> bool:
        """Was this configuration, or one that dominates it, explored? If not, record it."""
        seen = cache.get(key)
        if seen is None:
            cache[key] = [used]
            return False
        for other in seen:
            if not other & ~used:
                return True
        seen.append(used)
        return False

    def hopeless(expected: Any, deadline_position: int, linearized: int) -> bool:
        """With a growing state that is not a prefix (subset) of what a read returned, the
        read can still be linearized only after a reset (put, cas) invoked before its return
        and leading towards it (a put of a prefix of what it read)."""
        resets = reset_mask & ~linearized
        while resets:
            low = resets & -resets
            reset = low.bit_length() - 1
            if calls[reset] > deadline_position:
                return True
            value = arg_a[reset]
            if kind[reset] == CAS or (
                expected.startswith(value) if growth == 1 else value <= expected
            ):
                return False
            resets ^= low
        return True

    # Registers (no appends, no adds): an optional write only helps if the op right after it
    # needs its value (any later write would overwrite it first), and the ops that can come
    # next are the candidates of the same configuration.
    filter_writes = APPEND not in kind and ADD not in kind
    wanted: set[Any] | None = None

    def wanted_states(limit: int, used: int) -> set[Any] | None:
        """Values some candidate needs: reads of them, cas from them (None: any value, as a
        refused cas is helped by every value but one)."""
        values: set[Any] = set()
        scan = nxt[head]
        while is_call[scan]:
            op = op_of[scan]
            code = kind[op]
            if code in (READ, CAS):
                values.add(arg_a[op])
            elif code == CAS_REFUSED:
                return None
            scan = nxt[scan]
        for k in range(optional_count):
            if optional_call[k] >= limit:
                break
            op = optional[k]
            if kind[op] == CAS and not used & optional_bit[k]:
                values.add(arg_a[op])
        return values

    def over_budget() -> str | None:
        """Why the search must stop now, if it must: time, configurations or memory."""
        if deadline is not None and clock() > deadline:
            return "time"
        if max_configurations is not None and configurations > max_configurations:
            return "configurations"
        if memory_limit is not None and used_bytes() > memory_limit:
            return "memory"
        return None

    def outcome(verdict: bool | str, stopped: str | None = None) -> SearchOutcome:
        prefix: list[int] = []
        walk = best_frame
        while walk is not None:
            prefix.append(walk[4])
            walk = walk[5]
        prefix.reverse()
        return SearchOutcome(
            verdict, best_stuck, tuple(prefix), best_state, configurations, stopped
        )

    entry = nxt[head]
    k = -1  # -1: scanning the list of completed ops; >= 0: scanning optional ops
    limit = 0
    fresh = True  # at a configuration not seen before: look for a forced step first
    while True:
        if fresh:
            # A completed candidate that is legal and can never change the state wherever it
            # is legal (a read of the current value, a refused cas, a cas from x to x, an
            # add of an element already in the set, whose state only grows) can be linearized
            # right here without trying anything else: any linearization that puts it later
            # can move it here. (Not a write of the current value: placed later, it could
            # undo another write.)
            fresh = False
            scan = nxt[head]
            dead = False
            while is_call[scan]:  # a return always follows while `remaining` > 0
                op = op_of[scan]
                code = kind[op]
                a = arg_a[op]
                if code == READ:
                    if state == a:
                        break
                    if (
                        growth
                        and (not a.startswith(state) if growth == 1 else not state <= a)
                        and hopeless(a, position[match[scan]], linearized)
                    ):
                        dead = True
                        break
                elif code == CAS_REFUSED:
                    if state != a:
                        break
                elif code == CAS:
                    if state == a and arg_b[op] == a:
                        break
                elif code == APPEND:
                    if not a:
                        break
                elif code == ADD and a <= state:
                    break
                scan = nxt[scan]
            if dead:
                # A read can no longer get what it read: remember it if this is the deepest
                # point so far (it is the op to blame), and backtrack.
                frontier = scan
                while is_call[frontier]:
                    frontier = nxt[frontier]
                if position[frontier] > best_position:
                    best_position = position[frontier]
                    best_frame = frame
                    best_stuck = op
                    best_state = state
                k = optional_count
                limit = -1
                continue
            target = -1
            target_state: Any = None
            target_kind = -2
            if is_call[scan]:
                target = scan
                target_state = state
            else:
                # Goal first (Lowe's just-in-time idea): `scan` is the first return, so its op
                # must be linearized before anything else returns. Try it first if legal, or
                # else a candidate that makes it legal in one step; the rest in list order.
                target_kind = -3
                due = op_of[scan]
                code = kind[due]
                a = arg_a[due]
                if code == WRITE:
                    target, target_state = call_entry[due], a
                elif code == CAS and state == a:
                    target, target_state = call_entry[due], arg_b[due]
                elif code == APPEND:
                    target, target_state = call_entry[due], state + a
                elif code == ADD:
                    target, target_state = call_entry[due], state | a
                elif code in (READ, CAS):
                    probe = nxt[head]
                    while is_call[probe]:
                        other = op_of[probe]
                        code = kind[other]
                        if code == WRITE:
                            if arg_a[other] == a:
                                target, target_state = probe, a
                                break
                        elif code == CAS:
                            if arg_b[other] == a and arg_a[other] == state:
                                target, target_state = probe, a
                                break
                        elif code == APPEND:
                            if state + arg_a[other] == a:
                                target, target_state = probe, a
                                break
                        elif code == ADD and state | arg_a[other] == a:
                            target, target_state = probe, a
                            break
                        probe = nxt[probe]
            if target >= 0:
                op = op_of[target]
                candidate = linearized | (1 << op)
                if explored((candidate, target_state), used):
                    if target_kind == -2:
                        k = optional_count  # the forced step is known to fail: backtrack
                        limit = -1
                        continue
                else:
                    configurations += 1
                    budget -= 1
                    if budget < 0:
                        budget = _CLOCK_EVERY
                        stopped = over_budget()
                        if stopped is not None:
                            return outcome("unknown", stopped)
                        yield
                    frame = (target, target_kind, state, 0, op, frame, None)
                    state = target_state
                    linearized = candidate
                    before = prv[target]
                    after = nxt[target]
                    nxt[before] = after
                    if after != -1:
                        prv[after] = before
                    ret_entry = match[target]
                    before = prv[ret_entry]
                    after = nxt[ret_entry]
                    nxt[before] = after
                    if after != -1:
                        prv[after] = before
                    remaining -= 1
                    if remaining == 0:
                        best_frame = frame
                        best_state = state
                        best_stuck = None
                        return outcome(True)
                    fresh = True
                    continue
            entry = nxt[head]
            k = -1
        if k < 0:
            if is_call[entry]:
                op = op_of[entry]
                code = kind[op]
                a = arg_a[op]
                if code == READ:
                    if state != a:
                        entry = nxt[entry]
                        continue
                    new_state = state
                elif code == WRITE:
                    new_state = a
                elif code == CAS:
                    if state != a:
                        entry = nxt[entry]
                        continue
                    new_state = arg_b[op]
                elif code == CAS_REFUSED:
                    if state == a:
                        entry = nxt[entry]
                        continue
                    new_state = state
                elif code == APPEND:
                    new_state = state + a
                else:
                    new_state = state | a
                candidate = linearized | (1 << op)
                if explored((candidate, new_state), used):
                    entry = nxt[entry]
                    continue
                configurations += 1
                budget -= 1
                if budget < 0:
                    budget = _CLOCK_EVERY
                    stopped = over_budget()
                    if stopped is not None:
                        return outcome("unknown", stopped)
                    yield
                frame = (entry, -1, state, 0, op, frame, None)
                state = new_state
                linearized = candidate
                # lift the call and its return out of the list
                before = prv[entry]
                after = nxt[entry]
                nxt[before] = after
                if after != -1:
                    prv[after] = before
                ret_entry = match[entry]
                before = prv[ret_entry]
                after = nxt[ret_entry]
                nxt[before] = after
                if after != -1:
                    prv[after] = before
                remaining -= 1
                if remaining == 0:
                    best_frame = frame
                    best_state = state
                    best_stuck = None
                    return outcome(True)
                fresh = True
                continue
            # A return: no completed candidate is left; try the optional ops called before it.
            limit = position[entry]
            if limit > best_position:
                best_position = limit
                best_frame = frame
                best_stuck = op_of[entry]
                best_state = state
            k = 0
            if filter_writes:
                wanted = wanted_states(limit, used)
        # Scanning optional ops invoked before `limit`.
        while k < optional_count and optional_call[k] < limit:
            bit = optional_bit[k]
            if used & bit or (previous_same[k] and not used & previous_same[k]):
                k += 1
                continue
            op = optional[k]
            code = kind[op]
            a = arg_a[op]
            if code == WRITE:
                if wanted is not None and a not in wanted:
                    k += 1  # nothing that could run next needs this value: useless here
                    continue
                new_state = a
            elif code == CAS:
                if state != a:
                    k += 1
                    continue
                new_state = arg_b[op]
            elif code == APPEND:
                new_state = state + a
            elif code == ADD:
                new_state = state | a
            else:  # reads and refused cas never stay open
                k += 1
                continue
            if new_state == state:
                k += 1
                continue
            if explored((linearized, new_state), used | bit):
                k += 1
                continue
            configurations += 1
            budget -= 1
            if budget < 0:
                budget = _CLOCK_EVERY
                stopped = over_budget()
                if stopped is not None:
                    return outcome("unknown", stopped)
                yield
            frame = (-1, k, state, limit, op, frame, wanted)
            state = new_state
            used |= bit
            break
        else:
            # Nothing left to try here: backtrack.
            if frame is None:
                return outcome(False)
            popped_entry, popped_k, state, limit, op, frame, wanted = frame
            if popped_k < 0:  # a completed op: -1 one choice of a scan, -2 forced, -3 goal
                linearized ^= 1 << op
                ret_entry = match[popped_entry]
                remaining += 1
                before = prv[ret_entry]
                after = nxt[ret_entry]
                nxt[before] = ret_entry
                if after != -1:
                    prv[after] = ret_entry
                before = prv[popped_entry]
                after = nxt[popped_entry]
                nxt[before] = popped_entry
                if after != -1:
                    prv[after] = popped_entry
                if popped_k == -1:
                    entry = nxt[popped_entry]
                    k = -1
                elif popped_k == -3:  # the goal-first try failed: now the others, in order
                    entry = nxt[head]
                    k = -1
                else:
                    k = optional_count  # a forced step had no alternative: keep backtracking
                    limit = -1
            else:
                used ^= optional_bit[popped_k]
                k = popped_k + 1
            continue
        # An optional op was linearized: a new configuration.
        fresh = True
