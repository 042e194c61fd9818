"""The wire protocol: every message a client, an admin tool or a peer node sends, and its codec.

Messages are frozen dataclasses; on the wire each is one ZeroMQ frame holding a compact JSON
object whose ``"t"`` field names the message type. ``decode`` rejects anything that is not a
well-formed message of a known type — unknown or missing fields, a field of the wrong kind (as
its annotation says) — with a ``ProtocolError`` naming what was wrong, so a shell can log
garbage and keep serving. A state a node already holds as JSON text travels as ``RawJson``,
spliced into the frame unparsed. No I/O here.

Requests carry a ``req`` id chosen by their sender; replies echo it, and a sender drops replies
whose id it is no longer waiting for (late replies). Client requests carry ``timeout_ms``: the
coordinator gives up after it and answers with an indefinite error.
"""

from __future__ import annotations

import dataclasses
import json
import json.encoder
import json.scanner
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any, ClassVar, cast


class ProtocolError(ValueError):
    """A frame that is not a valid message."""


# --------------------------------------------------------------------------- client requests


@dataclass(frozen=True)
class ClientGet:
    """Read a key: every concurrent value (siblings) and the causal context."""

    req: int
    key: str
    r: int | None = None  # None: the cluster's default R
    pr: int | None = None  # primaries that must answer (strict quorum); None: cluster default
    timeout_ms: int = 1000
    TYPE: ClassVar[str] = "get"


@dataclass(frozen=True)
class ClientPut:
    """Write a value (``None`` writes a tombstone: a delete) with the context a get returned."""

    req: int
    key: str
    value: Any
    context: str = ""
    w: int | None = None
    pw: int | None = None
    timeout_ms: int = 1000
    TYPE: ClassVar[str] = "put"


@dataclass(frozen=True)
class AdminRequest:
    """An admin command: ping, status, ring, replica (raw state of a key), clock, keys."""

    req: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    TYPE: ClassVar[str] = "admin"


# --------------------------------------------------------------------------- client replies


@dataclass(frozen=True)
class GetReply:
    """The answer to a get. ``definite`` matters only when ``ok`` is false."""

    req: int
    ok: bool
    values: list[Any] = field(default_factory=list)
    context: str = ""
    found: bool = False
    coordinator: str = ""
    replicas: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    clock: dict[str, int] = field(default_factory=dict)  # the decoded context, for histories
    error: str = ""
    definite: bool = False
    TYPE: ClassVar[str] = "get-reply"


@dataclass(frozen=True)
class PutReply:
    """The answer to a put or delete. ``version`` is the clock of the new value."""

    req: int
    ok: bool
    coordinator: str = ""
    replicas: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    version: dict[str, int] = field(default_factory=dict)
    error: str = ""
    definite: bool = False
    TYPE: ClassVar[str] = "put-reply"


@dataclass(frozen=True)
class AdminReply:
    req: int
    ok: bool
    data: Any = None
    error: str = ""
    TYPE: ClassVar[str] = "admin-reply"


# --------------------------------------------------------------------------- node to node


@dataclass(frozen=True)
class Forward:
    """A client request handed by a node outside the key's preference list to one inside it."""

    req: int
    src: str
    request: dict[str, Any]  # the encoded ClientGet / ClientPut
    TYPE: ClassVar[str] = "forward"


@dataclass(frozen=True)
class ForwardReply:
    req: int
    src: str
    reply: dict[str, Any]  # the encoded GetReply / PutReply
    TYPE: ClassVar[str] = "forward-reply"


@dataclass(frozen=True)
class ReplicaGet:
    """Coordinator → replica: send me your state of ``key`` (a fallback's hint for the down
    primary ``hint_for``, when it is one).

    ``digest`` (hex) is the digest of the coordinator's own main state of the key, when it has
    one: a primary replica whose main state has that digest answers ``same`` instead of sending
    the state back (Cassandra's digest reads), which saves both sides the state's encoding."""

    req: int
    src: str
    key: str
    hint_for: str | None = None
    digest: str | None = None
    TYPE: ClassVar[str] = "rget"


@dataclass(frozen=True)
class ReplicaGetReply:
    """A replica's state of ``key``, or ``same``: it equals the coordinator's (the request's
    ``digest`` matched), and ``state`` is null."""

    req: int
    src: str
    key: str
    state: Any  # Siblings.to_json() (perhaps as ``RawJson``), or None
    same: bool = False
    TYPE: ClassVar[str] = "rget-reply"


