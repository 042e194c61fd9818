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

from cluster.core import ProtocolError, from_parsed, parse

# A batch grows only up to this size; a larger message still travels, alone. (Every frame
# must stay under the sockets' maximum message size, which a batch of large states could
# otherwise pass: the receiver would drop the connection.)
BATCH_LIMIT_BYTES = 1 << 20


def batches(encoded: list[bytes]) -> list[list[bytes]]:
    """``encoded`` (each ``codec.encode``'s output) cut, in order, into the runs that each
    travel as one frame (``pack``): usually one run; more when together they would pass
    ``BATCH_LIMIT_BYTES``."""
    runs: list[list[bytes]] = []
    size = 0
    for message in encoded:
        if not runs or size + len(message) > BATCH_LIMIT_BYTES:
            runs.append([])
            size = 0
        runs[-1].append(message)
        size += len(message) + 1
    return runs


def pack(batch: list[bytes]) -> bytes:
    """One frame carrying the messages of ``batch`` (one of ``batches``' runs), in order."""
    return batch[0] if len(batch) == 1 else b"[" + b",".join(batch) + b"]"


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
