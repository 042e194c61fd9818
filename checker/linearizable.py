"""Linearizability of a history: partition by key, search each partition, explain a failure.

No I/O (with ``jobs`` > 1 it starts worker processes, `checker.parallel`). Keys whose written
values are distinct are decided in polynomial time (`checker.distinct`), the others by the
Wing–Gong–Lowe search (`checker.wgl`). `check_linearizable` returns a JSON-serialisable result:

``{"valid": true | false | "unknown", "model", "op_count", "keys", "configurations",
"distinct_keys", "time_s", ...}``; when invalid also ``key`` (if the history has keys),
``op`` (the operation that cannot be linearized), ``linearized_prefix_length`` and
``linearized_prefix`` (the last operations of the longest linearizable prefix found, in
order), ``state_after_prefix``, ``concurrent`` (the operations whose intervals overlap it) and
``message``; when unknown a ``reason``. Keys are independent (P-compositionality): a history
is linearizable iff each key's sub-history is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from checker.distinct import check_distinct
from checker.memory import default_limit_bytes, describe
from checker.models import MODELS, Step, compile_op, infer_model, initial_state
from checker.ops import Op, to_json_value
from checker.parallel import WorkerDied, available, run_searches
from checker.wgl import SearchOutcome, search_in_slices

PREFIX_SHOWN = 20
# A search that has memoized this many configurations (about 1.5 GB) answers "unknown"
# rather than exhausting memory, the complaint about Knossos.
MAX_CONFIGURATIONS = 10_000_000
CONCURRENT_SHOWN = 50
STATE_SHOWN = 200  # characters of the state in the message
ALGORITHMS = ("auto", "search")
DEFAULT_MEMORY_LIMIT = -1  # `checker.memory.default_limit_bytes()`


@dataclass(frozen=True, slots=True)
class _Key:
    """One independent key, compiled: what its search (or the polynomial check) needs."""

    key: Any
    ops: list[Op]  # every op of the key, for explanations
    relevant: list[Op]  # the ops that constrain anything, numbered as the steps
    steps: list[Step]
    calls: list[int]
    rets: list[int | None]


@dataclass(frozen=True, slots=True)
class _Limits:
    start_state: Any
    deadline: float | None
    max_configurations: int | None
    memory_limit: int | None


def check_linearizable(
    ops: Sequence[Op],
    model: str = "auto",
    time_limit_s: float | None = None,
    initial: Any = None,
    max_configurations: int | None = MAX_CONFIGURATIONS,
    stop_at_first_invalid: bool = True,
    algorithm: str = "auto",
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    jobs: int = 1,
) -> dict[str, Any]:
    """Check a history (from `checker.readers.read_history`) against a model.

    ``model`` is one of register, cas-register, kv, set, or auto (guess from the
    functions used); ``initial`` is a register's value before the first op. The answer is
    "unknown", with a ``reason``, after ``time_limit_s`` seconds, ``max_configurations``
    explored, or once the process uses more than ``memory_limit`` bytes of address space
    (by default `checker.memory.default_limit_bytes`; None: no limit), and when the search
    runs out of memory anyway: never a verdict it has not established.

    ``algorithm`` "auto" decides keys whose written values are distinct in polynomial time
    (`checker.distinct`) and searches the others (`checker.wgl`); "search" searches every key.
    Searched keys take turns, a slice of work each, or with ``jobs`` > 1 run in that many
    worker processes (`checker.parallel`). With ``stop_at_first_invalid`` the first key
    found not linearizable ends the check (the others are counted in ``keys_not_checked``);
    keys decided in polynomial time are decided first, in the history's key order. Worker
    processes give the same verdict and explanation as one process (when one key is invalid,
    or the invalid keys are decided in polynomial time); only the work counted before an
    invalid key ends the check (``configurations``, ``keys_not_checked``) may differ.
    Raises `checker.models.ModelError` for an op the model cannot interpret."""
    started = time.monotonic()
    if model == "auto":
        model = infer_model(list(ops))
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    if memory_limit == DEFAULT_MEMORY_LIMIT:
        memory_limit = default_limit_bytes()
    limits = _Limits(
        initial_state(model, initial),
        None if time_limit_s is None else started + time_limit_s,
        max_configurations,
        memory_limit,
    )
    partitions: dict[Any, list[Op]] = {}
    for op in ops:
        partitions.setdefault(op.key, []).append(op)
    keys = [_compile(model, key, key_ops) for key, key_ops in partitions.items()]

    outcomes: dict[int, SearchOutcome] = {}
    invalid: list[int] = []
    to_search: list[int] = []
    distinct_keys = 0
    for index, item in enumerate(keys):
        found = None
        if algorithm == "auto" and not (invalid and stop_at_first_invalid):
            found = _guarded(_decide_distinct, item, limits)
        if found is None:
            to_search.append(index)
            continue
        distinct_keys += 1
        outcomes[index] = found
        if found.verdict is False:
            invalid.append(index)
    if not (invalid and stop_at_first_invalid):
        searched = (
            _search_in_processes(keys, to_search, limits, jobs, stop_at_first_invalid)
            if jobs > 1 and len(to_search) > 1 and available()
            else _search_in_turn(keys, to_search, limits, stop_at_first_invalid)
        )
        for index, found in searched:
            outcomes[index] = found
            if found.verdict is False:
                invalid.append(index)

    unknown = [i for i in sorted(outcomes) if outcomes[i].verdict == "unknown"]
    result: dict[str, Any] = {
        "valid": False if invalid else ("unknown" if unknown else True),
        "model": model,
        "op_count": len(ops),
        "keys": len(partitions),
        "configurations": sum(found.configurations for found in outcomes.values()),
        "distinct_keys": distinct_keys,
    }
    if invalid and len(outcomes) < len(keys):
        result["keys_not_checked"] = len(keys) - len(outcomes)
    if invalid:
        first = keys[invalid[0]]
        result.update(_explain(first, outcomes[invalid[0]], keyed=first.key is not None))
        if len(invalid) > 1 or first.key is not None:
            result["invalid_keys"] = [to_json_value(keys[i].key) for i in invalid]
    if unknown:
        result["reason"] = _reason(
            [outcomes[i] for i in unknown], time_limit_s, max_configurations, memory_limit
        )
        result["unknown_keys"] = [to_json_value(keys[i].key) for i in unknown[:100]]
    result["time_s"] = round(time.monotonic() - started, 6)
    return result


def _compile(model: str, key: Any, key_ops: list[Op]) -> _Key:
    relevant: list[Op] = []
    steps: list[Step] = []
    for op in key_ops:
        step = compile_op(model, op)
        if step is not None:
            relevant.append(op)
            steps.append(step)
    return _Key(
        key, key_ops, relevant, steps, [op.call for op in relevant], [op.ret for op in relevant]
    )


def _decide_distinct(item: _Key, limits: _Limits) -> SearchOutcome | None:
    return check_distinct(item.steps, item.calls, item.rets, limits.start_state)


def _search(item: _Key, limits: _Limits) -> Generator[None, None, SearchOutcome]:
    return search_in_slices(
        item.steps,
        item.calls,
        item.rets,
        limits.start_state,
        limits.deadline,
        limits.max_configurations,
        limits.memory_limit,
    )


def _out_of_memory() -> SearchOutcome:
    return SearchOutcome("unknown", None, (), None, 0, "memory-error")


def _guarded(
    decide: Callable[[_Key, _Limits], SearchOutcome | None], item: _Key, limits: _Limits
) -> SearchOutcome | None:
    """``decide(item, limits)``, with running out of memory an unknown outcome."""
    try:
        return decide(item, limits)
    except MemoryError:
        return _out_of_memory()


def _search_in_turn(
    keys: list[_Key], indices: list[int], limits: _Limits, stop_at_first_invalid: bool
) -> Iterator[tuple[int, SearchOutcome]]:
    """Search the keys in one process, a slice of work each in turn, so that the first one
    found not linearizable can end the check (as Porcupine does with a goroutine per key)."""
    runners = [(index, _search(keys[index], limits)) for index in indices]
    while runners:
        still_running = []
        for index, runner in runners:
            try:
                next(runner)
            except StopIteration as done:
                found: SearchOutcome = done.value
                yield index, found
                if found.verdict is False and stop_at_first_invalid:
                    return
                continue
            except MemoryError:
                runner.close()
                yield index, _out_of_memory()
                continue
            still_running.append((index, runner))
        runners = still_running


def _whole_search(task: tuple[_Key, _Limits]) -> SearchOutcome:
    """One key's whole search, in a worker process."""
    runner = _search(*task)
    while True:
        try:
            next(runner)
        except StopIteration as done:
            found: SearchOutcome = done.value
            return found