@dataclass(frozen=True)
class ReplicaPut:
    """Coordinator → replica: merge ``state`` into yours and store it durably.

    ``hint_for`` names the down primary this (fallback) replica stands in for; ``repair`` marks
    read repair and hinted handoff, which expect no reply.
    """

    req: int
    src: str
    key: str
    state: Any
    hint_for: str | None = None
    reply: bool = True
    TYPE: ClassVar[str] = "rput"


@dataclass(frozen=True)
class ReplicaPutReply:
    req: int
    src: str
    key: str
    ok: bool
    error: str = ""
    TYPE: ClassVar[str] = "rput-reply"


@dataclass(frozen=True)
class Ping:
    """A heartbeat between peers; feeds the failure detector. A peer whose ``ring_version``
    differs from the receiver's is gossiped with at once."""

    src: str
    generation: int = 0
    ring_version: int = 0
    TYPE: ClassVar[str] = "ping"


@dataclass(frozen=True)
class Gossip:
    """Membership state (``Membership.to_json()``), push-pull: a ``reply`` asks for the
    receiver's merged state back."""

    src: str
    state: dict[str, Any]
    reply: bool = True
    TYPE: ClassVar[str] = "gossip"


@dataclass(frozen=True)
class Handoff:
    """States to merge into the receiver's main table: hints handed to the owner they were
    held for, or a partition's keys handed to its new owners. ``items`` is ``[[key, state]]``."""

    req: int
    src: str
    items: list[Any]
    TYPE: ClassVar[str] = "handoff"


@dataclass(frozen=True)
class HandoffAck:
    req: int
    src: str
    ok: bool
    error: str = ""
    TYPE: ClassVar[str] = "handoff-ack"


@dataclass(frozen=True)
class AaeNodes:
    """Anti-entropy: the sender's Merkle hashes ``[[partition, index, hex]]`` at ``level``; the
    receiver answers with its children of the nodes that differ (or, at the leaves, with the
    buckets' contents)."""

    src: str
    level: int
    nodes: list[Any]
    TYPE: ClassVar[str] = "aae-nodes"


@dataclass(frozen=True)
class AaeKeys:
    """Anti-entropy: the sender's leaf buckets ``[[partition, index, {key: digest hex}]]``."""

    src: str
    buckets: list[Any]
    TYPE: ClassVar[str] = "aae-keys"


@dataclass(frozen=True)
class AaeSync:
    """Anti-entropy: states ``[[key, state]]`` to merge, and the keys whose states the sender
    wants back (after the receiver merged)."""

    src: str
    states: list[Any]
    want: list[str] = field(default_factory=list)
    TYPE: ClassVar[str] = "aae-sync"


@dataclass(frozen=True)
class ReapQuery:
    """Tombstone reaping: may these tombstones ``[[key, digest hex]]`` go?"""

    req: int
    src: str
    items: list[Any]
    TYPE: ClassVar[str] = "reap-query"


@dataclass(frozen=True)
class ReapVote:
    """``ok``: keys of which every copy the voter holds (main or hint) is that tombstone, or it
    holds none; ``held``: keys whose main state is that tombstone."""

    req: int
    src: str
    ok: list[str]
    held: list[str]
    TYPE: ClassVar[str] = "reap-vote"


@dataclass(frozen=True)
class Reap:
    """Delete every copy of these tombstones ``[[key, digest hex]]`` that is still unchanged."""

    src: str
    items: list[Any]
    TYPE: ClassVar[str] = "reap"


Message = (
    ClientGet
    | ClientPut
    | AdminRequest
    | GetReply
    | PutReply
    | AdminReply
    | Forward
    | ForwardReply
    | ReplicaGet
    | ReplicaGetReply
    | ReplicaPut
    | ReplicaPutReply
    | Ping
    | Gossip
    | Handoff
    | HandoffAck
    | AaeNodes
    | AaeKeys
    | AaeSync
    | ReapQuery
    | ReapVote
    | Reap
)

