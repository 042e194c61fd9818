"""The wire codec: every message survives encoding, states travel as raw JSON text, and anything
that is not a well-formed message is a ``ProtocolError`` naming the problem (never a crash)."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.core.messages import _DATACLASS_INITS as DATACLASS_INITS
from cluster.core.messages import (
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
    _encode_fields,
    _from_dict_checked,
    decode,
    encode,
    from_dict,
    from_parsed,
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


# --------------------------------------------------------------------------- generated code
#
# ``decode``, ``encode`` and the messages' ``__init__`` are generated per type; the field-by-field
# reference versions stay in the module (``_from_dict_checked``, ``_encode_fields`` and the
# dataclass's own ``__init__``), and the generated ones must agree with them exactly.


class _Name(str):
    """A str subclass: the C encoder writes it as a string, the generated code must too."""


def _good_values(annotation: str) -> st.SearchStrategy[Any]:
    """Values of a field's own kind, as its annotation says (some out of range)."""
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "int": st.integers(min_value=-3, max_value=2**70),
        "int | None": st.none() | st.integers(),
        "str": st.text(max_size=8),
        "str | None": st.none() | st.text(max_size=8),
        "bool": st.booleans(),
        "list[Any]": st.lists(json_values, max_size=3),
        "list[str]": st.lists(names, max_size=3),
        "dict[str, Any]": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        "dict[str, int]": st.dictionaries(names, st.integers(), max_size=3),
    }
    return scalars.get(annotation, json_values)


def _any_values(annotation: str) -> st.SearchStrategy[Any]:
    """Mostly a field's own kind, sometimes anything JSON can hold."""
    return _good_values(annotation) | json_values | st.floats(allow_nan=False) | naturals


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_generated_decoders_agree_with_the_checked_path(data: st.DataObject, tag: str) -> None:
    """Same message (with the same instance dictionary, order included) or the same error."""
    fields = dataclasses.fields(MESSAGE_TYPES[tag])
    frame: dict[str, Any] = {"t": tag}
    for f in fields:  # every field, mostly of its own kind (so that some frames are valid)
        junk = data.draw(st.integers(0, 5)) == 0
        frame[f.name] = data.draw(_any_values(str(f.type)) if junk else _good_values(str(f.type)))
    if data.draw(st.integers(0, 3)) == 0:  # a field left out or one too many, sometimes
        del frame[data.draw(st.sampled_from([f.name for f in fields]))]
    if data.draw(st.integers(0, 3)) == 0:
        frame[data.draw(st.sampled_from(["bogus", "t2"]))] = 1
    order = data.draw(st.permutations(list(frame)))
    frame = {key: frame[key] for key in order}
    original = json.loads(json.dumps(frame))

    def outcome(decoder: Any, argument: Any) -> Any:
        try:
            msg = decoder(argument)
        except ProtocolError as err:
            return str(err)
        return type(msg), list(vars(msg).items())

    expected = outcome(_from_dict_checked, json.loads(json.dumps(frame)))
    assert outcome(decode, json.dumps(frame).encode()) == expected
    assert outcome(from_dict, frame) == expected
    assert outcome(from_parsed, json.loads(json.dumps(frame))) == expected
    assert frame == original  # from_dict leaves its argument alone


