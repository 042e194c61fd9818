"""JSON read and written the way Toxiproxy's Go server does, so that the embedded server accepts and
rejects the same request bodies with the same messages.

Go's ``json.Decoder`` reads the first value of a body (trailing bytes are ignored), matches
object keys to struct fields case-insensitively, leaves a field alone when the value is ``null``,
and refuses a fraction for an integer field (``cannot unmarshal number 1.5 into Go struct field
... of type int64``). Numbers are kept as typed here: ``int`` for integer literals,
``FloatLiteral`` for the rest.
Pure functions, no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from nemesis.toxiproxy.errors import ApiError, bad_request_body

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
FLOAT32_MAX = 3.4028234663852886e38


class FloatLiteral(str):
    """A JSON number with a fraction or exponent, kept as written (Go rejects it for ints)."""

    __slots__ = ()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


_DECODER = json.JSONDecoder(parse_float=FloatLiteral, parse_constant=_reject_constant)


def decode_body(body: bytes) -> Any:
    """The first JSON value in ``body``; a 400 ``bad request body: ...`` when there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request_body("invalid UTF-8 in request body") from None
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise bad_request_body("EOF")
    try:
        value, _ = _DECODER.raw_decode(stripped)
    except json.JSONDecodeError as err:
        raise bad_request_body(f"invalid JSON: {err.msg} at offset {err.pos}") from None
    except ValueError as err:
        raise bad_request_body(str(err)) from None
    return value


def go_kind(value: object) -> str:
    """The JSON kind Go names in its unmarshal errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | FloatLiteral):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_error(value: object, struct: str, field: str, go_type: str) -> ApiError:
    kind = go_kind(value)
    shown = f"number {value}" if kind == "number" else kind
    return bad_request_body(
        f"json: cannot unmarshal {shown} into Go struct field {struct}.{field} of type {go_type}"
    )


def expect_object(value: object, go_type: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request_body(
            f"json: cannot unmarshal {go_kind(value)} into Go value of type {go_type}"
        )
    return value


def fields(obj: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The values of ``known`` fields in ``obj``, matched as Go does (exact name first, else any
    case), skipping ``null``s, which leave a Go field unchanged."""
    found: dict[str, Any] = {}
    names = list(known)
    for key, value in obj.items():
        if key in names:
            field = key
        else:
            matches = [name for name in names if name.lower() == key.lower()]
            if not matches:
                continue
            field = matches[0]
            if field in obj:  # an exact key wins over a case-insensitive one
                continue
        if value is not None:
            found[field] = value
    return found


def as_string(value: object, struct: str, field: str) -> str:
    if isinstance(value, str) and not isinstance(value, FloatLiteral):
        return value
    raise _type_error(value, struct, field, "string")


def as_bool(value: object, struct: str, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _type_error(value, struct, field, "bool")


def as_int(value: object, struct: str, field: str, go_type: str = "int64") -> int:
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
        return value
    raise _type_error(value, struct, field, go_type)


def as_float32(value: object, struct: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | FloatLiteral):
        raise _type_error(value, struct, field, "float32")
    number = float(value)
    if math.isinf(number) or abs(number) > FLOAT32_MAX:
        raise _type_error(value, struct, field, "float32")
    return number


def number(value: float) -> int | float:
    """A float as Go prints it: ``1`` rather than ``1.0``."""
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def encode(value: object) -> bytes:
    """Compact JSON, as ``json.Marshal`` writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