MESSAGE_TYPES: dict[str, type[Any]] = {
    cls.TYPE: cls
    for cls in (
        ClientGet,
        ClientPut,
        AdminRequest,
        GetReply,
        PutReply,
        AdminReply,
        Forward,
        ForwardReply,
        ReplicaGet,
        ReplicaGetReply,
        ReplicaPut,
        ReplicaPutReply,
        Ping,
        Gossip,
        Handoff,
        HandoffAck,
        AaeNodes,
        AaeKeys,
        AaeSync,
        ReapQuery,
        ReapVote,
        Reap,
    )
}


# --------------------------------------------------------------------------- the codec
#
# Every message a node handles is decoded here and every one it sends encoded here, several
# per client request, so both directions avoid per-call set-up: one shared C encoder, the C
# scanner without ``json.loads``' encoding detection, and per message type a decoder and an
# encoder generated at import (see "generated code" below) from the fields' annotations.


class RawJson(str):
    """JSON text to place into a message as it is, unparsed: a state a node already holds
    in its stored (canonical) form. Only the fields in ``_RAW_FIELDS`` may hold one; the
    receiver decodes it like any other field."""

    __slots__ = ()


# The fields that may carry a ``RawJson`` (one per type at most).
_RAW_FIELDS: dict[type[Any], str] = {ReplicaGetReply: "state", ReplicaPut: "state"}


_NONE = type(None)

# A field's annotation says what its JSON must be: (what to call it, the JSON types allowed,
# whether it must not be negative); ``None``: anything JSON.
_KINDS: dict[str, tuple[str, tuple[type[Any], ...], bool] | None] = {
    "int": ("a non-negative integer", (int,), True),
    "int | None": ("an integer or null", (int, _NONE), False),
    "str": ("a string", (str,), False),
    "str | None": ("a string or null", (str, _NONE), False),
    "bool": ("true or false", (bool,), False),
    "list[Any]": ("a list", (list,), False),
    "list[str]": ("a list", (list,), False),
    "dict[str, Any]": ("an object", (dict,), False),
    "dict[str, int]": ("an object", (dict,), False),
    "Any": None,
}


@dataclass(frozen=True)
class _Spec:
    """How to decode one message type, derived once from its dataclass fields."""

    cls: type[Any]
    names: frozenset[str]
    required: frozenset[str]
    typed: tuple[tuple[str, tuple[type[Any], ...], str], ...]  # (field, JSON types, what)
    naturals: tuple[str, ...]  # integer fields that must not be negative
    defaults: dict[str, Any]  # plain defaults, copied into every instance missing them
    factories: tuple[tuple[str, Any], ...]  # (field, default factory)
    field_order: tuple[str, ...]


def _spec(cls: type[Any]) -> _Spec:
    fields = dataclasses.fields(cls)
    typed = []
    naturals = []
    for f in fields:
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if annotation not in _KINDS:
            raise TypeError(f"{cls.__name__}.{f.name}: no wire check for type {annotation!r}")
        kind = _KINDS[annotation]
        if kind is not None:
            what, types, natural = kind
            typed.append((f.name, types, what))
            if natural:
                naturals.append(f.name)
    return _Spec(
        cls=cls,
        names=frozenset(f.name for f in fields),
        required=frozenset(
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ),
        typed=tuple(typed),
        naturals=tuple(naturals),
        defaults={f.name: f.default for f in fields if f.default is not dataclasses.MISSING},
        factories=tuple(
            (f.name, f.default_factory)
            for f in fields
            if f.default_factory is not dataclasses.MISSING
        ),
        field_order=tuple(f.name for f in fields),
    )


_SPECS: dict[str, _Spec] = {tag: _spec(cls) for tag, cls in MESSAGE_TYPES.items()}
_FIELDS: dict[type[Any], tuple[str, ...]] = {s.cls: s.field_order for s in _SPECS.values()}

# What nodes send each other: the messages that name their sender (``src``).
PEER_TYPES: frozenset[type[Any]] = frozenset(
    cls for cls, fields in _FIELDS.items() if "src" in fields
)

_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _compact_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without its per-call set-up: the C encoder ``JSONEncoder`` builds
    on every call, built once (no circular-reference check: messages are trees)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the plain encoder
        return _ENCODER.encode
    chunks = make(
        None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, True,
    )  # fmt: skip
    return lambda data: "".join(chunks(data, 0))


_encode_json = _compact_encoder()
_DECODER = json.JSONDecoder()
# The C scanner behind ``json.loads``: (text, index) -> (value, end).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(cast(Any, _DECODER))


