"""The causal context (``cluster.core.versions.context``): any context survives its opaque
wire text, garbage is refused with a clear error, and the fast constructors and decoder accept
and refuse exactly what the checked constructor does."""

from __future__ import annotations

import base64
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.core.versions import EMPTY_CONTEXT, Context, Siblings, Versioning
from tests.cluster.core.versions.strategies import run_and_states

# ---------------------------------------------------------------------- wire forms


@given(run_and_states(1))
def test_context_round_trips_through_encode_and_decode(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (state,) = case
    context = mode.context(state)
    text = context.encode()
    assert Context.decode(text) == context
    assert text.replace("-", "").replace("_", "").isalnum() or text == ""
    assert (text == "") == (context == EMPTY_CONTEXT)


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.integers(1, 10**12), max_size=12),
    st.data(),
)
def test_any_context_round_trips(counters: dict[str, int], data: st.DataObject) -> None:
    stamped = data.draw(st.sets(st.sampled_from(sorted(counters)))) if counters else set()
    stamps = {n: data.draw(st.integers(0, 2**45)) for n in stamped}
    context = Context.of(counters, stamps)
    decoded = Context.decode(context.encode())
    assert decoded == context
    assert decoded.as_dict() == counters


@pytest.mark.parametrize(
    "garbage",
    [
        "not base64!",
        "%%%",
        "a",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"a": 0}').decode(),
        base64.urlsafe_b64encode(b'{"a": -1}').decode(),
        base64.urlsafe_b64encode(b'{"a": "1"}').decode(),
        base64.urlsafe_b64encode(b'{"a": [1]}').decode(),
        base64.urlsafe_b64encode(b'{"a": true}').decode(),
        base64.urlsafe_b64encode(b'{"": 1}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_garbage_contexts_are_rejected(garbage: str) -> None:
    with pytest.raises(ValueError, match="malformed context"):
        Context.decode(garbage)


@given(st.text(max_size=40))
def test_decoding_any_text_gives_a_context_or_a_clear_error(text: str) -> None:
    try:
        context = Context.decode(text)
    except ValueError as err:
        assert "malformed context" in str(err)
    else:
        assert Context.decode(context.encode()) == context


@given(
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3), max_size=2),
)
def test_context_of_accepts_and_refuses_what_the_constructor_does(
    counters: dict[str, int], stamps: dict[str, int]
) -> None:
    for given_stamps in ({}, None, stamps):
        try:
            expected = Context(
                tuple(sorted(counters.items())), tuple(sorted((given_stamps or {}).items()))
            )
        except ValueError as err:
            with pytest.raises(ValueError, match=re.escape(str(err))):
                Context.of(counters, given_stamps)
        else:
            built = Context.of(counters, given_stamps)
            assert built == expected and vars(built) == vars(expected)


@given(
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3) | st.booleans(), max_size=4),
    st.randoms(use_true_random=False),
)
def test_context_decode_takes_entries_in_any_order(
    counters: dict[str, object], rng: random.Random
) -> None:
    entries = list(counters.items())
    rng.shuffle(entries)
    text = base64.urlsafe_b64encode(json.dumps(dict(entries)).encode()).decode().rstrip("=")
    valid = all(n and type(c) is int and c >= 1 for n, c in entries)
    if not valid:
        with pytest.raises(ValueError, match="malformed context"):
            Context.decode(text)
        return
    decoded = Context.decode(text)
    assert decoded == Context(tuple(sorted(counters.items())))  # type: ignore[arg-type]
    assert vars(decoded) == vars(Context(decoded.counters))
    assert Context.decode(decoded.encode()) == decoded
