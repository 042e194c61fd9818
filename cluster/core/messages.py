"""The wire protocol's messages: every message a client, an admin tool or a peer node sends,
and what each one means. No I/O, and no encoding here: ``cluster.core.codec`` turns these into
frames and back.

Messages are frozen ``msgspec`` structs. On the wire each is a compact JSON object whose ``"t"``
field names the message type (the ``tag`` of its class); a field's annotation is what its JSON
must be, which the codec checks on decoding (``Natural``: an integer that must not be negative).

Requests carry a ``req`` id chosen by their sender; replies echo it, and a sender drops replies
whose id it is no longer waiting for (late replies). Client requests carry ``timeout_ms``: the
coordinator gives up after it and answers with an indefinite error.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import msgspec

Natural = Annotated[int, msgspec.Meta(ge=0)]
# A replica's state as JSON text (``Siblings.to_json()``): spliced into the frame as it is, and
# handed to the receiver still encoded (checked to be JSON, not parsed), which decodes it
# through its memo of states (``cluster.core.replica.decode_state``). ``NO_STATE`` is null.
StateText = msgspec.Raw
NO_STATE = msgspec.Raw(b"null")


class _Message(msgspec.Struct, frozen=True, tag_field="t", forbid_unknown_fields=True):
    """What every message is: immutable, tagged by ``"t"``, and no field but its own accepted.
    (An empty list or dict default is a fresh one for each message.)"""


# --------------------------------------------------------------------------- client requests


class ClientGet(_Message, frozen=True, tag="get"):
    """Read a key: every concurrent value (siblings) and the causal context."""

    req: Natural
    key: str
    r: int | None = None  # None: the cluster's default R
    pr: int | None = None  # primaries that must answer (strict quorum); None: cluster default
    timeout_ms: Natural = 1000


class ClientPut(_Message, frozen=True, tag="put"):
    """Write a value (``None`` writes a tombstone: a delete) with the context a get returned."""

    req: Natural
    key: str
    value: Any
    context: str = ""
    w: int | None = None
    pw: int | None = None
    timeout_ms: Natural = 1000


class AdminRequest(_Message, frozen=True, tag="admin"):
    """An admin command: ping, status, ring, replica (raw state of a key), clock, keys."""

    req: Natural
    op: str
    args: dict[str, Any] = {}


# --------------------------------------------------------------------------- client replies


class GetReply(_Message, frozen=True, tag="get-reply"):
    """The answer to a get. ``definite`` matters only when ``ok`` is false."""

    req: Natural
    ok: bool
    values: list[Any] = []
    context: str = ""
    found: bool = False
    coordinator: str = ""
    replicas: list[str] = []
    fallbacks: list[str] = []
    clock: dict[str, int] = {}  # the decoded context, for histories
    error: str = ""
    definite: bool = False


class PutReply(_Message, frozen=True, tag="put-reply"):
    """The answer to a put or delete. ``version`` is the clock of the new value."""

    req: Natural
    ok: bool
    coordinator: str = ""
    replicas: list[str] = []
    fallbacks: list[str] = []
    version: dict[str, int] = {}
    error: str = ""
    definite: bool = False


class AdminReply(_Message, frozen=True, tag="admin-reply"):
    """The answer to an admin command: its ``data`` when ``ok``, else the ``error``."""

    req: Natural
    ok: bool
    data: Any = None
    error: str = ""


# --------------------------------------------------------------------------- node to node


class Forward(_Message, frozen=True, tag="forward"):
    """A client request handed by a node outside the key's preference list to one inside it."""

    req: Natural
    src: str
    request: ClientGet | ClientPut  # nested on the wire as its own tagged object


class ForwardReply(_Message, frozen=True, tag="forward-reply"):
    """The coordinator's answer to a ``Forward``, for the node that forwarded it to pass on
    to its client."""

    req: Natural
    src: str
    reply: GetReply | PutReply  # nested on the wire as its own tagged object


class ReplicaGet(_Message, frozen=True, tag="rget"):
    """Coordinator → replica: send me your state of ``key`` (a fallback's hint for the down
    primary ``hint_for``, when it is one).

    ``digest`` (hex) is the digest of the coordinator's own main state of the key, when it has
    one: a primary replica whose main state has that digest answers ``same`` instead of sending
    the state back (Cassandra's digest reads), which saves both sides the state's encoding."""

    req: Natural
    src: str
    key: str
    hint_for: str | None = None
    digest: str | None = None