def to_dict(msg: Any) -> dict[str, Any]:
    """The JSON-able form of a message, with its type tag (a ``RawJson`` field decoded)."""
    # A message's instance dictionary holds exactly its fields (see ``from_dict``).
    data = dict(msg.__dict__)
    raw_field = _RAW_FIELDS.get(type(msg))
    if raw_field is not None and type(data[raw_field]) is RawJson:
        data[raw_field] = json.loads(data[raw_field])
    data["t"] = msg.TYPE
    return data


def from_dict(data: Any) -> Any:
    """Rebuild a message from ``to_dict``'s form; ``ProtocolError`` if it is not one."""
    if type(data) is dict:
        # The type's decoder keeps the dictionary it is given as the message's own.
        return from_parsed(data.copy())
    return _from_dict_checked(data)


def from_parsed(data: Any) -> Any:
    """``from_dict`` for a value fresh from the JSON parser that nothing else holds (an item
    of a parsed batch): a dictionary becomes the message's own, saving ``from_dict``'s copy."""
    if type(data) is dict:
        tag = data.get("t")
        decoder = _DECODERS.get(tag) if type(tag) is str else None
        if decoder is not None:
            return decoder(data)
    return _from_dict_checked(data)


def _from_dict_checked(data: Any) -> Any:
    """``from_dict`` field by field from the type's ``_Spec``: what the generated decoders
    fall back on for anything but a complete, well-formed message, so that every problem is
    named here, in one place. A complete message it accepts comes out exactly as from a
    generated decoder (the instance dictionary holds the fields in the frame's order)."""
    if type(data) is not dict:
        raise ProtocolError(f"expected a JSON object, got {type(data).__name__}")
    tag = data.get("t")
    spec = _SPECS.get(tag) if type(tag) is str else None
    if spec is None:
        raise ProtocolError(f"unknown message type {tag!r}")
    fields = data.copy()
    del fields["t"]
    keys = fields.keys()
    if not keys <= spec.names:
        raise ProtocolError(f"{tag}: unknown fields {sorted(keys - spec.names)}")
    if not spec.required <= keys:
        raise ProtocolError(f"{tag}: missing fields {sorted(spec.required - keys)}")
    for name, types, what in spec.typed:
        # ``type``, not ``isinstance``: JSON gives exact types, and True is no integer here.
        if name in fields and type(fields[name]) not in types:
            raise ProtocolError(f"{tag}: {name} must be {what}")
    for name in spec.naturals:
        if fields.get(name, 0) < 0:
            raise ProtocolError(f"{tag}: {name} must be a non-negative integer")
    # Fill the instance directly: every field is checked above, and messages have no
    # ``__post_init__``; ``object.__setattr__`` per field (the frozen ``__init__``) is the
    # single most expensive step of decoding otherwise.
    msg = object.__new__(spec.cls)
    attributes = msg.__dict__
    if len(fields) < len(spec.field_order):
        attributes.update(spec.defaults)
        for name, factory in spec.factories:
            if name not in fields:
                attributes[name] = factory()
    attributes.update(fields)
    return msg


def encode(msg: Any) -> bytes:
    encoder = _ENCODERS.get(type(msg))
    if encoder is None:  # not one of the message types: whatever has fields and a TYPE
        return _encode_fields(msg)
    return encoder(msg)


def _encode_fields(msg: Any) -> bytes:
    """``encode`` from the instance dictionary: the reference the generated encoders write
    byte for byte (for an instance whose dictionary holds its fields in declaration order,
    as ``__init__`` leaves it)."""
    data = dict(msg.__dict__)
    data["t"] = msg.TYPE
    raw_field = _RAW_FIELDS.get(type(msg))
    if raw_field is not None:
        raw = data[raw_field]
        if type(raw) is RawJson:
            # Splice the text in rather than parse it only to encode it again.
            del data[raw_field]
            head = _encode_json(data)
            return f'{head[:-1]},"{raw_field}":{raw}}}'.encode()
    return _encode_json(data).encode()


def decode(frame: bytes) -> Any:
    """Parse one frame; raise ``ProtocolError`` (never anything else) on garbage."""
    return from_parsed(parse(frame))


