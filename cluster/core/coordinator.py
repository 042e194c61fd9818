"""Client requests, coordinated: the node's pending gets, puts and forwards (Dynamo §4.5,
§4.6, §4.4).

Any node accepts a request; one that is not a primary of the key forwards it to one (§4.5). The
coordinator reads from or writes to the N targets of the sloppy preference list, answers once R
(or W) replied (``cluster.core.quorum``), creates a put's new version first (§4.4), and repairs
stale replicas after a get (read repair). A primary coordinator sends its state's digest with a
get, and replicas holding the same state answer "same" rather than sending it back (Cassandra's
digest reads).

``Coordinator`` owns every pending request and their deadlines: requests expire on a grid of
``DEADLINE_TICK_MS``, served by one ``REQUESTS`` timer. Its local reads and writes go through
the node's ``ReplicaData``; no other I/O (times are passed in).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import msgspec

from cluster.core.codec import RawJson, replace
from cluster.core.context import NodeContext, Topology, WallClock
from cluster.core.effects import REQUESTS, ClientId, Effect, Reply, Send, SetTimer
from cluster.core.messages import (
    ClientGet,
    ClientPut,
    Forward,
    ForwardReply,
    GetReply,
    PutReply,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    ReplicaPutReply,
)
from cluster.core.quorum import GetCore, PutCore
from cluster.core.replica import decode_state, state_text
from cluster.core.ring import Ring, Target
from cluster.core.versions import Context, Siblings

# After answering a get, keep waiting this long for the remaining replies, for read repair.
READ_REPAIR_WAIT_MS = 1000

# Requests expire on a grid of this many milliseconds (at most this late): one timer then
# serves every deadline in a tick, rather than one timer event per request at thousands of
# requests a second. Clients wait past the coordinator's deadline by more than this.
DEADLINE_TICK_MS = 20

# Keys whose targets are remembered while the ring and the reachable nodes stay the same.
TARGETS_MEMO_KEYS = 8192


def _deadline_tick(at_ms: float) -> float:
    """The first tick of the deadline grid at or after ``at_ms``."""
    return math.ceil(at_ms / DEADLINE_TICK_MS) * DEADLINE_TICK_MS


# The bookkeeping of one request: msgspec structs, built several times faster than dataclasses
# (a node builds two or three per request).
class _Origin(msgspec.Struct):
    """Where the answer to a request goes: a client, or the peer that forwarded it."""

    client: ClientId | None = None
    peer: str | None = None
    req: int = 0  # the id the client (or forwarding peer) gave the request


class _PendingGet(msgspec.Struct):
    origin: _Origin
    key: str
    core: GetCore
    answered: bool = False
    local: Siblings | None = None  # this node's main state, which a ``same`` reply stands for


class _PendingPut(msgspec.Struct):
    origin: _Origin
    key: str
    core: PutCore
    version: dict[str, int]


class _PendingForward(msgspec.Struct):
    origin: _Origin
    kind: str  # "get" or "put"


_Pending = _PendingGet | _PendingPut | _PendingForward


@dataclass
class Coordinator:
    """One node's client requests in flight, as coordinator or as the forwarder of one."""

    ctx: NodeContext
    topology: Topology
    clock: WallClock
    _pending: dict[int, _Pending] = field(init=False, default_factory=dict)
    # ``(deadline, req)`` of every pending request (and of some finished ones, dropped when
    # their deadline passes): one ``REQUESTS`` timer at the earliest serves them all, rather
    # than a timer effect per request.
    _deadlines: list[tuple[float, int]] = field(init=False, default_factory=list)
    _armed_ms: float | None = field(init=False, default=None)  # the earliest REQUESTS timer
    # key -> its targets, for ``_memo_ring`` and ``_memo_up``: a request's preference list
    # (an MD5 of the key and a walk of the ring) is the same as the last one's for its key
    # until the ring or the up-set changes, and most requests are to keys asked for before.
    _memo: dict[str, list[Target]] = field(init=False, default_factory=dict)
    _memo_ring: Ring | None = field(init=False, default=None)
    _memo_up: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        # Read on every request: kept as plain attributes rather than looked up in ``ctx``.
        self._name = self.ctx.name
        self._config = self.ctx.config
        self._data = self.ctx.data
        self._versions = self.ctx.data.versions
        self._journal = self.ctx.journal

    def pending_count(self) -> int:
        return len(self._pending)

    def _targets(self, key: str, now_ms: float) -> list[Target]:
        topology = self.topology
        ring = topology.membership.ring
        up = topology.up_nodes(now_ms)
        memo = self._memo
        if ring is not self._memo_ring or up is not self._memo_up:
            # Equal ones (rebuilt from gossip, recomputed by the detectors) keep the memo.
            if ring != self._memo_ring or up != self._memo_up:
                memo.clear()
            self._memo_ring, self._memo_up = ring, up
        targets = memo.get(key)
        if targets is None:
            targets = ring.preference_list(key, self._config.n, up)
            if not self._config.hinted_handoff:  # no fallbacks, so no hints to hand off
                targets = [target for target in targets if target.hint_for is None]
            memo[key] = targets
            if len(memo) > TARGETS_MEMO_KEYS:
                del memo[next(iter(memo))]  # the oldest entry
        return list(targets)  # the caller's own list: the memo's stays as computed

    def on_client_get(self, sender: ClientId | None, msg: ClientGet, now_ms: float) -> list[Effect]:
        return self._coordinate_get(_Origin(client=sender, req=msg.req), msg, now_ms)

    def on_client_put(self, sender: ClientId | None, msg: ClientPut, now_ms: float) -> list[Effect]:
        return self._coordinate_put(_Origin(client=sender, req=msg.req), msg, now_ms)

    def _answer(self, origin: _Origin, reply: GetReply | PutReply) -> list[Effect]:
        if reply.req != origin.req:
            reply = replace(reply, req=origin.req)
        if origin.peer is not None:
            return [Send(origin.peer, ForwardReply(origin.req, self._name, reply))]
        assert origin.client is not None
        return [Reply(origin.client, reply)]

    def _coordinator(self, targets: list[Target]) -> str | None:
        """Who coordinates a request: this node if it is a primary target, else the first
        primary target; a fallback only when no primary is reachable (§4.5). Fallbacks
        coordinate into their hint table, which forgets after handoff, so the fewer the
        better."""
        primaries = [t.node for t in targets if t.hint_for is None]
        if self._name in primaries:
            return self._name
        if primaries:
            return primaries[0]
        if any(t.node == self._name for t in targets):
            return self._name
        return targets[0].node if targets else None

    def _forward(
        self, origin: _Origin, msg: ClientGet | ClientPut, dst: str, now_ms: float
    ) -> list[Effect]:
        """Hand the request to the coordinator ``dst``."""
        req = self.ctx.new_req()
        kind = "get" if isinstance(msg, ClientGet) else "put"
        self._pending[req] = _PendingForward(origin, kind)
        effects: list[Effect] = [Send(dst, Forward(req, self._name, msg))]
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        return effects

    def _coordinate_get(
        self, origin: _Origin, msg: ClientGet, now_ms: float, forwarded: bool = False
    ) -> list[Effect]:
        r = self._config.r if msg.r is None else msg.r
        pr = self._config.pr if msg.pr is None else msg.pr
        targets = self._targets(msg.key, now_ms)
        coordinator = self._coordinator(targets)
        if not forwarded and coordinator is not None and coordinator != self._name:
            return self._forward(origin, msg, coordinator, now_ms)
        try:
            core = GetCore(targets, r, pr)
        except ValueError as err:
            return self._answer(origin, GetReply(msg.req, False, error=str(err), definite=True))
        if len(targets) < r:
            error = f"unavailable: {len(targets)} reachable replicas, r={r}"
            return self._answer(origin, GetReply(msg.req, False, error=error, definite=True))
        req = self.ctx.new_req()
        pending = _PendingGet(origin, msg.key, core)
        self._pending[req] = pending
        effects: list[Effect] = []
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        # A primary coordinator tells the other replicas the digest of its own state, so that
        # those holding the same answer "same" instead of sending it (a digest read).
        digest: str | None = None
        for target in targets:
            if target.node == self._name:
                local = self._data.view(msg.key, target.hint_for)
                core.add_result(self._name, local)
                if target.hint_for is None:
                    known = self._data.digest(msg.key)
                    if known is not None:
                        pending.local, digest = local, known.hex()
        for target in targets:
            if target.node != self._name:
                get = ReplicaGet(req, self._name, msg.key, target.hint_for, digest)
                effects.append(Send(target.node, get))
        return effects + self._progress_get(req, pending, now_ms, timed_out=False)

    def _coordinate_put(
        self, origin: _Origin, msg: ClientPut, now_ms: float, forwarded: bool = False
    ) -> list[Effect]:
        w = self._config.w if msg.w is None else msg.w
        pw = self._config.pw if msg.pw is None else msg.pw
        targets = self._targets(msg.key, now_ms)
        coordinator = self._coordinator(targets)
        if not forwarded and coordinator is not None and coordinator != self._name:
            return self._forward(origin, msg, coordinator, now_ms)

        def refuse(error: str) -> list[Effect]:
            return self._answer(origin, PutReply(msg.req, False, error=error, definite=True))

        try:
            context = Context.decode(msg.context)
            core = PutCore(targets, w, pw)
        except ValueError as err:
            return refuse(str(err))
        primaries = sum(1 for t in targets if t.hint_for is None)
        if len(targets) < w or primaries < pw:
            return refuse(f"unavailable: {len(targets)} reachable replicas, w={w}, pw={pw}")
        # Dynamo §4.4: the coordinator creates the new version and writes it locally first.
        # (A node whose ring disagrees with the forwarder's may coordinate without being a
        # target: it keeps its copy in its main table, and partition handoff moves it.)
        mine = next((t for t in targets if t.node == self._name), Target(self._name))
        local = self._data.view(msg.key, mine.hint_for)
        actor = self._data.actor(hinted=mine.hint_for is not None)
        try:
            wall_ms = self.clock.wall_ms(now_ms)
            state, version = self._versions.update(local, context, msg.value, actor, wall_ms)
        except ValueError as err:
            return refuse(str(err))
        encoded = RawJson(self._data.put(msg.key, state, mine.hint_for, now_ms))
        core.add_result(self._name, True)
        req = self.ctx.new_req()
        journal = self._journal
        if journal.enabled:  # the dict of fields costs a little: not when the journal is off
            journal.record(
                now_ms,
                "version-created",
                key=msg.key,
                req=req,
                dot=_dot(actor, version, wall_ms),
                value=msg.value,
                hint_for=mine.hint_for,
                context=context.as_dict(),
                targets=[[t.node, t.hint_for] for t in targets],
                siblings=len(state.versions),
                kept=state.holds(msg.value),  # lww: an older-looking local version may win
            )
        pending = _PendingPut(origin, msg.key, core, version)
        self._pending[req] = pending
        effects: list[Effect] = []
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        for target in targets:
            if target.node != self._name:
                put = ReplicaPut(req, self._name, msg.key, encoded, target.hint_for)
                effects.append(Send(target.node, put))
        return effects + self._progress_put(req, pending, timed_out=False)

    # ------------------------------------------------------------------ forwarding

    def on_forward(self, sender: ClientId | None, msg: Forward, now_ms: float) -> list[Effect]:
        origin = _Origin(peer=msg.src, req=msg.req)
        request = msg.request  # (decoded with the frame: a malformed one never gets here)
        # Never forward twice: two nodes whose rings disagree would bounce a request forever.
        if isinstance(request, ClientGet):
            return self._coordinate_get(origin, request, now_ms, forwarded=True)
        if isinstance(request, ClientPut):
            return self._coordinate_put(origin, request, now_ms, forwarded=True)
        return []

    def on_forward_reply(
        self, sender: ClientId | None, msg: ForwardReply, now_ms: float
    ) -> list[Effect]:
        pending = self._pending.pop(msg.req, None)
        if not isinstance(pending, _PendingForward):
            return []  # late or unknown: dropped
        return self._answer(pending.origin, msg.reply)

    # ------------------------------------------------------------------ coordinator side

    def on_replica_get_reply(
        self, sender: ClientId | None, msg: ReplicaGetReply, now_ms: float
    ) -> list[Effect]:
        pending = self._pending.get(msg.req)
        if not isinstance(pending, _PendingGet) or pending.key != msg.key:
            return []
        state: Siblings | None
        if msg.same:
            state = pending.local  # None (an error) if this node never said what it holds
        else:
            try:
                state = decode_state(msg.state)
            except ValueError:
                state = None
        pending.core.add_result(msg.src, state)
        return self._progress_get(msg.req, pending, now_ms, timed_out=False)

    def on_replica_put_reply(
        self, sender: ClientId | None, msg: ReplicaPutReply, now_ms: float
    ) -> list[Effect]:
        pending = self._pending.get(msg.req)
        if not isinstance(pending, _PendingPut) or pending.key != msg.key:
            return []
        pending.core.add_result(msg.src, msg.ok)
        return self._progress_put(msg.req, pending, timed_out=False)

    def _progress_get(
        self, req: int, pending: _PendingGet, now_ms: float, timed_out: bool
    ) -> list[Effect]:
        effects: list[Effect] = []
        core = pending.core
        if not pending.answered and (core.enough() or timed_out):
            pending.answered = True
            outcome, merged = core.response(self._versions)
            if outcome.ok:
                context = self._versions.context(merged)
                values = merged.values
                reply = GetReply(
                    req=pending.origin.req,
                    ok=True,
                    values=values,
                    context=context.encode(),
                    found=bool(values),
                    coordinator=self._name,
                    replicas=outcome.replicas,
                    fallbacks=outcome.fallbacks,
                    clock=context.as_dict(),
                )
            else:
                error = "timeout: " + outcome.error if timed_out else outcome.error
                reply = GetReply(
                    req=pending.origin.req,
                    ok=False,
                    coordinator=self._name,
                    replicas=outcome.replicas,
                    fallbacks=outcome.fallbacks,
                    error=error,
                    definite=True,  # a read changes nothing, so a failed read is definite
                )
            effects += self._answer(pending.origin, reply)
            if not timed_out and not core.complete:
                # Linger for the slower replicas so read repair can see them.
                self._expire_at(now_ms + READ_REPAIR_WAIT_MS, req, effects)
        if pending.answered and (core.complete or timed_out):
            del self._pending[req]
            if self._config.read_repair:
                effects += self._read_repair(pending, now_ms)
        return effects

    def _read_repair(self, pending: _PendingGet, now_ms: float) -> list[Effect]:
        """Send the merged state to every replica that answered with less (after the client
        has its answer)."""
        effects: list[Effect] = []
        repaired: list[list[str | None]] = []
        for target, merged in pending.core.read_repairs(self._versions):
            repaired.append([target.node, target.hint_for])
            if target.node == self._name:
                self._data.merge(pending.key, merged, target.hint_for, now_ms)
            else:
                text = RawJson(state_text(merged))
                put = ReplicaPut(0, self._name, pending.key, text, target.hint_for, reply=False)
                effects.append(Send(target.node, put))
        if repaired:
            self._journal.record(now_ms, "read-repair", key=pending.key, to=repaired)
        return effects

    def _progress_put(self, req: int, pending: _PendingPut, timed_out: bool) -> list[Effect]:
        core = pending.core
        if not (core.enough() or timed_out):
            return []
        del self._pending[req]
        outcome = core.response()
        error = "" if outcome.ok else ("timeout: " if timed_out else "") + outcome.error
        reply = PutReply(
            req=pending.origin.req,
            ok=outcome.ok,
            coordinator=self._name,
            replicas=outcome.replicas,
            fallbacks=outcome.fallbacks,
            version=pending.version,
            error=error,
            definite=False,  # the coordinator's own copy was written: never definite
        )
        return self._answer(pending.origin, reply)

    def _expire_at(self, at_ms: float, req: int, effects: list[Effect]) -> None:
        """Call ``_expire(req)`` at ``at_ms`` (if it is still pending then); adds the timer
        effect to ``effects`` when none is set early enough."""
        heapq.heappush(self._deadlines, (at_ms, req))
        tick = _deadline_tick(at_ms)
        if self._armed_ms is None or tick < self._armed_ms:
            self._armed_ms = tick
            effects.append(SetTimer(tick, REQUESTS))

    def on_timer(self, now_ms: float) -> list[Effect]:
        """The ``REQUESTS`` timer fired: expire what is due, and set the timer for the next."""
        if self._armed_ms is not None and self._armed_ms <= now_ms:
            self._armed_ms = None  # that timer has fired (a later one may still be set)
        deadlines = self._deadlines
        effects: list[Effect] = []
        pending = self._pending
        while deadlines and deadlines[0][0] <= now_ms:
            _, req = heapq.heappop(deadlines)
            if req in pending:
                effects += self._expire(req, now_ms)
        # The deadlines of requests already answered would only wake the node to do nothing
        # (most requests finish long before theirs): the next timer is for the first request
        # still pending.
        while deadlines and deadlines[0][1] not in pending:
            heapq.heappop(deadlines)
        if deadlines:
            tick = _deadline_tick(deadlines[0][0])
            if self._armed_ms is None or tick < self._armed_ms:
                self._armed_ms = tick
                effects.append(SetTimer(tick, REQUESTS))
        return effects

    def _expire(self, req: int, now_ms: float) -> list[Effect]:
        pending = self._pending.get(req)
        if pending is None:
            return []
        if isinstance(pending, _PendingGet):
            return self._progress_get(req, pending, now_ms, timed_out=True)
        if isinstance(pending, _PendingPut):
            return self._progress_put(req, pending, timed_out=True)
        del self._pending[req]
        error = "timeout: the coordinator the request was forwarded to did not answer"
        reply: GetReply | PutReply = (
            GetReply(0, False, error=error, definite=True)
            if pending.kind == "get"
            else PutReply(0, False, error=error, definite=False)
        )
        return self._answer(pending.origin, reply)


def _dot(actor: str, version: dict[str, int], wall_ms: int) -> str:
    """The new version's name for the journal: ``actor:counter`` (dvv, vclock), or
    ``actor@wall_ms`` under last-write-wins, whose versions carry a timestamp, not a counter."""
    return f"{actor}:{version[actor]}" if actor in version else f"{actor}@{wall_ms}"
