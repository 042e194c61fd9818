"""The wire protocol's messages as ``msgspec`` structs: the codec ``node_core_bench.py``
measures against the project's own (``--codec msgspec``). No I/O.

A drop-in for ``cluster.core.messages`` and ``cluster.core.codec`` (the benchmark installs it
under both names in a child process, before the node core is imported), faithful where the cost
is: the same message types and fields, frozen, tagged by ``"t"``; unknown fields rejected;
integer fields that must not be negative declared so (``Meta(ge=0)``); a state already held as
JSON text spliced into the frame unparsed (``msgspec.Raw``); every decode error a
``ProtocolError`` carrying msgspec's own description of the problem.

What it does not reproduce (see bench/README.md): msgspec writes the tag first, where the
project's codec writes it last (after the fields; before a spliced state), and it writes
non-ASCII characters as UTF-8 rather than ``\\uXXXX`` escapes, so the frames differ in bytes
though not in meaning. It also checks list and dict element types (``list[str]``,
``dict[str, int]``), which the project's codec leaves unchecked.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec

Natural = Annotated[int, msgspec.Meta(ge=0)]


class ProtocolError(ValueError):
    """A frame that is not a valid message."""


def RawJson(text: str) -> msgspec.Raw:
    """JSON text to splice into a message unparsed."""
    return msgspec.Raw(text)


class _Message(msgspec.Struct, frozen=True, tag_field="t", forbid_unknown_fields=True):
    pass


class ClientGet(_Message, frozen=True, tag="get"):
    req: Natural
    key: str
    r: int | None = None
    pr: int | None = None
    timeout_ms: Natural = 1000
    TYPE: ClassVar[str] = "get"


class ClientPut(_Message, frozen=True, tag="put"):
    req: Natural
    key: str
    value: Any
    context: str = ""
    w: int | None = None
    pw: int | None = None
    timeout_ms: Natural = 1000
    TYPE: ClassVar[str] = "put"


class AdminRequest(_Message, frozen=True, tag="admin"):
    req: Natural
    op: str
    args: dict[str, Any] = {}
    TYPE: ClassVar[str] = "admin"


class GetReply(_Message, frozen=True, tag="get-reply"):
    req: Natural
    ok: bool
    values: list[Any] = []
    context: str = ""
    found: bool = False
    coordinator: str = ""
    replicas: list[str] = []
    fallbacks: list[str] = []
    clock: dict[str, int] = {}
    error: str = ""
    definite: bool = False
    TYPE: ClassVar[str] = "get-reply"


class PutReply(_Message, frozen=True, tag="put-reply"):
    req: Natural
    ok: bool
    coordinator: str = ""
    replicas: list[str] = []
    fallbacks: list[str] = []
    version: dict[str, int] = {}
    error: str = ""
    definite: bool = False
    TYPE: ClassVar[str] = "put-reply"


class AdminReply(_Message, frozen=True, tag="admin-reply"):
    req: Natural
    ok: bool
    data: Any = None
    error: str = ""
    TYPE: ClassVar[str] = "admin-reply"


class Forward(_Message, frozen=True, tag="forward"):
    req: Natural
    src: str
    request: dict[str, Any]
    TYPE: ClassVar[str] = "forward"


class ForwardReply(_Message, frozen=True, tag="forward-reply"):
    req: Natural
    src: str
    reply: dict[str, Any]
    TYPE: ClassVar[str] = "forward-reply"


class ReplicaGet(_Message, frozen=True, tag="rget"):
    req: Natural
    src: str
    key: str
    hint_for: str | None = None
    digest: str | None = None
    TYPE: ClassVar[str] = "rget"


class ReplicaGetReply(_Message, frozen=True, tag="rget-reply"):
    req: Natural
    src: str
    key: str
    state: Any
    same: bool = False
    TYPE: ClassVar[str] = "rget-reply"


class ReplicaPut(_Message, frozen=True, tag="rput"):
    req: Natural
    src: str
    key: str
    state: Any
    hint_for: str | None = None
    reply: bool = True
    TYPE: ClassVar[str] = "rput"


class ReplicaPutReply(_Message, frozen=True, tag="rput-reply"):
    req: Natural
    src: str
    key: str
    ok: bool
    error: str = ""
    TYPE: ClassVar[str] = "rput-reply"


class Ping(_Message, frozen=True, tag="ping"):
    src: str
    generation: Natural = 0
    ring_version: Natural = 0
    TYPE: ClassVar[str] = "ping"


class Gossip(_Message, frozen=True, tag="gossip"):
    src: str
    state: dict[str, Any]
    reply: bool = True
    TYPE: ClassVar[str] = "gossip"


class Handoff(_Message, frozen=True, tag="handoff"):
    req: Natural
    src: str
    items: list[Any]
    TYPE: ClassVar[str] = "handoff"


class HandoffAck(_Message, frozen=True, tag="handoff-ack"):
    req: Natural
    src: str
    ok: bool
    error: str = ""
    TYPE: ClassVar[str] = "handoff-ack"


class AaeNodes(_Message, frozen=True, tag="aae-nodes"):
    src: str
    level: Natural
    nodes: list[Any]
    TYPE: ClassVar[str] = "aae-nodes"


class AaeKeys(_Message, frozen=True, tag="aae-keys"):
    src: str
    buckets: list[Any]
    TYPE: ClassVar[str] = "aae-keys"


class AaeSync(_Message, frozen=True, tag="aae-sync"):
    src: str
    states: list[Any]
    want: list[str] = []
    TYPE: ClassVar[str] = "aae-sync"


class ReapQuery(_Message, frozen=True, tag="reap-query"):
    req: Natural
    src: str
    items: list[Any]
    TYPE: ClassVar[str] = "reap-query"


class ReapVote(_Message, frozen=True, tag="reap-vote"):
    req: Natural
    src: str
    ok: list[str]
    held: list[str]
    TYPE: ClassVar[str] = "reap-vote"


class Reap(_Message, frozen=True, tag="reap"):
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
PEER_TYPES: frozenset[type[Any]] = frozenset(
    cls for cls in MESSAGE_TYPES.values() if "src" in cls.__struct_fields__
)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(Message)
_any_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def encode(msg: Any) -> bytes:
    return _encoder.encode(msg)


def decode(frame: bytes) -> Any:
    """Parse one frame; raise ``ProtocolError`` (never anything else) on garbage."""
    try:
        return _decoder.decode(frame)
    except (msgspec.DecodeError, RecursionError) as err:
        raise ProtocolError(str(err)) from None


def parse(frame: bytes) -> Any:
    try:
        return _any_decoder.decode(frame)
    except (msgspec.DecodeError, RecursionError) as err:
        raise ProtocolError(f"not JSON: {err}") from None


def from_dict(data: Any) -> Any:
    try:
        return msgspec.convert(data, Message)
    except msgspec.ValidationError as err:
        raise ProtocolError(str(err)) from None


from_parsed = from_dict


def to_dict(msg: Any) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(msg)
    for name, value in data.items():
        if type(value) is msgspec.Raw:
            data[name] = msgspec.json.decode(value)
    return data
