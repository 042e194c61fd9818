"""Sequential specifications for the linearizability checker, compiled to small step codes.

No I/O. Each operation becomes a ``(code, a, b)`` triple that the search applies to a model
state without calling back into Python objects (the hot loop is in `checker.wgl`):

| code            | legal when        | new state       |
|-----------------|-------------------|-----------------|
| ``READ``        | ``state == a``    | ``state``       |
| ``WRITE``       | always            | ``a``           |
| ``CAS``         | ``state == a``    | ``b``           |
| ``CAS_REFUSED`` | ``state != a``    | ``state``       |
| ``APPEND``      | always            | ``state + a``   |
| ``ADD``         | always            | ``state | a``   |

Models: ``register`` (read, write), ``cas-register`` (read, write, cas), ``kv`` (get / put /
append per key, a missing key reads as ""), ``set`` (add, read of the whole set).
"""

from __future__ import annotations

from typing import Any

from checker.ops import ANY, Op

READ, WRITE, CAS, CAS_REFUSED, APPEND, ADD = range(6)

MODELS = ("register", "cas-register", "kv", "set")

_FUNCTIONS: dict[str, frozenset[str]] = {
    "register": frozenset({"read", "write", "delete"}),
    "cas-register": frozenset({"read", "write", "cas", "delete"}),
    "kv": frozenset({"get", "put", "append", "read", "write", "delete"}),
    "set": frozenset({"add", "read"}),
}

Step = tuple[int, Any, Any]


class ModelError(ValueError):
    """An operation the chosen model cannot interpret; names the op's line."""

    def __init__(self, op: Op, message: str) -> None:
        super().__init__(f"line {op.line}: {message}")
        self.op = op


def infer_model(ops: list[Op]) -> str:
    """The model a history's functions suggest: set, kv, cas-register or register."""
    functions = {op.f for op in ops}
    if "add" in functions:
        return "set"
    if functions & {"get", "put", "append"}:
        return "kv"
    if "cas" in functions:
        return "cas-register"
    return "register"


def initial_state(model: str, initial: Any = None) -> Any:
    """The model's state before any operation (``initial`` only applies to registers)."""
    if model == "kv":
        return ""
    if model == "set":
        return frozenset()
    return initial


def compile_op(model: str, op: Op) -> Step | None:
    """The step code for one operation, or None when it constrains nothing (a failed op, a
    read with an unknown result, an op that may never happen and could not change state)."""
    if op.type == "fail":
        return None
    f = op.f
    if f not in _FUNCTIONS[model]:
        hint = ""
        if f == "cas":
            hint = "; use --model cas-register"
        elif f in ("get", "put", "append"):
            hint = "; use --model kv"
        elif f == "add":
            hint = "; use --model set"
        raise ModelError(op, f"model {model} has no operation {f!r}{hint}")
    completed = op.ret is not None
    if f in ("read", "get"):
        if not completed or op.output is ANY:
            return None
        if model == "set":
            return (READ, _as_set(op), None)
        return (READ, op.output, None)
    if f in ("write", "put"):
        return (WRITE, op.value, None)
    if f == "delete":
        return (WRITE, "" if model == "kv" else None, None)
    if f == "cas":
        start, end = op.value
        if op.output is False:
            return (CAS_REFUSED, start, None)
        if not completed and start == end:
            return None  # may never happen, and could not change the value if it did
        return (CAS, start, end)
    if f == "append":
        if not isinstance(op.value, str):
            raise ModelError(op, f"append needs a string value, got {op.value!r}")
        return (APPEND, op.value, None)
    # add
    return (ADD, frozenset((op.value,)), None)


def _as_set(op: Op) -> frozenset[Any]:
    value = op.output
    if value is None:
        return frozenset()
    if isinstance(value, tuple | frozenset):
        return frozenset(value)
    raise ModelError(op, f"a set read must return a collection, got {value!r}")
