"""The linearizability checker agrees with a brute-force oracle on thousands of small histories.

The oracle tries every order of the operations that real time allows (an op that returned
before another was invoked comes first), with each never-completing op either taking effect
at some point after its invocation or not at all, and replays each order on its own
sequential register; it shares no code with the checker."""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import ANY, Op, check_linearizable

VALUES = (0, 1, 2)


def oracle(ops: list[Op], initial: Any = None) -> bool:
    """Is there a legal order? Exhaustive search over real-time-respecting orders."""
    live = [op for op in ops if op.type != "fail"]
    required = [op for op in live if op.ret is not None]

    def must_precede(a: Op, b: Op) -> bool:
        return a.ret is not None and a.ret < b.call

    def legal(op: Op, state: Any) -> tuple[bool, Any]:
        if op.f in ("read", "get"):
            return (op.ret is None or op.output is ANY or op.output == state), state
        if op.f in ("write", "put"):
            return True, op.value
        if op.f == "append":
            return True, state + op.value
        if op.f == "add":
            return True, state | {op.value}
        start, end = op.value
        if op.ret is not None and op.output is False:  # ran and found another value
            return state != start, state
        return state == start, end

    @functools.cache
    def extend(placed: frozenset[int], state: Any) -> bool:
        if all(op.id in placed for op in required):
            return True
        for op in live:
            if op.id in placed:
                continue
            if any(must_precede(other, op) and other.id not in placed for other in live):
                continue
            ok, new_state = legal(op, state)
            if ok and extend(placed | {op.id}, new_state):
                return True
        return False

    return extend(frozenset(), initial)


KV_READS = ["", "a", "b", "ab", "ba", "aa", "bb", "aab", "abb", "bab"]


@st.composite
def histories(draw: st.DrawFn, with_cas: bool, kv: bool = False, sets: bool = False) -> list[Op]:
    """A random history of at most 7 operations from 2 or 3 processes."""
    processes = draw(st.integers(2, 3))
    total = draw(st.integers(1, 7))
    if sets:
        functions = ["read", "add", "add"]
    elif kv:
        functions = ["get", "get", "append", "append", "put"]
    else:
        functions = ["read", "write", "cas"] if with_cas else ["read", "write"]
    busy: dict[int, dict[str, Any]] = {}
    finished: list[dict[str, Any]] = []
    position = 0
    started = 0
    while started < total or busy:
        idle = [p for p in range(processes) if p not in busy]
        can_invoke = started < total and idle
        if can_invoke and (not busy or draw(st.booleans())):
            process = draw(st.sampled_from(idle))
            f = draw(st.sampled_from(functions))
            if f == "add":
                value: Any = draw(st.sampled_from([1, 2, 3]))
            elif f in ("append", "put"):
                value = draw(st.sampled_from(["a", "b"]))
            elif f == "write":
                value = draw(st.sampled_from(VALUES))
            elif f == "cas":
                value = (draw(st.sampled_from(VALUES)), draw(st.sampled_from(VALUES)))
            else:
                value = None
            busy[process] = {
                "id": started,
                "process": process,
                "f": f,
                "value": value,
                "call": position,
            }
            started += 1
        else:
            process = draw(st.sampled_from(sorted(busy)))
            op = busy.pop(process)
            kind = draw(st.sampled_from(["ok", "ok", "ok", "info", "fail"]))
            op["type"] = kind
            op["ret"] = None if kind == "info" else position
            if op["f"] == "get":
                op["output"] = draw(st.sampled_from(KV_READS)) if kind == "ok" else ANY
            elif op["f"] == "read" and sets:
                subsets = [frozenset(s) for s in ((), (1,), (2,), (1, 2), (1, 3), (1, 2, 3))]
                op["output"] = draw(st.sampled_from(subsets)) if kind == "ok" else ANY
            elif op["f"] == "read":
                op["output"] = draw(st.sampled_from([None, *VALUES])) if kind == "ok" else ANY
            elif op["f"] == "cas" and kind == "ok":
                op["output"] = draw(st.sampled_from([True, True, False]))
            else:
                op["output"] = ANY if kind != "ok" else None
            finished.append(op)
        position += 1
    finished.sort(key=lambda op: op["id"])
    return [
        Op(
            id=op["id"],
            process=op["process"],
            f=op["f"],
            key=None,
            value=op["value"],
            output=op["output"],
            type=op["type"],
            call=op["call"],
            ret=op["ret"],
            line=op["call"] + 1,
            ret_line=None if op["ret"] is None else op["ret"] + 1,
        )
        for op in finished
    ]


@settings(max_examples=1000, deadline=None)
@given(histories(with_cas=False))
def test_register_agrees_with_brute_force(history: list[Op]) -> None:
    verdict = check_linearizable(history, "register")["valid"]
    assert verdict is oracle(history)


@settings(max_examples=1000, deadline=None)
@given(histories(with_cas=True), st.sampled_from([None, 0]))
def test_cas_register_agrees_with_brute_force(history: list[Op], initial: Any) -> None:
    verdict = check_linearizable(history, "cas-register", initial=initial)["valid"]
    assert verdict is oracle(history, initial)


@settings(max_examples=1000, deadline=None)
@given(histories(with_cas=False, kv=True))
def test_kv_agrees_with_brute_force(history: list[Op]) -> None:
    verdict = check_linearizable(history, "kv")["valid"]
    assert verdict is oracle(history, "")


@settings(max_examples=500, deadline=None)
@given(histories(with_cas=False, sets=True))
def test_set_agrees_with_brute_force(history: list[Op]) -> None:
    verdict = check_linearizable(history, "set")["valid"]
    assert verdict is oracle(history, frozenset())