class ReplicaGetReply(_Message, frozen=True, tag="rget-reply"):
    """A replica's state of ``key``, or ``same``: it equals the coordinator's (the request's
    ``digest`` matched), and ``state`` is null."""

    req: Natural
    src: str
    key: str
    state: StateText  # ``NO_STATE`` when ``same``
    same: bool = False


class ReplicaPut(_Message, frozen=True, tag="rput"):
    """Coordinator → replica: merge ``state`` into yours and store it durably.

    ``hint_for`` names the down primary this (fallback) replica stands in for; ``repair`` marks
    read repair and hinted handoff, which expect no reply.
    """

    req: Natural
    src: str
    key: str
    state: StateText
    hint_for: str | None = None
    reply: bool = True


class ReplicaPutReply(_Message, frozen=True, tag="rput-reply"):
    """A replica's acknowledgement of a ``ReplicaPut``: ``ok`` once the merged state is
    durable, else the ``error``."""

    req: Natural
    src: str
    key: str
    ok: bool
    error: str = ""


class Ping(_Message, frozen=True, tag="ping"):
    """A heartbeat between peers; feeds the failure detector. A peer whose ``ring_version``
    differs from the receiver's is gossiped with at once."""

    src: str
    generation: Natural = 0
    ring_version: Natural = 0


class Gossip(_Message, frozen=True, tag="gossip"):
    """Membership state (``Membership.to_json()``), push-pull: a ``reply`` asks for the
    receiver's merged state back."""

    src: str
    state: dict[str, Any]
    reply: bool = True


class Handoff(_Message, frozen=True, tag="handoff"):
    """States to merge into the receiver's main table: hints handed to the owner they were
    held for, or a partition's keys handed to its new owners. ``items`` is ``[[key, state]]``."""

    req: Natural
    src: str
    items: list[Any]


class HandoffAck(_Message, frozen=True, tag="handoff-ack"):
    """The receiver of a ``Handoff`` has merged and stored its items (``ok``); the sender
    may now drop them."""

    req: Natural
    src: str
    ok: bool
    error: str = ""


class AaeNodes(_Message, frozen=True, tag="aae-nodes"):
    """Anti-entropy: the sender's Merkle hashes ``[[partition, index, hex]]`` at ``level``; the
    receiver answers with its children of the nodes that differ (or, at the leaves, with the
    buckets' contents)."""

    src: str
    level: Natural
    nodes: list[Any]


class AaeKeys(_Message, frozen=True, tag="aae-keys"):
    """Anti-entropy: the sender's leaf buckets ``[[partition, index, {key: digest hex}]]``."""

    src: str
    buckets: list[Any]


class AaeSync(_Message, frozen=True, tag="aae-sync"):
    """Anti-entropy: states ``[[key, state]]`` to merge, and the keys whose states the sender
    wants back (after the receiver merged)."""

    src: str
    states: list[Any]
    want: list[str] = []


class ReapQuery(_Message, frozen=True, tag="reap-query"):
    """Tombstone reaping: may these tombstones ``[[key, digest hex]]`` go?"""

    req: Natural
    src: str
    items: list[Any]


class ReapVote(_Message, frozen=True, tag="reap-vote"):
    """``ok``: keys of which every copy the voter holds (main or hint) is that tombstone, or it
    holds none; ``held``: keys whose main state is that tombstone."""

    req: Natural
    src: str
    ok: list[str]
    held: list[str]


class Reap(_Message, frozen=True, tag="reap"):
    """Delete every copy of these tombstones ``[[key, digest hex]]`` that is still unchanged."""

    src: str
    items: list[Any]


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

# Every message type by its tag (the ``"t"`` of its frames).
MESSAGE_TYPES: dict[str, type[Any]] = {
    cast(str, cls.__struct_config__.tag): cls
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

# What nodes send each other: the messages that name their sender (``src``).
PEER_TYPES: frozenset[type[Any]] = frozenset(
    cls for cls in MESSAGE_TYPES.values() if "src" in cls.__struct_fields__
)
