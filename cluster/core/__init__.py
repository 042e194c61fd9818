"""The sans-IO Dynamo protocol: what a node decides, with no I/O of its own.

A ``Node`` takes a message or a timer with the current time and returns effects (``Send``,
``Reply``, ``SetTimer``, ``Log``) for a shell to carry out; it reads and writes replica state
through the ``Store`` port it is given. Nothing in this package imports a module that does I/O
(sockets, files, threads, clocks, module-level randomness): the contract test enforces it.
What other layers may use is listed in ``__all__``.
"""

from cluster.core.client import (
    EXPECTED_REPLY,
    REPLY_MARGIN_MS,
    AsyncClientBase,
    ClientBase,
    ClientError,
    GetResult,
    PutResult,
    admin_result,
    get_result,
    put_result,
)
from cluster.core.codec import ProtocolError, decode, encode, from_parsed, parse
from cluster.core.config import ClusterConfig
from cluster.core.effects import ClientId, Effect, Log, Reply, Send, SetTimer, Timer
from cluster.core.leave_steps import LeaveTimeout, Waiting, leave_and_wait
from cluster.core.message_faults import MessageFaults
from cluster.core.messages import (
    PEER_TYPES,
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    GetReply,
    PutReply,
)
from cluster.core.node import Node
from cluster.core.ring import DEFAULT_PARTITIONS, Ring, Target
from cluster.core.store import Store, encode_state
from cluster.core.versions import VERSIONINGS, Context, Siblings, Versioning, versioning

__all__ = [
    "DEFAULT_PARTITIONS",
    "EXPECTED_REPLY",
    "PEER_TYPES",
    "REPLY_MARGIN_MS",
    "VERSIONINGS",
    "AdminReply",
    "AdminRequest",
    "AsyncClientBase",
    "ClientBase",
    "ClientError",
    "ClientGet",
    "ClientId",
    "ClientPut",
    "ClusterConfig",
    "Context",
    "Effect",
    "GetReply",
    "GetResult",
    "LeaveTimeout",
    "Log",
    "MessageFaults",
    "Node",
    "ProtocolError",
    "PutReply",
    "PutResult",
    "Reply",
    "Ring",
    "Send",
    "SetTimer",
    "Siblings",
    "Store",
    "Target",
    "Timer",
    "Versioning",
    "Waiting",
    "admin_result",
    "decode",
    "encode",
    "encode_state",
    "from_parsed",
    "get_result",
    "leave_and_wait",
    "parse",
    "put_result",
    "versioning",
]