def parse(frame: bytes) -> Any:
    """The JSON value in ``frame``; ``ProtocolError`` if it holds none."""
    try:
        text = frame.decode()
    except UnicodeDecodeError as err:
        raise ProtocolError(f"not JSON: {err}") from None
    try:
        data, end = _SCAN(text, 0)
        if end != len(text):
            raise ValueError("extra data")
    except (StopIteration, ValueError, RecursionError):
        # Not what ``encode`` writes: let ``json.loads`` decide (it allows surrounding
        # whitespace) and name the problem.
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ProtocolError(f"not JSON: {err}") from None
    return data


# --------------------------------------------------------------------------- generated code
#
# Like ``dataclasses`` writing ``__init__``, the codec writes three straight-line functions
# per message type once, at import: in the node profile the generic loops over a type's
# fields (and the frozen ``__init__``'s ``object.__setattr__`` per field) were the most
# expensive Python left around the C JSON scanner and encoder.
#
# - A decoder for a complete frame — every field present, as ``encode`` writes them — that
#   reads each field once, checks its kind inline and adopts the parsed dictionary as the
#   instance's own (less the tag). Anything else (a field left out for its default, or any
#   problem) goes to ``_from_dict_checked``, which names the problem: the generated code
#   never raises, so the error messages have one source.
# - An encoder that writes the fields in declaration order straight into one f-string: a
#   string, integer, boolean or null field inline (as the C encoder writes it), an empty
#   list or object literally, anything else through the shared C encoder; a ``RawJson``
#   field is spliced in last, after the tag, as ``_encode_fields`` always did. Output is
#   byte for byte ``_encode_fields``' for every message built by its ``__init__``.
# - An ``__init__`` with the dataclass's signature and defaults that sets the instance
#   dictionary in one step instead of one ``object.__setattr__`` per field; the classes stay
#   frozen dataclasses (``__setattr__``, ``__eq__``, ``__hash__``, ``__repr__`` untouched).


def _compile(name: str, source: str, namespace: dict[str, Any]) -> FunctionType:
    """Define function ``name`` from ``source`` (generated from the message classes above,
    nothing else) in this module's globals — as ``dataclasses`` does, so that its
    ``__module__`` and annotations resolve here — with ``namespace``'s values as closure
    variables (as cheap to read as locals)."""
    body = textwrap.indent(source, "    ")
    maker = f"def make({', '.join(namespace)}):\n{body}\n    return {name}\n"
    scope: dict[str, Any] = {}
    exec(maker, globals(), scope)
    function: FunctionType = scope["make"](**namespace)
    return function


def _field_kinds(spec: _Spec) -> list[tuple[str, tuple[type[Any], ...] | None, bool]]:
    """(field, JSON types allowed or None for anything, natural) in declaration order."""
    types = {name: allowed for name, allowed, _ in spec.typed}
    return [(name, types.get(name), name in spec.naturals) for name in spec.field_order]


def _local(name: str) -> str:
    """The generated code's variable for field ``name`` (a field may be called ``data``)."""
    return f"field_{name}"


def _make_decoder(spec: _Spec) -> Callable[[dict[str, Any]], Any]:
    checks = []
    for name, types, natural in _field_kinds(spec):
        if types is None:
            continue  # any JSON value
        value = _local(name)
        alternatives = [
            f"{value} is None" if kind is _NONE else f"type({value}) is {kind.__name__}"
            for kind in types
        ]
        check = " or ".join(alternatives)
        checks.append(f"({check})" if len(alternatives) > 1 else check)
        if natural:
            checks.append(f"{value} >= 0")
    reads = "".join(f"\n            {_local(name)} = data[{name!r}]" for name in spec.field_order)
    condition = " and ".join(checks) or "True"
    source = f"""\
def decode_{spec.cls.__name__}(data):
    # data holds "t": with one key more than the type's fields, all of them present means
    # none unknown.
    if len(data) == {len(spec.field_order) + 1}:
        try:{reads}
        except KeyError:
            pass
        else:
            if {condition}:
                del data["t"]
                msg = _new(_cls)
                _set(msg, "__dict__", data)
                return msg
    return _from_dict_checked(data)
"""
    namespace = {
        "_cls": spec.cls,
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_from_dict_checked": _from_dict_checked,
    }
    return _compile(f"decode_{spec.cls.__name__}", source, namespace)