def _search_in_processes(
    keys: list[_Key], indices: list[int], limits: _Limits, jobs: int, stop_at_first_invalid: bool
) -> Iterator[tuple[int, SearchOutcome]]:
    """Search the keys in ``jobs`` worker processes, the largest first."""
    order = sorted(indices, key=lambda i: -len(keys[i].steps))
    tasks = [(keys[i], limits) for i in order]
    results = run_searches(_whole_search, tasks, jobs)
    try:
        for position, found in results:
            if isinstance(found, WorkerDied):
                outcome = SearchOutcome("unknown", None, (), None, 0, found.describe())
            elif isinstance(found, MemoryError):
                outcome = _out_of_memory()
            else:
                outcome = found
            yield order[position], outcome
            if outcome.verdict is False and stop_at_first_invalid:
                return
    finally:
        results.close()


def _reason(
    unknown: list[SearchOutcome],
    time_limit_s: float | None,
    max_configurations: int | None,
    memory_limit: int | None,
) -> str:
    """Why some keys were left undecided, each cause once, with how many keys it stopped."""
    causes: dict[str, int] = {}
    for found in unknown:
        stopped = found.stopped_by or "an unknown cause"
        if stopped == "time":
            cause = f"the time limit of {time_limit_s:g} s was reached"
        elif stopped == "configurations":
            cause = f"the limit of {max_configurations} memoized configurations was reached"
        elif stopped == "memory":
            limit = "no" if memory_limit is None else describe(memory_limit)
            cause = f"the memory limit of {limit} (--memory-limit) was reached"
        elif stopped == "memory-error":
            cause = "the process ran out of memory (MemoryError)"
        else:
            cause = stopped
        causes[cause] = causes.get(cause, 0) + 1
    return "; ".join(
        f"{cause} before {count} key(s) were decided" for cause, count in causes.items()
    )


