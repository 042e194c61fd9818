"""The polynomial check for distinct values agrees with the search and the brute-force oracle.

Histories are simulated: each operation takes effect at a random instant inside its interval
on a real register or string (so many histories are linearizable), and then, sometimes, a read
is told a value it could not have seen; crashed (``info``) writes take effect or not. Every
written value is distinct, so `checker.distinct` decides every key, and both the Wing–Gong–Lowe
search and the oracle of test_oracle.py must give the same verdict."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import ANY, Op, check_linearizable
from checker.distinct import check_distinct
from checker.models import ADD, READ, WRITE, compile_op, initial_state
from checker.wgl import search
from tests.checker.test_oracle import oracle

MUTATIONS = ("write", "put", "append", "add")
# Distinct values that are prefixes of one another: a read may split in several ways.
TANGLED = ["a", "ab", "b", "ba", "abb", "c", "bc", "cab", "aa", "ca"]


@st.composite
def distinct_histories(
    draw: st.DrawFn, kv: bool, max_ops: int = 7, prefix_free: bool = True, sets: bool = False
) -> list[Op]:
    """A history of at most ``max_ops`` ops, every written value distinct (and, unless
    ``prefix_free`` is False, none a prefix of another)."""
    processes = draw(st.integers(2, 4))
    total = draw(st.integers(1, max_ops))
    if sets:
        functions = ["read", "read", "add"]
        state: Any = frozenset()
    elif kv:
        functions = ["get", "get", "append", "append", "put"]
        state = ""
    else:
        functions = ["read", "read", "write"]
        state = None
    written: list[Any] = []
    busy: dict[int, dict[str, Any]] = {}
    finished: list[dict[str, Any]] = []
    position = 0
    started = 0
    while started < total or busy:
        idle = [p for p in range(processes) if p not in busy]
        waiting = [p for p in sorted(busy) if not busy[p]["done"]]
        done = [p for p in sorted(busy) if busy[p]["done"]]
        choices = []
        if started < total and idle:
            choices.append("invoke")
        if waiting:
            choices.append("effect")
        if done:
            choices.append("complete")
        if any(busy[p]["f"] not in ("read", "get") for p in waiting):
            choices.append("crash")  # crashes before taking effect: never takes effect
        choice = draw(st.sampled_from(choices))
        if choice == "invoke":
            process = draw(st.sampled_from(idle))
            f = draw(st.sampled_from(functions))
            value: Any = None
            if f in MUTATIONS:
                # Single characters: distinct, and none a prefix of another.
                if not kv:
                    value = started  # a register's write or a set's element
                elif prefix_free:
                    value = ("ABCDEFGHIJ" if f == "put" else "abcdefghij")[started]
                else:
                    value = TANGLED[started]
                written.append(value)
            busy[process] = {"id": started, "process": process, "f": f, "value": value}
            busy[process].update(call=position, done=False, output=None)
            started += 1
        elif choice == "effect":
            op = busy[draw(st.sampled_from(waiting))]
            op["done"] = True
            if op["f"] in ("read", "get"):
                op["output"] = state
            elif op["f"] == "append":
                state += op["value"]
            elif op["f"] == "add":
                state = state | {op["value"]}
            else:
                state = op["value"]
        else:
            if choice == "crash":
                process = draw(st.sampled_from([p for p in waiting if busy[p]["f"] in MUTATIONS]))
            else:
                process = draw(st.sampled_from(done))
            op = busy.pop(process)
            crash = choice == "crash" or (op["f"] in MUTATIONS and draw(st.integers(0, 4)) == 0)
            op["type"] = "info" if crash else "ok"
            op["ret"] = None if crash else position
            if op["f"] in ("read", "get"):
                if draw(st.integers(0, 5)) == 0:  # a wrong read, now and then
                    op["output"] = _other_value(draw, kv, written, sets)
            else:
                op["output"] = ANY if crash else None
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


def _other_value(draw: st.DrawFn, kv: bool, written: list[Any], sets: bool) -> Any:
    if sets:
        return frozenset(draw(st.lists(st.sampled_from([99, *written]), max_size=4)))
    if not kv:
        return draw(st.sampled_from([None, 99, *written]))
    puts = [v for v in written if not v.islower()]
    appends = [v for v in written if not v.isupper()]
    start = draw(st.sampled_from(["", *puts]))
    tail = draw(st.lists(st.sampled_from(appends), max_size=3)) if appends else []
    return start + "".join(tail)


def _compiled(history: list[Op], model: str) -> tuple[list[Any], list[int], list[int | None]]:
    steps, calls, rets = [], [], []
    for op in history:
        step = compile_op(model, op)
        if step is not None:
            steps.append(step)
            calls.append(op.call)
            rets.append(op.ret)
    return steps, calls, rets


def _agree_with_search(history: list[Op], model: str) -> None:
    steps, calls, rets = _compiled(history, model)
    start = initial_state(model)
    fast = check_distinct(steps, calls, rets, start)
    assert fast is not None, "distinct values must take the polynomial path"
    assert fast.verdict is search(steps, calls, rets, start).verdict
    if fast.verdict is False:
        _assert_prefix_is_a_linearization(history, model, steps, calls, rets, fast.prefix)
        assert fast.stuck is not None and rets[fast.stuck] is not None
        # every op completed before the stuck one is in the prefix
        before = {i for i, ret in enumerate(rets) if ret is not None and ret < rets[fast.stuck]}
        assert before <= set(fast.prefix)


def _assert_prefix_is_a_linearization(
    history: list[Op],
    model: str,
    steps: list[Any],
    calls: list[int],
    rets: list[int | None],
    prefix: tuple[int, ...],
) -> None:
    state = initial_state(model)
    for k, i in enumerate(prefix):
        code, a, _ = steps[i]
        if code == READ:
            assert state == a
        elif code == WRITE:
            state = a
        elif code == ADD:
            state = state | a
        else:
            state = state + a
        for later in prefix[k + 1 :]:
            ret = rets[later]
            assert ret is None or ret > calls[i], "the prefix must respect real time"


@settings(max_examples=1500, deadline=None)
@given(distinct_histories(kv=False))
def test_register_agrees_with_oracle_and_search(history: list[Op]) -> None:
    assert check_linearizable(history, "register")["valid"] is oracle(history)
    _agree_with_search(history, "register")


@settings(max_examples=1500, deadline=None)
@given(distinct_histories(kv=True))
def test_kv_agrees_with_oracle_and_search(history: list[Op]) -> None:
    assert check_linearizable(history, "kv")["valid"] is oracle(history, "")
    _agree_with_search(history, "kv")


@settings(max_examples=500, deadline=None)
@given(distinct_histories(kv=True, max_ops=10), distinct_histories(kv=False, max_ops=10))
def test_larger_histories_agree_with_search(kv: list[Op], register: list[Op]) -> None:
    _agree_with_search(kv, "kv")
    _agree_with_search(register, "register")


@settings(max_examples=1500, deadline=None)
@given(distinct_histories(kv=True, prefix_free=False))
def test_kv_values_that_prefix_each_other_agree_with_oracle_and_search(
    history: list[Op],
) -> None:
    assert check_linearizable(history, "kv")["valid"] is oracle(history, "")
    steps, calls, rets = _compiled(history, "kv")
    fast = check_distinct(steps, calls, rets, "")
    if fast is not None:  # None: some read splits in two ways, and the search decides
        assert fast.verdict is search(steps, calls, rets, "").verdict


@settings(max_examples=1500, deadline=None)
@given(distinct_histories(kv=False, sets=True))
def test_set_agrees_with_oracle_and_search(history: list[Op]) -> None:
    assert check_linearizable(history, "set")["valid"] is oracle(history, frozenset())
    _agree_with_search(history, "set")
