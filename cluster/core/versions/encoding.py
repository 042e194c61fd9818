"""Canonical JSON text of values, and the cheap checks of decoded fields that the context,
the version readers and the versionings share.

A value's canonical text is compact JSON with sorted keys (equal data, equal text): it is what a
version stores as ``value_json``, and it is spliced, never re-encoded, into the canonical texts
of versions and states (``version``, ``siblings``); ``_decode_value`` reads it back. The checks
come in two speeds: the one-pass ``_is_sorted_count_map`` accepts the shape this package
writes, and the general ``_is_count`` / ``_is_name`` decide everything else. Also
``_new_instance``, with which the hot paths build frozen dataclasses without their ``__init__``.
Pure functions: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any

import msgspec

# One encoder for every canonical text: ``json.dumps`` with options builds a new one per call.
_CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# Building instances on the hot paths without the generated ``__init__`` (see ``version._new_dvv``).
_new_instance = object.__new__


# msgspec's C codec, for the shapes where its text and values are exactly the stdlib's.
_value_encoder = msgspec.json.Encoder()
_value_decoder = msgspec.json.Decoder()
_PLAIN_INT = {int}


def _encode_value(value: Any) -> str:
    kind = type(value)
    if kind is str:  # the common case, and exactly what the encoder does with a string
        return encode_basestring(value)
    if kind is list and set(map(type, value)) <= _PLAIN_INT:
        # A list of plain ints (the set workload's cart, checked in C): msgspec writes exactly
        # the stdlib encoder's text for it, some ten times faster on a cart of hundreds.
        return _value_encoder.encode(value).decode()
    try:
        return _CANONICAL_ENCODER.encode(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"value is not JSON-able: {err}") from err


def _decode_value(text: str) -> Any:
    """The value a canonical text holds: msgspec's C decoder (a few times faster than the
    stdlib's on the lists of a cart), the stdlib's for what msgspec refuses and ``json`` takes
    (numbers beyond a double, lone surrogates), so that the result is always ``json.loads``'s."""
    try:
        return _value_decoder.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def _is_count(x: object, minimum: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= minimum


def _is_name(x: object) -> bool:
    return isinstance(x, str) and bool(x)


def _is_sorted_count_map(pairs: Iterable[tuple[str, int]], minimum: int) -> bool:
    """Names (plain non-empty strings) strictly increasing, each with a plain integer >=
    ``minimum``: the common shape of valid input, checked in one pass. ``False`` says only
    "check it the slow way", which also accepts subclasses and names the actual problem."""
    previous = ""
    for name, count in pairs:
        if not (type(name) is str and name > previous and type(count) is int and count >= minimum):
            return False
        previous = name
    return True
