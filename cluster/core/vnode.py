"""The replica side of client requests: what a node answers when a coordinator reads from or
writes to its copy of a key (riak_core's vnode, for this node's whole keyspace).

``Vnode`` keeps no state of its own: its reads and writes go through the node's
``ReplicaData``, which is the replica state. Store I/O only: no network, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.core.codec import RawJson
from cluster.core.context import NodeContext
from cluster.core.effects import ClientId, Effect, Send
from cluster.core.messages import (
    NO_STATE,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    ReplicaPutReply,
)
from cluster.core.replica import decode_state, state_text


@dataclass
class Vnode:
    """Answers ``ReplicaGet`` and ``ReplicaPut`` from this node's replica data."""

    ctx: NodeContext

    def __post_init__(self) -> None:
        # Read on every replica request: plain attributes rather than looked up in ``ctx``.
        self._name = self.ctx.name
        self._data = self.ctx.data
        self._journal = self.ctx.journal

    def on_replica_get(
        self, sender: ClientId | None, msg: ReplicaGet, now_ms: float
    ) -> list[Effect]:
        if msg.digest is not None and msg.hint_for is None:
            mine = self._data.digest(msg.key)
            if mine is not None and mine.hex() == msg.digest:
                reply = ReplicaGetReply(msg.req, self._name, msg.key, NO_STATE, same=True)
                return [Send(msg.src, reply)]
        state = RawJson(state_text(self._data.view(msg.key, msg.hint_for)))
        return [Send(msg.src, ReplicaGetReply(msg.req, self._name, msg.key, state))]

    def on_replica_put(
        self, sender: ClientId | None, msg: ReplicaPut, now_ms: float
    ) -> list[Effect]:
        hint_for = None if msg.hint_for == self._name else msg.hint_for
        try:
            _, applied = self._data.merge(msg.key, decode_state(msg.state), hint_for, now_ms)
            ok, error = True, ""
        except ValueError as err:
            ok, error, applied = False, str(err), False
        self._journal.record(
            now_ms,
            "replica-write",
            key=msg.key,
            src=msg.src,
            req=msg.req,
            hint_for=hint_for,
            applied=applied,
            repair=not msg.reply,
            error=error or None,
        )
        if not msg.reply:
            return []
        return [Send(msg.src, ReplicaPutReply(msg.req, self._name, msg.key, ok, error))]
