"""The wire protocol: every message a client, an admin tool or a peer node sends, and its codec.

Messages are frozen dataclasses; on the wire each is one ZeroMQ frame holding a compact JSON
object whose ``"t"`` field names the message type. ``decode`` rejects anything that is not a
well-formed message of a known type with a ``ProtocolError`` naming what was wrong, so a shell
can log garbage and keep serving. No I/O here.

Requests carry a ``req`` id chosen by their sender; replies echo it, and a sender drops replies
whose id it is no longer waiting for (late replies). Client requests carry ``timeout_ms``: the
coordinator gives up after it and answers with an indefinite error.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


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
    primary ``hint_for``, when it is one)."""

    req: int
    src: str
    key: str
    hint_for: str | None = None
    TYPE: ClassVar[str] = "rget"


@dataclass(frozen=True)
class ReplicaGetReply:
    req: int
    src: str
    key: str
    state: Any  # Siblings.to_json(), or None when the replica holds nothing
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

_FIELDS: dict[type[Any], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in MESSAGE_TYPES.values()
}
_REQUIRED: dict[type[Any], frozenset[str]] = {
    cls: frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    for cls in MESSAGE_TYPES.values()
}


def to_dict(msg: Any) -> dict[str, Any]:
    """The JSON-able form of a message, with its type tag."""
    data = {f: getattr(msg, f) for f in _FIELDS[type(msg)]}
    data["t"] = msg.TYPE
    return data


def from_dict(data: Any) -> Any:
    """Rebuild a message from ``to_dict``'s form; ``ProtocolError`` if it is not one."""
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object, got {type(data).__name__}")
    tag = data.get("t")
    cls = MESSAGE_TYPES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise ProtocolError(f"unknown message type {tag!r}")
    fields = {k: v for k, v in data.items() if k != "t"}
    unknown = fields.keys() - _FIELDS[cls]
    if unknown:
        raise ProtocolError(f"{tag}: unknown fields {sorted(unknown)}")
    missing = _REQUIRED[cls] - fields.keys()
    if missing:
        raise ProtocolError(f"{tag}: missing fields {sorted(missing)}")
    for name in ("req", "timeout_ms", "level", "generation", "ring_version"):
        if name in fields and not (isinstance(fields[name], int) and fields[name] >= 0):
            raise ProtocolError(f"{tag}: {name} must be a non-negative integer")
    for name in ("key", "src", "op"):
        if name in fields and not isinstance(fields[name], str):
            raise ProtocolError(f"{tag}: {name} must be a string")
    lists = ("items", "nodes", "buckets", "states", "want", "held") + (
        ("ok",) if cls is ReapVote else ()
    )
    for name in lists:
        if name in fields and not isinstance(fields[name], list):
            raise ProtocolError(f"{tag}: {name} must be a list")
    if cls is Gossip and not isinstance(fields["state"], dict):
        raise ProtocolError(f"{tag}: state must be an object")
    if "hint_for" in fields and not (
        fields["hint_for"] is None or isinstance(fields["hint_for"], str)
    ):
        raise ProtocolError(f"{tag}: hint_for must be a node name or null")
    return cls(**fields)


def encode(msg: Any) -> bytes:
    return json.dumps(to_dict(msg), separators=(",", ":")).encode()


def decode(frame: bytes) -> Any:
    """Parse one frame; raise ``ProtocolError`` (never anything else) on garbage."""
    try:
        data = json.loads(frame)
    except (UnicodeDecodeError, ValueError) as err:
        raise ProtocolError(f"not JSON: {err}") from None
    try:
        return from_dict(data)
    except TypeError as err:  # a dataclass constructor complaint
        raise ProtocolError(str(err)) from None
