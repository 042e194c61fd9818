"""Linearizability results a person can act on: the failing op, the prefix, the time limit."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from checker.api import ANY, Op, check_linearizable, compose
from checker.models import ModelError


class HistoryBuilder:
    """Builds ops by events in real-time order: ``invoke`` then ``ok``/``info``."""

    def __init__(self) -> None:
        self.position = 0
        self.open: dict[int, dict[str, Any]] = {}
        self.ops: list[Op] = []

    def invoke(self, process: int, f: str, value: Any = None, key: Any = None) -> None:
        self.open[process] = {
            "process": process,
            "f": f,
            "value": value,
            "key": key,
            "call": self.position,
            "id": len(self.ops) + len(self.open),
        }
        self.position += 1

    def ok(self, process: int, output: Any = None) -> None:
        self._finish(process, "ok", output, self.position)
        self.position += 1

    def info(self, process: int) -> None:
        self._finish(process, "info", ANY, None)
        self.position += 1

    def _finish(self, process: int, kind: str, output: Any, ret: int | None) -> None:
        op = self.open.pop(process)
        self.ops.append(
            Op(
                id=op["id"],
                process=process,
                f=op["f"],
                key=op["key"],
                value=op["value"],
                output=output,
                type=kind,
                call=op["call"],
                ret=ret,
                line=op["call"] + 1,
                ret_line=None if ret is None else ret + 1,
            )
        )

    def history(self) -> list[Op]:
        return sorted(self.ops, key=lambda op: op.call)


def test_invalid_result_names_op_prefix_and_concurrent_ops() -> None:
    h = HistoryBuilder()
    h.invoke(0, "write", 1)
    h.ok(0)
    h.invoke(1, "write", 2)
    h.invoke(2, "read")
    h.ok(2, 2)
    h.ok(1)
    h.invoke(0, "read")
    h.ok(0, 1)  # the value went back to 1: no order explains it
    result = check_linearizable(h.history(), "register")
    assert result["valid"] is False
    assert result["op"]["process"] == 0 and result["op"]["value"] == 1
    assert result["op"]["f"] == "read"
    prefix = [(op["f"], op["value"]) for op in result["linearized_prefix"]]
    assert prefix == [("write", 1), ("write", 2), ("read", 2)]
    assert result["linearized_prefix_length"] == 3
    assert result["state_after_prefix"] == 2
    assert "cannot be linearized" in result["message"]
    json.dumps(result)  # results are JSON


def test_concurrent_ops_are_listed() -> None:
    h = HistoryBuilder()
    h.invoke(0, "write", 1)
    h.invoke(1, "read")
    h.ok(1, 3)
    h.ok(0)
    result = check_linearizable(h.history(), "register")
    assert result["valid"] is False
    assert [(op["f"], op["value"]) for op in result["concurrent"]] == [("write", 1)]


def test_info_write_may_happen_late_or_never() -> None:
    h = HistoryBuilder()
    h.invoke(0, "write", 1)
    h.info(0)
    h.invoke(1, "read")
    h.ok(1, None)
    h.invoke(1, "read")
    h.ok(1, 1)  # the crashed write took effect long after it crashed
    assert check_linearizable(h.history(), "register")["valid"] is True
    h.invoke(1, "read")
    h.ok(1, None)  # ... but it cannot be undone
    assert check_linearizable(h.history(), "register")["valid"] is False


def test_initial_value_of_cas_register() -> None:
    h = HistoryBuilder()
    h.invoke(0, "cas", (0, 5))
    h.ok(0, True)
    assert check_linearizable(h.history(), "cas-register")["valid"] is False
    assert check_linearizable(h.history(), "cas-register", initial=0)["valid"] is True


def test_keys_are_checked_independently() -> None:
    h = HistoryBuilder()
    h.invoke(0, "write", 1, key="a")
    h.ok(0)
    h.invoke(1, "read", key="b")
    h.ok(1, None)
    h.invoke(1, "read", key="b")
    h.ok(1, 1)  # b was never written
    result = check_linearizable(h.history(), "register")
    assert result["valid"] is False
    assert result["key"] == "b"
    assert result["keys"] == 2


def test_kv_model_appends_and_missing_key_reads_empty() -> None:
    h = HistoryBuilder()
    h.invoke(0, "get", key="k")
    h.ok(0, "")
    h.invoke(0, "append", "x", key="k")
    h.invoke(1, "append", "y", key="k")
    h.ok(0)
    h.ok(1)
    h.invoke(2, "get", key="k")
    h.ok(2, "yx")
    assert check_linearizable(h.history(), "auto")["model"] == "kv"
    assert check_linearizable(h.history(), "kv")["valid"] is True
    h.invoke(2, "get", key="k")
    h.ok(2, "xy")
    assert check_linearizable(h.history(), "kv")["valid"] is False


def test_set_model() -> None:
    h = HistoryBuilder()
    h.invoke(0, "add", 1)
    h.invoke(1, "add", 2)
    h.invoke(2, "read")
    h.ok(2, (2,))
    h.ok(0)
    h.ok(1)
    h.invoke(2, "read")
    h.ok(2, (1, 2))
    assert check_linearizable(h.history(), "set")["valid"] is True
    h.invoke(2, "read")
    h.ok(2, (1,))
    assert check_linearizable(h.history(), "set")["valid"] is False


def test_model_rejects_foreign_operations() -> None:
    h = HistoryBuilder()
    h.invoke(0, "cas", (1, 2))
    h.ok(0, True)
    with pytest.raises(ModelError, match="cas-register"):
        check_linearizable(h.history(), "register")


def _hard_history(rng: random.Random, ops: int, distinct: bool = False) -> list[Op]:
    """Many concurrent writes and a read that never matches: exponential for the search.
    Each value is written twice unless ``distinct`` (then the polynomial path decides it)."""
    h = HistoryBuilder()
    for process in range(ops):
        h.invoke(process, "write", process if distinct else process % (ops // 2))
    h.invoke(ops, "read")
    h.ok(ops, -1)
    for process in rng.sample(range(ops), ops):
        h.ok(process)
    return h.history()


def test_time_limit_gives_unknown() -> None:
    history = _hard_history(random.Random(7), 60)
    result = check_linearizable(history, "register", time_limit_s=0.2)
    assert result["valid"] == "unknown"
    assert "time limit" in result["reason"]
    assert result["time_s"] < 5


def test_distinct_values_decide_the_hard_history_at_once() -> None:
    history = _hard_history(random.Random(7), 60, distinct=True)
    result = check_linearizable(history, "register", time_limit_s=5)
    assert result["valid"] is False
    assert result["distinct_keys"] == 1
    assert result["op"]["value"] == -1 and "cannot be linearized" in result["message"]
    assert result["time_s"] < 1


def test_compose_ranks_false_over_unknown_over_true() -> None:
    assert compose([{"valid": True}, {"valid": "unknown"}]) == "unknown"
    assert compose([{"valid": "unknown"}, {"valid": False}, {"valid": True}]) is False
    assert compose([{"valid": True}, True]) is True
    assert compose([]) is True


def test_configuration_limit_gives_unknown_instead_of_exhausting_memory() -> None:
    history = _hard_history(random.Random(7), 60)
    result = check_linearizable(history, "register", max_configurations=5000)
    assert result["valid"] == "unknown"
    assert "5000 memoized configurations" in result["reason"]
