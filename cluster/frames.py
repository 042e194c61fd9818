"""How messages travel in ZeroMQ frames: one message per frame, or a batch of them.

A node handles what its socket holds in batches, and what one batch of handlers sends often
goes several times to the same place (two ``ReplicaPut`` to one peer, three replies to one
client connection). Each ZeroMQ message costs a send call, a wake-up of the I/O thread, and a
poll and receive calls on the other side — per message, more than its encoding — so the
messages a batch sends to one destination leave as one frame: a JSON array of the encoded
messages, in the order they were sent. A frame holding a single message is that message's own
encoding, as before, so a peer or a tool that never batches is understood.

``unpack`` never raises for bad input: it returns what it could decode and a ``ProtocolError``
for each part that is garbage, so a shell logs those and serves the rest. No I/O.
"""

from __future__ import annotations

from typing import Any

from cluster.messages import ProtocolError, from_parsed, parse


def pack(encoded: list[bytes]) -> bytes:
    """One frame carrying the messages ``encoded`` (each ``messages.encode``'s output), in
    order."""
    if len(encoded) == 1:
        return encoded[0]
    return b"[" + b",".join(encoded) + b"]"


def unpack(frame: bytes) -> tuple[list[Any], list[ProtocolError]]:
    """The messages in ``frame`` (one, or a batch), and what was wrong with the parts that
    are not messages."""
    try:
        data = parse(frame)
    except ProtocolError as err:
        return [], [err]
    if type(data) is not list:
        try:
            return [from_parsed(data)], []
        except ProtocolError as err:
            return [], [err]
    if not data:
        return [], [ProtocolError("an empty batch")]
    decoded: list[Any] = []
    errors: list[ProtocolError] = []
    for index, item in enumerate(data):
        try:
            decoded.append(from_parsed(item))  # fresh from the parser: adopted, not copied
        except ProtocolError as err:
            errors.append(ProtocolError(f"batch item {index}: {err}"))
    return decoded, errors
