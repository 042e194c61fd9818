"""Linearizability of a history: partition by key, search each partition, explain a failure.

No I/O. `check_linearizable` returns a JSON-serialisable result:

``{"valid": true | false | "unknown", "model", "op_count", "keys", "configurations",
"time_s", ...}``; when invalid also ``key`` (if the history has keys), ``op`` (the operation
that cannot be linearized), ``linearized_prefix_length`` and ``linearized_prefix`` (the last
operations of the longest linearizable prefix found, in order), ``state_after_prefix``,
``concurrent`` (the operations whose intervals overlap it) and ``message``; when unknown a
``reason``. Keys are independent (P-compositionality): a history is linearizable iff each
key's sub-history is.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import Any

from checker.distinct import check_distinct
from checker.models import MODELS, compile_op, infer_model, initial_state
from checker.ops import Op, to_json_value
from checker.wgl import SearchOutcome, search_in_slices

PREFIX_SHOWN = 20
# A search that has memoized this many configurations (about 1.5 GB) answers "unknown"
# rather than exhausting memory, the complaint about Knossos.
MAX_CONFIGURATIONS = 10_000_000
CONCURRENT_SHOWN = 50
ALGORITHMS = ("auto", "search")


def _already(outcome: SearchOutcome) -> Generator[None, None, SearchOutcome]:
    """A finished outcome in the shape of a search in slices."""
    return outcome
    yield  # unreachable: makes this a generator


def check_linearizable(
    ops: Sequence[Op],
    model: str = "auto",
    time_limit_s: float | None = None,
    initial: Any = None,
    max_configurations: int | None = MAX_CONFIGURATIONS,
    stop_at_first_invalid: bool = True,
    algorithm: str = "auto",
) -> dict[str, Any]:
    """Check a history (from `checker.readers.read_history`) against a model.

    ``model`` is one of register, cas-register, kv, set, or auto (guess from the
    functions used); ``initial`` is a register's value before the first op; after
    ``time_limit_s`` seconds (or ``max_configurations`` explored) the answer is "unknown".
    Keys are searched in turn, a slice each; with ``stop_at_first_invalid`` the first key
    found not linearizable ends the check (the others are counted in ``keys_not_checked``).
    ``algorithm`` "auto" decides keys whose written values are distinct in polynomial time
    (`checker.distinct`) and searches the others (`checker.wgl`); "search" searches every key.
    Raises `checker.models.ModelError` for an op the model cannot interpret."""
    started = time.monotonic()
    if model == "auto":
        model = infer_model(list(ops))
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    deadline = None if time_limit_s is None else started + time_limit_s
    partitions: dict[Any, list[Op]] = {}
    for op in ops:
        partitions.setdefault(op.key, []).append(op)
    start_state = initial_state(model, initial)

    # Search every key in turn, a slice of work each, so that the first key found not
    # linearizable ends the check (as Porcupine does with one goroutine per key).
    runners: list[tuple[Any, list[Op], list[Op], Generator[None, None, SearchOutcome]]] = []
    fast = algorithm == "auto"
    distinct_keys = 0
    for key, key_ops in partitions.items():
        relevant: list[Op] = []
        steps = []
        for op in key_ops:
            step = compile_op(model, op)
            if step is not None:
                relevant.append(op)
                steps.append(step)
        calls = [op.call for op in relevant]
        rets = [op.ret for op in relevant]
        decided_at_once = check_distinct(steps, calls, rets, start_state) if fast else None
        if decided_at_once is not None:
            distinct_keys += 1
            runner = _already(decided_at_once)
        else:
            runner = search_in_slices(
                steps,
                calls,
                rets,
                start_state,
                deadline,
                max_configurations,
            )
        runners.append((key, key_ops, relevant, runner))

    configurations = 0
    invalid: list[tuple[Any, list[Op], list[Op], SearchOutcome]] = []
    unknown_keys: list[Any] = []
    decided = 0
    while runners and not invalid:
        still_running = []
        for item in runners:
            try:
                next(item[3])
            except StopIteration as done:
                found: SearchOutcome = done.value
                configurations += found.configurations
                decided += 1
                if found.verdict is False:
                    invalid.append((item[0], item[1], item[2], found))
                    if stop_at_first_invalid:
                        break
                elif found.verdict == "unknown":
                    unknown_keys.append(item[0])
                continue
            still_running.append(item)
        runners = still_running
    undecided = len(partitions) - decided

    result: dict[str, Any] = {
        "valid": False if invalid else ("unknown" if unknown_keys else True),
        "model": model,
        "op_count": len(ops),
        "keys": len(partitions),
        "configurations": configurations,
        "distinct_keys": distinct_keys,
    }
    if invalid and undecided:
        result["keys_not_checked"] = undecided
    if invalid:
        key, key_ops, relevant, found = invalid[0]
        result.update(_explain(key, key_ops, relevant, found, keyed=key is not None))
        if len(invalid) > 1 or key is not None:
            result["invalid_keys"] = [to_json_value(k) for k, *_ in invalid]
    if unknown_keys:
        timed_out = deadline is not None and time.monotonic() > deadline
        limit = (
            f"the time limit of {time_limit_s:g} s"
            if timed_out
            else f"the limit of {max_configurations} memoized configurations"
        )
        result["reason"] = f"{limit} was reached before {len(unknown_keys)} key(s) were decided"
        result["unknown_keys"] = [to_json_value(k) for k in unknown_keys[:100]]
    result["time_s"] = round(time.monotonic() - started, 6)
    return result


def _explain(
    key: Any, key_ops: list[Op], relevant: list[Op], found: SearchOutcome, keyed: bool
) -> dict[str, Any]:
    """Describe where the search got stuck, for a person reading the result."""
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
    if concurrent:
        why = f"no order of the {len(concurrent)} concurrent ops makes it legal"
    else:
        why = "it is not legal there"
    out["message"] = (
        f"{stuck.describe()} cannot be linearized: after the longest linearizable prefix "
        f"({len(prefix)} ops, state {state}) {why}"
    )
    return out