def _json_expression(field_name: str, types: tuple[type[Any], ...] | None) -> str:
    """A Python expression writing a field as the C encoder would: the expected kinds inline,
    anything else (a wrong kind included) through ``_enc``, the C encoder itself."""
    name = _local(field_name)
    allowed = set(types) if types is not None else {str, _NONE}  # Any: the cheap guesses
    parts = []
    if _NONE in allowed:
        parts.append(f'"null" if {name} is None')
    if str in allowed:
        parts.append(f"_esc({name}) if type({name}) is str")
    if int in allowed:
        # An f-string writes an exact int as int.__repr__ does, like the C encoder.
        parts.append(f"{name} if type({name}) is int")
    if bool in allowed:
        parts.append(f'"true" if {name} is True else "false" if {name} is False')
    if list in allowed:
        parts.append(f'"[]" if type({name}) is list and not {name}')
    if dict in allowed:
        parts.append(f'"{{}}" if type({name}) is dict and not {name}')
    return "(" + " else ".join([*parts, f"_enc({name})"]) + ")"


def _make_encoder(spec: _Spec) -> Callable[[Any], bytes]:
    cls = spec.cls
    kinds = _field_kinds(spec)
    raw_field = _RAW_FIELDS.get(cls)
    tag = f'"t":{json.dumps(cls.TYPE)}'

    def body(names: list[tuple[str, tuple[type[Any], ...] | None, bool]], tail: str) -> str:
        members = [
            f"{json.dumps(name)}:{{{_json_expression(name, types)}}}" for name, types, _ in names
        ]
        return "f'{{" + ",".join([*members, tail]) + "}}'"

    reads = "".join(f"\n    {_local(name)} = msg.{name}" for name in spec.field_order)
    if raw_field is None:
        result = f"    return {body(kinds, tag)}.encode()"
    else:
        raw = _local(raw_field)
        spliced = f'{tag},"{raw_field}":{{{raw}}}'
        others = [kind for kind in kinds if kind[0] != raw_field]
        result = (
            f"    if type({raw}) is _RawJson:\n"
            f"        return {body(others, spliced)}.encode()\n"
            f"    return {body(kinds, tag)}.encode()"
        )
    source = f"def encode_{cls.__name__}(msg):{reads}\n{result}\n"
    namespace = {
        "_esc": json.encoder.encode_basestring_ascii,
        "_enc": _encode_json,
        "_RawJson": RawJson,
    }
    return _compile(f"encode_{cls.__name__}", source, namespace)


def _make_init(cls: type[Any]) -> Callable[..., None]:
    dataclass_init: Any = cls.__init__
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    if hasattr(cls, "__post_init__") or any(not f.init or f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__}: no fast __init__ for this kind of dataclass")
    defaults = dataclass_init.__defaults__ or ()
    # The dataclass's own defaults: a factory field's is the sentinel meaning "not given".
    given = dict(zip(names[len(names) - len(defaults) :], defaults, strict=True))
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    entries = []
    for f in fields:
        if f.default_factory is dataclasses.MISSING:
            entries.append(f"{f.name!r}: {f.name}")
        else:
            namespace[f"_factory_{f.name}"] = f.default_factory
            namespace[f"_unset_{f.name}"] = given[f.name]
            entries.append(
                f"{f.name!r}: _factory_{f.name}() if {f.name} is _unset_{f.name} else {f.name}"
            )
    source = (
        f"def __init__(self, {', '.join(names)}):\n"
        f"    _set(self, '__dict__', {{{', '.join(entries)}}})\n"
    )
    init = _compile("__init__", source, namespace)
    init.__defaults__ = dataclass_init.__defaults__
    init.__annotations__ = dataclass_init.__annotations__
    init.__qualname__ = dataclass_init.__qualname__
    return init


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    tag: _make_decoder(spec) for tag, spec in _SPECS.items()
}
_ENCODERS: dict[type[Any], Callable[[Any], bytes]] = {
    spec.cls: _make_encoder(spec) for spec in _SPECS.values()
}
# The dataclass's __init__, kept for the tests that compare the two.
_DATACLASS_INITS: dict[type[Any], Callable[..., None]] = {}
for _cls in MESSAGE_TYPES.values():
    _DATACLASS_INITS[_cls] = _cls.__init__
    _cls.__init__ = _make_init(_cls)
del _cls