def _explain(item: _Key, found: SearchOutcome, keyed: bool) -> dict[str, Any]:
    """Describe where the search got stuck, for a person reading the result."""
    key, key_ops, relevant = item.key, item.ops, item.relevant
    out: dict[str, Any] = {}
    if keyed:
        out["key"] = to_json_value(key)
    prefix = [relevant[i] for i in found.prefix]
    out["linearized_prefix_length"] = len(prefix)
    out["linearized_prefix"] = [op.to_json() for op in prefix[-PREFIX_SHOWN:]]
    out["state_after_prefix"] = to_json_value(found.prefix_state)
    if found.stuck is None:
        out["message"] = "no linearization exists"
        return out
    stuck = relevant[found.stuck]
    out["op"] = stuck.to_json()
    end = stuck.ret if stuck.ret is not None else float("inf")
    concurrent = [
        op
        for op in key_ops
        if op is not stuck
        and op.type != "fail"
        and op.call < end
        and (op.ret is None or op.ret > stuck.call)
    ]
    out["concurrent"] = [op.to_json() for op in concurrent[:CONCURRENT_SHOWN]]
    if len(concurrent) > CONCURRENT_SHOWN:
        out["concurrent_count"] = len(concurrent)
    state = "nil" if found.prefix_state is None else repr(to_json_value(found.prefix_state))
    if len(state) > STATE_SHOWN:  # a long append log: the whole state is in the result
        state = state[: STATE_SHOWN - 3] + "..."
    if concurrent:
        why = f"no order of the {len(concurrent)} concurrent ops makes it legal"
    else:
        why = "it is not legal there"
    out["message"] = (
        f"{stuck.describe()} cannot be linearized: after the longest linearizable prefix "
        f"({len(prefix)} ops, state {state}) {why}"
    )
    return out