def _message_values(annotation: str) -> st.SearchStrategy[Any]:
    """What a node might put into a field: its kind, a wrong kind, a str or int subclass."""
    return (
        _any_values(annotation)
        | st.builds(_Name, st.text(max_size=5))
        | st.builds(RawJson, st.text(max_size=5))
        | st.sampled_from([True, False, None, [], {}, "", 0, -1, 2.5, float("nan")])
    )


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_generated_encoders_write_what_the_field_by_field_encoder_writes(
    data: st.DataObject, tag: str
) -> None:
    cls = MESSAGE_TYPES[tag]
    values = {}
    for f in dataclasses.fields(cls):
        strategy = _message_values(str(f.type))
        if f.name == "state":  # the field that may carry a RawJson state
            strategy |= st.builds(
                lambda v: RawJson(json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
                json_values,
            )
        values[f.name] = data.draw(strategy)
    msg = cls(**values)
    assert encode(msg) == _encode_fields(msg)


@pytest.mark.parametrize(
    ("msg", "frame"),
    [  # frames the codec wrote before its encoders were generated: the same bytes still
        (
            ReplicaPut(110, "n3", "k47", RawJson('[{"dot":["n3",1],"past":{},"value":"x"}]')),
            b'{"req":110,"src":"n3","key":"k47","hint_for":null,"reply":true,"t":"rput",'
            b'"state":[{"dot":["n3",1],"past":{},"value":"x"}]}',
        ),
        (
            ReplicaGetReply(119, "n1", "k99", None, same=True),
            b'{"req":119,"src":"n1","key":"k99","state":null,"same":true,"t":"rget-reply"}',
        ),
        (
            ReplicaGet(119, "n4", "k99", None, "358dbc90a9023fdaf5d0403eccf5faef"),
            b'{"req":119,"src":"n4","key":"k99","hint_for":null,'
            b'"digest":"358dbc90a9023fdaf5d0403eccf5faef","t":"rget"}',
        ),
        (
            PutReply(296, True, "n3", ["n3", "n4"], [], {"n3": 1}),
            b'{"req":296,"ok":true,"coordinator":"n3","replicas":["n3","n4"],"fallbacks":[],'
            b'"version":{"n3":1},"error":"","definite":false,"t":"put-reply"}',
        ),
        (
            ClientGet(300, "k\u00e9"),
            b'{"req":300,"key":"k\\u00e9","r":null,"pr":null,"timeout_ms":1000,"t":"get"}',
        ),
    ],
    ids=lambda x: type(x).__name__,
)
def test_frames_are_byte_for_byte_what_they_were(msg: Any, frame: bytes) -> None:
    assert encode(msg) == frame


def test_a_field_json_cannot_hold_fails_encoding_as_it_did() -> None:
    msg = ClientPut(1, "k", object())
    with pytest.raises(TypeError) as generated:
        encode(msg)
    with pytest.raises(TypeError) as reference:
        _encode_fields(msg)
    assert str(generated.value) == str(reference.value)


@pytest.mark.parametrize("cls", list(MESSAGE_TYPES.values()), ids=lambda c: c.__name__)
def test_the_fast_init_has_the_dataclass_signature(cls: type[Any]) -> None:
    dataclass_init = inspect.signature(DATACLASS_INITS[cls])
    assert inspect.signature(cls.__init__) == dataclass_init
    without_self = list(dataclass_init.parameters.values())[1:]
    assert inspect.signature(cls) == dataclass_init.replace(parameters=without_self)


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_the_fast_init_builds_what_the_dataclass_init_builds(data: st.DataObject, tag: str) -> None:
    cls = MESSAGE_TYPES[tag]
    parameters = list(inspect.signature(cls).parameters.values())
    positional = []
    keywords = {}
    for p in parameters:  # required ones positionally, some optional ones by keyword
        value = data.draw(_message_values(str(p.annotation)))
        if p.default is inspect.Parameter.empty:
            positional.append(value)
        elif data.draw(st.booleans()):
            keywords[p.name] = value
    fast = cls(*positional, **keywords)
    reference = object.__new__(cls)
    DATACLASS_INITS[cls](reference, *positional, **keywords)
    assert list(vars(fast).items()) == list(vars(reference).items())
    assert fast == reference
    assert repr(fast) == repr(reference)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.src = "changed"  # any name: frozen
    again = cls(*positional, **keywords)
    for f in dataclasses.fields(cls):  # a default factory's value is fresh each time
        if f.default_factory is not dataclasses.MISSING and f.name not in keywords:
            assert getattr(again, f.name) is not getattr(fast, f.name)
