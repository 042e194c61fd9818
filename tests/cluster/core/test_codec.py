"""The wire codec: every message survives encoding, states travel as raw JSON text, frames stay
readable by (and read) the JSON the codec wrote before msgspec, and anything that is not a
well-formed message is a ``ProtocolError`` naming the problem (never a crash)."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.core.codec import (
    ProtocolError,
    RawJson,
    decode,
    encode,
    from_dict,
    from_parsed,
    parse,
    replace,
    to_dict,
)
from cluster.core.messages import (
    MESSAGE_TYPES,
    NO_STATE,
    AdminRequest,
    ClientGet,
    ClientPut,
    Forward,
    ForwardReply,
    GetReply,
    Gossip,
    Ping,
    PutReply,
    ReapVote,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
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
    ReplicaGetReply(7, "n2", "k", NO_STATE, same=True),
    ReplicaPut(8, "n1", "k", RawJson(b'[{"dot":["n1",1],"past":{},"value":"v"}]'), "n3", False),
    Forward(10, "n2", ClientPut(2, "k", ["v"], context="abc")),
    ForwardReply(11, "n3", GetReply(4, True, ["a"], "ctx", True, "n3", ["n3"], [], {"n3": 1})),
    Ping("n5", 3, 7),
    Gossip("n1", {"ring": []}, reply=False),
    ReapVote(9, "n2", ["a"], ["b"]),
]


def _fields(cls: type[Any]) -> list[msgspec.structs.FieldInfo]:
    return list(msgspec.structs.fields(cls))


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
    assert f'"state":{text}'.encode() in encode(raw)  # the text itself, unparsed
    for sent in (raw, structured):  # the receiver is handed the text, still encoded
        received = decode(encode(sent))
        assert type(received.state) is RawJson and json.loads(bytes(received.state)) == state
    assert to_dict(raw) == to_dict(structured)  # the JSON-able form decodes the text


def test_missing_optional_fields_take_their_defaults() -> None:
    msg = decode(b'{"t":"get-reply","req":3,"ok":true}')
    assert msg == GetReply(3, True)
    again = decode(b'{"t":"get-reply","req":4,"ok":true}')
    assert again.values is not msg.values  # a fresh list each time, never shared


def test_surrounding_whitespace_is_accepted() -> None:
    assert decode(b' {"t": "ping", "src": "n1"}\n') == Ping("n1")
    assert [from_parsed(item) for item in parse(b' [{"t": "ping", "src": "n1"}]\n')] == [Ping("n1")]


def test_replace_changes_only_the_fields_named() -> None:
    reply = PutReply(5, True, "n2", ["n2"])
    assert replace(reply, req=9) == PutReply(9, True, "n2", ["n2"])
    assert reply.req == 5


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"\xff\xfe\x00binary", "not JSON"),
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
        (b'{"t":"ping","src":"n1"} trailing', "not JSON"),
        (b"[1, 2, 3]", "expected a JSON object, got list"),
        (b'{"t": "no-such-type", "req": 1}', "unknown message type 'no-such-type'"),
        (b'{"req": 1}', "unknown message type None"),
        (b'{"t": 5}', "unknown message type 5"),
        (b'{"t": "get", "req": 1}', "get: missing fields ['key']"),
        (b'{"t": "get", "req": -5, "key": "k"}', "get: Expected `int` >= 0 - at `$.req`"),
        (b'{"t": "get", "req": true, "key": "k"}', "get: Expected `int`, got `bool` - at `$.req`"),
        (b'{"t": "get", "req": 1.5, "key": "k"}', "get: Expected `int`, got `float` - at `$.req`"),
        (b'{"t": "get", "req": 1, "key": 7}', "get: Expected `str`, got `int` - at `$.key`"),
        (b'{"t": "get", "req": 1, "key": "k", "r": "two"}', "`int | null`, got `str` - at `$.r`"),
        (b'{"t": "get", "req": 1, "key": "k", "bogus": 1}', "get: unknown fields ['bogus']"),
        (b'{"t": "rget", "req": 1, "src": "n1", "key": "k", "hint_for": 3}', "`$.hint_for`"),
        (
            b'{"t": "rget-reply", "req": 1, "src": "n1", "key": "k", "state": null, "same": 1}',
            "rget-reply: Expected `bool`, got `int` - at `$.same`",
        ),
        (b'{"t": "gossip", "src": "n1", "state": []}', "got `array` - at `$.state`"),
        (b'{"t": "handoff", "req": 1, "src": "n1", "items": {}}', "got `object` - at `$.items`"),
        (b'{"t": "admin", "req": 1, "op": "ping", "args": []}', "got `array` - at `$.args`"),
        (b'{"t": "get-reply", "req": 1, "ok": true, "replicas": [1]}', "`$.replicas[0]`"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # deeper than the parser goes
    ],
)  # fmt: skip
def test_garbage_is_a_protocol_error_naming_the_problem(frame: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode(frame)
    assert problem in str(raised.value)
    # The same problem, worded the same, when the frame arrives as (part of) a batch.
    try:
        items = parse(frame)
    except ProtocolError as err:
        assert "not JSON" in str(err) and problem == "not JSON"
        return
    if type(items) is not list:
        with pytest.raises(ProtocolError) as again:
            from_parsed(items)
        assert str(again.value) == str(raised.value)
    # And when its JSON arrives already parsed, as a forwarded request or reply does.
    try:
        parsed = json.loads(frame)
    except ValueError:
        return
    with pytest.raises(ProtocolError) as as_dict:
        from_dict(parsed)
    assert str(as_dict.value) == str(raised.value)


@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_a_protocol_error(frame: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode(frame)
    with contextlib.suppress(ProtocolError):
        items = parse(frame)
        for item in items if type(items) is list else [items]:
            with contextlib.suppress(ProtocolError):
                from_parsed(item)


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_messages_with_fields_of_any_kind_decode_or_are_rejected(
    data: st.DataObject, tag: str
) -> None:
    """A known type's own field names with arbitrary JSON values (some left out): either a
    ``ProtocolError``, or a message of that type that survives encoding again."""
    fields = [f.name for f in _fields(MESSAGE_TYPES[tag])]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True))
    values = {name: data.draw(json_values | naturals | names) for name in chosen}
    frame = json.dumps({**values, "t": tag}).encode()
    try:
        msg = decode(frame)
    except ProtocolError:
        return
    assert type(msg) is MESSAGE_TYPES[tag]
    assert decode(encode(msg)) == msg


# --------------------------------------------------------------------------- the reference
#
# What a frame must hold to be a message, field by field, as the codec before msgspec checked
# it (with the element checks msgspec adds: a list of strings holds strings, a dict of
# integers integers). The decoder must accept exactly what this accepts.


def _kind_ok(annotation: Any, value: Any) -> bool:
    """Does the JSON ``value`` fit a field annotated ``annotation``? (``type``, not
    ``isinstance``: JSON gives exact types, and True is no integer here.)"""
    text = str(annotation)
    if "Meta(ge=0)" in text:  # Natural
        return type(value) is int and value >= 0
    kinds: dict[str, Any] = {
        "int | None": lambda v: v is None or type(v) is int,
        "str": lambda v: type(v) is str,
        "str | None": lambda v: v is None or type(v) is str,
        "bool": lambda v: type(v) is bool,
        "list[typing.Any]": lambda v: type(v) is list,
        "list[str]": lambda v: type(v) is list and all(type(x) is str for x in v),
        "dict[str, typing.Any]": lambda v: type(v) is dict,
        "dict[str, int]": lambda v: type(v) is dict and all(type(x) is int for x in v.values()),
        "typing.Any": lambda v: True,
        "<class 'str'>": lambda v: type(v) is str,
        "<class 'bool'>": lambda v: type(v) is bool,
        "<class 'msgspec.Raw'>": lambda v: True,  # a state's text: any JSON, kept encoded
    }
    if text in kinds:
        return bool(kinds[text](value))
    # A nested message (``Forward.request``): a valid message of one of the types named.
    allowed = {cls.__name__ for cls in MESSAGE_TYPES.values() if f".{cls.__name__}" in text}
    nested = _reference(value)
    return not isinstance(nested, str) and nested[0].__name__ in allowed


def _reference(data: Any) -> Any:
    """The message ``data`` holds, as (type, fields), or the start of the error naming why not."""
    if type(data) is not dict:
        return f"expected a JSON object, got {type(data).__name__}"
    tag = data.get("t")
    cls = MESSAGE_TYPES.get(tag) if type(tag) is str else None
    if cls is None:
        return f"unknown message type {tag!r}"
    fields = _fields(cls)
    given_fields = {k: v for k, v in data.items() if k != "t"}
    unknown = given_fields.keys() - {f.name for f in fields}
    if unknown:
        return f"{tag}: unknown fields {sorted(unknown)}"
    missing = {f.name for f in fields if f.required} - given_fields.keys()
    if missing:
        return f"{tag}: missing fields {sorted(missing)}"
    for f in fields:
        if f.name in given_fields and not _kind_ok(f.type, given_fields[f.name]):
            return f"{tag}: "  # msgspec's own words follow, naming the field ("at `$.name`")
    values = {f.name: given_fields.get(f.name, f.default) for f in fields}
    for f in fields:
        if f.name not in given_fields and f.default_factory is not msgspec.NODEFAULT:
            values[f.name] = f.default_factory()
        elif type(values[f.name]) is dict and "cluster.core.messages." in str(f.type):
            values[f.name] = _reference(values[f.name])  # a nested message, as its fields
    return cls, values


def _as_reference(value: Any) -> Any:
    """A decoded field as ``_reference`` states it: a nested message as (type, fields), a
    state's text as the JSON it holds."""
    if isinstance(value, msgspec.Struct):
        names = [f.name for f in _fields(type(value))]
        return type(value), {name: _as_reference(getattr(value, name)) for name in names}
    if type(value) is RawJson:
        return json.loads(bytes(value))
    return value


