"""What a sans-IO ``Node`` asks its shell to do: the effects its entry points return.

A shell (the ZeroMQ server or the simulator) carries them out in order:

- ``Send(dst, msg)`` — to peer node ``dst``;
- ``Reply(client, msg)`` — to the client or admin tool whose routing id is ``client``;
- ``SetTimer(at_ms, timer)`` — call ``on_timer(timer, now)`` at ``at_ms`` or later;
- ``Log(text)`` — something an operator wants in the node's log (a peer restarted, the ring
  changed); a shell that has no log may ignore it.

Plain frozen values (msgspec structs, as the messages are: a node returns one or more per
message it handles, and a struct is built several times faster than a frozen dataclass), no
I/O.
"""

from __future__ import annotations

from typing import Any

import msgspec

ClientId = bytes  # the ROUTER routing id of a client connection


class Send(msgspec.Struct, frozen=True):
    dst: str
    msg: Any


class Reply(msgspec.Struct, frozen=True):
    client: ClientId
    msg: Any


class Timer(msgspec.Struct, frozen=True):
    """A timer's kind (``"heartbeat"``, ``"gossip"``, ``"request"``, ...) and an identifier
    that tells timers of one kind apart (a request id, for instance)."""

    kind: str
    ident: int = 0


class SetTimer(msgspec.Struct, frozen=True):
    at_ms: float
    timer: Timer


class Log(msgspec.Struct, frozen=True):
    text: str
    level: str = "info"  # "info" or "warning"


Effect = Send | Reply | SetTimer | Log

# The node's timers: the periodic ones, and the one that expires requests past their
# deadline (the node keeps the deadlines and sets it for the earliest).
HEARTBEAT = Timer("heartbeat")
GOSSIP = Timer("gossip")
HANDOFF = Timer("handoff")  # the periodic round
HANDOFF_NOW = Timer("handoff", 1)  # an extra round now (a peer came back, the ring changed)
ANTI_ENTROPY = Timer("anti-entropy")
REQUESTS = Timer("request")
