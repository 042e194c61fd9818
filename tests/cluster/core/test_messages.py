"""The messages themselves: built like the dataclasses they were (positionally in field order,
with their defaults), immutable, compared by value, each type with its own tag. The wire
codec's tests are in ``test_codec.py``."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.core.messages import (
    MESSAGE_TYPES,
    PEER_TYPES,
    AdminReply,
    ClientGet,
    ClientPut,
    GetReply,
    Ping,
    ReplicaPut,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)

# The field order and defaults every sender relies on when it builds a message positionally:
# what the dataclasses' ``__init__`` took before the messages became msgspec structs.
SIGNATURES: dict[str, list[tuple[Any, ...]]] = {
    "get": [("req",), ("key",), ("r", None), ("pr", None), ("timeout_ms", 1000)],
    "put": [
        ("req",),
        ("key",),
        ("value",),
        ("context", ""),
        ("w", None),
        ("pw", None),
        ("timeout_ms", 1000),
    ],
    "admin": [("req",), ("op",), ("args", {})],
    "get-reply": [
        ("req",),
        ("ok",),
        ("values", []),
        ("context", ""),
        ("found", False),
        ("coordinator", ""),
        ("replicas", []),
        ("fallbacks", []),
        ("clock", {}),
        ("error", ""),
        ("definite", False),
    ],
    "put-reply": [
        ("req",),
        ("ok",),
        ("coordinator", ""),
        ("replicas", []),
        ("fallbacks", []),
        ("version", {}),
        ("error", ""),
        ("definite", False),
    ],
    "admin-reply": [("req",), ("ok",), ("data", None), ("error", "")],
    "forward": [("req",), ("src",), ("request",)],
    "forward-reply": [("req",), ("src",), ("reply",)],
    "rget": [("req",), ("src",), ("key",), ("hint_for", None), ("digest", None)],
    "rget-reply": [("req",), ("src",), ("key",), ("state",), ("same", False)],
    "rput": [
        ("req",),
        ("src",),
        ("key",),
        ("state",),
        ("hint_for", None),
        ("reply", True),
    ],
    "rput-reply": [("req",), ("src",), ("key",), ("ok",), ("error", "")],
    "ping": [("src",), ("generation", 0), ("ring_version", 0)],
    "gossip": [("src",), ("state",), ("reply", True)],
    "handoff": [("req",), ("src",), ("items",)],
    "handoff-ack": [("req",), ("src",), ("ok",), ("error", "")],
    "aae-nodes": [("src",), ("level",), ("nodes",)],
    "aae-keys": [("src",), ("buckets",)],
    "aae-sync": [("src",), ("states",), ("want", [])],
    "reap-query": [("req",), ("src",), ("items",)],
    "reap-vote": [("req",), ("src",), ("ok",), ("held",)],
    "reap": [("src",), ("items",)],
}


def test_every_message_type_has_its_own_tag() -> None:
    assert sorted(MESSAGE_TYPES) == sorted(SIGNATURES)
    assert len(set(MESSAGE_TYPES.values())) == len(MESSAGE_TYPES)


def test_peer_messages_are_those_naming_their_sender() -> None:
    assert ReplicaPut in PEER_TYPES and Ping in PEER_TYPES
    assert not PEER_TYPES & {ClientGet, ClientPut, GetReply, AdminReply}
    assert len(PEER_TYPES) == sum("src" in [f[0] for f in s] for s in SIGNATURES.values())


@pytest.mark.parametrize("tag", sorted(SIGNATURES))
def test_a_message_is_built_in_field_order_with_its_defaults(tag: str) -> None:
    """The signature senders use: every field in order, the required ones first, defaults as
    documented."""
    parameters = list(inspect.signature(MESSAGE_TYPES[tag]).parameters.values())
    assert [p.name for p in parameters] == [f[0] for f in SIGNATURES[tag]]
    for parameter, expected in zip(parameters, SIGNATURES[tag], strict=True):
        if len(expected) == 1:
            assert parameter.default is inspect.Parameter.empty
        else:
            # A mutable default shows as msgspec's factory; check its value on a built message.
            assert parameter.default is not inspect.Parameter.empty
    required = [object() for f in SIGNATURES[tag] if len(f) == 1]
    built = MESSAGE_TYPES[tag](*required)
    for name, *default in SIGNATURES[tag]:
        if default:
            assert getattr(built, name) == default[0]


@given(data=st.data(), tag=st.sampled_from(sorted(MESSAGE_TYPES)))
def test_a_message_holds_what_it_was_given_and_cannot_change(data: st.DataObject, tag: str) -> None:
    """Positional and keyword arguments land in their fields (no check at construction: the
    codec checks what arrives), equal arguments make equal messages, defaults never shared,
    and no field can be set afterwards."""
    cls = MESSAGE_TYPES[tag]
    positional = []
    keywords = {}
    expected = {}
    for name, *default in SIGNATURES[tag]:
        value = data.draw(json_values)
        if not default:
            positional.append(value)
            expected[name] = value
        elif data.draw(st.booleans()):
            keywords[name] = value
            expected[name] = value
        else:
            expected[name] = default[0]
    msg = cls(*positional, **keywords)
    assert {name: getattr(msg, name) for name in expected} == expected
    again = cls(*positional, **keywords)
    assert again == msg and repr(again) == repr(msg)
    for name, *default in SIGNATURES[tag]:  # a mutable default is fresh each time
        if default and isinstance(default[0], list | dict) and name not in keywords:
            assert getattr(again, name) is not getattr(msg, name)
    for name in expected:
        with pytest.raises(AttributeError):
            setattr(msg, name, "changed")