class _Name(str):
    """A str subclass: written as a string, as the stdlib encoder writes it."""


def _good_values(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of a field's own kind, as its annotation says (some out of range)."""
    text = str(annotation)
    if "Meta(ge=0)" in text:
        return st.integers(min_value=-3, max_value=2**70)
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "int | None": st.none() | st.integers(),
        "str": st.text(max_size=8),
        "<class 'str'>": st.text(max_size=8),
        "str | None": st.none() | st.text(max_size=8),
        "bool": st.booleans(),
        "<class 'bool'>": st.booleans(),
        "list[typing.Any]": st.lists(json_values, max_size=3),
        "list[str]": st.lists(names, max_size=3),
        "dict[str, typing.Any]": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        "dict[str, int]": st.dictionaries(names, st.integers(), max_size=3),
    }
    return scalars.get(text, json_values)


def _any_values(annotation: Any) -> st.SearchStrategy[Any]:
    """Mostly a field's own kind, sometimes anything (standard) JSON can hold."""
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return _good_values(annotation) | json_values | finite | naturals


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_decoding_accepts_exactly_what_the_reference_accepts(data: st.DataObject, tag: str) -> None:
    """Same message, or the same error (msgspec's words for a field of the wrong kind), from
    ``decode``, from a batch item, from ``from_dict`` and from an already parsed value."""
    fields = _fields(MESSAGE_TYPES[tag])
    frame: dict[str, Any] = {"t": tag}
    for f in fields:  # every field, mostly of its own kind (so that some frames are valid)
        junk = data.draw(st.integers(0, 5)) == 0
        frame[f.name] = data.draw(_any_values(f.type) if junk else _good_values(f.type))
    if data.draw(st.integers(0, 3)) == 0:  # a field left out or one too many, sometimes
        del frame[data.draw(st.sampled_from([f.name for f in fields]))]
    if data.draw(st.integers(0, 3)) == 0:
        frame[data.draw(st.sampled_from(["bogus", "t2"]))] = 1
    order = data.draw(st.permutations(list(frame)))
    frame = {key: frame[key] for key in order}
    original = json.loads(json.dumps(frame))
    expected = _reference(original)

    def outcome(decoder: Any, argument: Any) -> Any:
        try:
            msg = decoder(argument)
        except ProtocolError as err:
            return str(err)
        return _as_reference(msg)

    encoded = json.dumps(frame).encode()
    batch_item = parse(b"[" + encoded + b"]")[0]
    results = [
        outcome(decode, encoded),
        outcome(from_parsed, batch_item),
        outcome(from_dict, frame),
        outcome(from_parsed, json.loads(encoded)),
    ]
    for result in results:
        if isinstance(expected, str):
            assert isinstance(result, str) and result.startswith(expected)
        else:
            assert result == expected
    if isinstance(expected, str) and expected.endswith(": "):  # a field of the wrong kind
        assert "at `$." in results[0]  # msgspec names the field
    assert frame == original  # from_dict leaves its argument alone


