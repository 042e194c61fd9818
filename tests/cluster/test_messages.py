"""The wire codec: every message survives encoding, states travel as raw JSON text, and anything
that is not a well-formed message is a ``ProtocolError`` naming the problem (never a crash)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.messages import (
    MESSAGE_TYPES,
    AdminRequest,
    ClientGet,
    ClientPut,
    GetReply,
    Gossip,
    Ping,
    ProtocolError,
    PutReply,
    RawJson,
    ReapVote,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    decode,
    encode,
    from_dict,
    to_dict,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
names = st.text(min_size=1, max_size=8)
naturals = st.integers(min_value=0, max_value=2**40)

examples: list[Any] = [
    ClientGet(1, "k", r=2, pr=None, timeout_ms=500),
    ClientPut(2, "k", {"nested": ["v", 1]}, context="abc", w=None, pw=1),
    AdminRequest(3, "status", {"verbose": True}),
    GetReply(4, True, ["a", "b"], "ctx", True, "n1", ["n1", "n2"], [], {"n1": 2}),
    PutReply(5, False, "n2", ["n2"], ["n4"], {"n2": 1}, "timeout", False),
    ReplicaGet(6, "n1", "k", None, "00ff"),
    ReplicaGetReply(7, "n2", "k", None, same=True),
    ReplicaPut(8, "n1", "k", [{"value": "v", "dot": ["n1", 1], "past": {}}], "n3", False),
    Ping("n5", 3, 7),
    Gossip("n1", {"ring": []}, reply=False),
    ReapVote(9, "n2", ["a"], ["b"]),
]


@pytest.mark.parametrize("msg", examples, ids=lambda m: type(m).__name__)
def test_every_kind_of_message_round_trips(msg: Any) -> None:
    assert decode(encode(msg)) == msg
    assert from_dict(to_dict(msg)) == msg


@given(req=naturals, key=st.text(max_size=20), value=json_values, context=st.text(max_size=20))
def test_client_puts_round_trip(req: int, key: str, value: Any, context: str) -> None:
    msg = ClientPut(req, key, value, context=context)
    assert decode(encode(msg)) == msg


@given(state=json_values, src=names, req=naturals)
def test_a_raw_json_state_is_spliced_and_decodes_like_the_structure(
    state: Any, src: str, req: int
) -> None:
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    raw = ReplicaPut(req, src, "k", RawJson(text))
    structured = ReplicaPut(req, src, "k", state)
    assert decode(encode(raw)) == decode(encode(structured)) == structured
    assert to_dict(raw) == to_dict(structured)  # the JSON-able form decodes the text


def test_missing_optional_fields_take_their_defaults() -> None:
    msg = decode(b'{"t":"get-reply","req":3,"ok":true}')
    assert msg == GetReply(3, True)
    again = decode(b'{"t":"get-reply","req":4,"ok":true}')
    assert again.values is not msg.values  # a fresh list each time, never shared


def test_surrounding_whitespace_is_accepted() -> None:
    assert decode(b' {"t": "ping", "src": "n1"}\n') == Ping("n1")


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"\xff\xfe\x00binary", "not JSON"),
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
        (b'{"t":"ping","src":"n1"} trailing', "not JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"t": "no-such-type", "req": 1}', "unknown message type"),
        (b'{"req": 1}', "unknown message type"),
        (b'{"t": 5}', "unknown message type"),
        (b'{"t": "get", "req": 1}', "missing fields ['key']"),
        (b'{"t": "get", "req": -5, "key": "k"}', "req must be a non-negative integer"),
        (b'{"t": "get", "req": true, "key": "k"}', "req must be a non-negative integer"),
        (b'{"t": "get", "req": 1.5, "key": "k"}', "req must be a non-negative integer"),
        (b'{"t": "get", "req": 1, "key": 7}', "key must be a string"),
        (b'{"t": "get", "req": 1, "key": "k", "r": "two"}', "r must be an integer or null"),
        (b'{"t": "get", "req": 1, "key": "k", "bogus": 1}', "unknown fields ['bogus']"),
        (b'{"t": "rget", "req": 1, "src": "n1", "key": "k", "hint_for": 3}', "hint_for"),
        (
            b'{"t": "rget-reply", "req": 1, "src": "n1", "key": "k", "state": null, "same": 1}',
            "same must be true or false",
        ),
        (b'{"t": "gossip", "src": "n1", "state": []}', "state must be an object"),
        (b'{"t": "handoff", "req": 1, "src": "n1", "items": {}}', "items must be a list"),
        (b'{"t": "admin", "req": 1, "op": "ping", "args": []}', "args must be an object"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # deeper than the parser goes
    ],
)
def test_garbage_is_a_protocol_error_naming_the_problem(frame: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode(frame)
    assert problem in str(raised.value)


@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_a_protocol_error(frame: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode(frame)


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_messages_with_fields_of_any_kind_decode_or_are_rejected(
    data: st.DataObject, tag: str
) -> None:
    """A known type's own field names with arbitrary JSON values (some left out): either a
    ``ProtocolError``, or a message of that type that survives encoding again."""
    fields = [f.name for f in dataclasses.fields(MESSAGE_TYPES[tag])]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True))
    values = {name: data.draw(json_values | naturals | names) for name in chosen}
    frame = json.dumps({**values, "t": tag}).encode()
    try:
        msg = decode(frame)
    except ProtocolError:
        return
    assert type(msg) is MESSAGE_TYPES[tag]
    assert decode(encode(msg)) == msg