def _message_values(annotation: Any) -> st.SearchStrategy[Any]:
    """What a node might put into a field: its kind, a wrong kind, a str subclass."""
    return (
        _any_values(annotation)
        | st.builds(_Name, st.text(max_size=5))
        | st.sampled_from([True, False, None, [], {}, "", 0, -1, 2.5])
    )


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_a_frame_is_the_json_of_the_message_fields(data: st.DataObject, tag: str) -> None:
    """Whatever a message holds (of its fields' kinds or not), its frame is standard JSON that
    any JSON reader (the stdlib's, as the codec before msgspec) reads as the tag and the
    fields, a ``RawJson`` state as the value it spells."""
    cls = MESSAGE_TYPES[tag]
    values = {}
    expected: dict[str, Any] = {"t": tag}
    for f in _fields(cls):
        strategy = _message_values(f.type)
        if f.name == "state":  # the field that may carry a RawJson state
            strategy |= st.builds(
                lambda v: RawJson(json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
                json_values,
            )
        value = data.draw(strategy)
        values[f.name] = value
        expected[f.name] = (
            json.loads(bytes(value))
            if type(value) is msgspec.Raw
            else json.loads(json.dumps(value))
        )
    frame = encode(cls(**values))
    assert json.loads(frame) == expected
    assert list(json.loads(frame)) == list(expected)  # the tag, then fields in order


def test_a_float_json_cannot_spell_travels_as_null() -> None:
    # The stdlib wrote NaN / Infinity, which no standard JSON reader (msgspec included) takes.
    frame = encode(ClientPut(1, "k", [math.nan, math.inf]))
    assert json.loads(frame)["value"] == [None, None]


def test_a_field_json_cannot_hold_fails_encoding() -> None:
    with pytest.raises(TypeError, match="Encoding objects of type object is unsupported"):
        encode(ClientPut(1, "k", object()))


# Frames as the codec wrote them before msgspec: the tag last (after the fields, before a
# spliced state), non-ASCII characters escaped.
OLD_FRAMES: list[tuple[Any, bytes]] = [
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
]


@pytest.mark.parametrize(("msg", "frame"), OLD_FRAMES, ids=lambda x: type(x).__name__)
def test_frames_carry_what_they_carried_before(msg: Any, frame: bytes) -> None:
    """Old and new frames hold the same JSON object, and each side reads the other's."""
    assert json.loads(encode(msg)) == json.loads(frame)  # an old reader reads a new frame
    assert to_dict(decode(frame)) == to_dict(msg)  # a new reader reads an old frame


@pytest.mark.parametrize(
    ("msg", "frame"),
    [
        (
            ReplicaPut(110, "n3", "k47", RawJson('[{"dot":["n3",1],"past":{},"value":"x"}]')),
            b'{"t":"rput","req":110,"src":"n3","key":"k47",'
            b'"state":[{"dot":["n3",1],"past":{},"value":"x"}],"hint_for":null,"reply":true}',
        ),
        (
            ClientGet(300, "k\u00e9"),
            b'{"t":"get","req":300,"key":"k\xc3\xa9","r":null,"pr":null,"timeout_ms":1000}',
        ),
    ],
    ids=lambda x: type(x).__name__,
)
def test_frames_are_byte_for_byte_what_they_are(msg: Any, frame: bytes) -> None:
    """The bytes themselves (tag first, UTF-8), so that a change to them is a decision."""
    assert encode(msg) == frame
