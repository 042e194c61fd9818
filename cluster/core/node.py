"""The sans-IO Dynamo node: the protocol's state machine, driven by messages and timers.

A ``Node`` never touches a socket, a clock or a random generator of its own (like h11, or
riak_kv's get_core). A shell — the ZeroMQ server or the simulator — hands it what arrived
(``on_message``) and timers that fired (``on_timer``), each with the current monotonic time in
milliseconds, and carries out the effects it returns, in order (``cluster.core.effects``): ``Send``
to a peer, ``Reply`` to a client, ``SetTimer``, and ``Log`` for the operator.

Storage is the one I/O the core performs directly, through the injected ``Store`` (SQLite in
the server, memory in the simulator) wrapped in ``ReplicaData``: a write must be committed
*before* the ack is sent, and effects cannot express reads, so the store is a synchronous
interface rather than an effect.

What a node does (DeCandia et al. 2007), each part in its own module:

- client requests (here): any node accepts one; a node that is not a primary of the key
  forwards it to one (§4.5); the coordinator reads from or writes to the N targets of the
  sloppy preference list (§4.6), answers once R (or W) replied (``cluster.core.quorum``), creates a
  put's new version first (§4.4), and repairs stale replicas after a get (read repair); a
  primary coordinator sends its state's digest with a get, and replicas holding the same state
  answer "same" rather than sending it back (Cassandra's digest reads);
- failure detection: direct heartbeats to every peer feed one phi-accrual detector per peer
  (``cluster.core.failure_detector``), so each node has its own view of who is reachable;
- membership (§4.8, ``cluster.core.membership``): push-pull gossip of the ring and every node's
  generation and heartbeat version; a claimant applies joins and leaves to the ring;
- hinted handoff and partition handoff (§4.6, §4.9, ``cluster.core.handoff``);
- anti-entropy with Merkle trees (§4.7, ``cluster.core.anti_entropy``, ``cluster.core.merkle``);
- tombstone reaping (``cluster.core.reaper``);
- admin commands (``cluster.core.admin``).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cluster.core import admin, anti_entropy, gossip, handoff
from cluster.core.codec import ProtocolError, RawJson, from_dict, replace, to_dict
from cluster.core.config import ClusterConfig
from cluster.core.effects import (
    ANTI_ENTROPY,
    GOSSIP,
    HANDOFF,
    REQUESTS,
    ClientId,
    Effect,
    Log,
    Reply,
    Send,
    SetTimer,
    Timer,
)
from cluster.core.failure_detector import MAX_QUANTILE_THRESHOLD, PhiAccrual
from cluster.core.handoff import Handoffs
from cluster.core.membership import Membership
from cluster.core.messages import (
    AaeKeys,
    AaeNodes,
    AaeSync,
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    Forward,
    ForwardReply,
    GetReply,
    Gossip,
    Handoff,
    HandoffAck,
    Ping,
    PutReply,
    Reap,
    ReapQuery,
    ReapVote,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    ReplicaPutReply,
)
from cluster.core.placement import Placement
from cluster.core.quorum import GetCore, PutCore
from cluster.core.reaper import Reaper
from cluster.core.replica import ReplicaData, state_text
from cluster.core.ring import Ring, Target
from cluster.core.store import Store
from cluster.core.versions import Context, Siblings, Versioning, versioning

__all__ = ["ClientId", "Effect", "Log", "Node", "Reply", "Send", "SetTimer", "Timer"]


# After answering a get, keep waiting this long for the remaining replies, for read repair.
READ_REPAIR_WAIT_MS = 1000

RECENT_EVENTS = 50  # log lines kept for ``admin status``

# Requests expire on a grid of this many milliseconds (at most this late): one timer then
# serves every deadline in a tick, rather than one timer event per request at thousands of
# requests a second. Clients wait past the coordinator's deadline by more than this.
DEADLINE_TICK_MS = 20


def _deadline_tick(at_ms: float) -> float:
    """The first tick of the deadline grid at or after ``at_ms``."""
    return math.ceil(at_ms / DEADLINE_TICK_MS) * DEADLINE_TICK_MS


# --------------------------------------------------------------------------- pending requests


@dataclass
class _Origin:
    """Where the answer to a request goes: a client, or the peer that forwarded it."""

    client: ClientId | None = None
    peer: str | None = None
    req: int = 0  # the id the client (or forwarding peer) gave the request


@dataclass
class _PendingGet:
    origin: _Origin
    key: str
    core: GetCore
    answered: bool = False
    local: Siblings | None = None  # this node's main state, which a ``same`` reply stands for


@dataclass
class _PendingPut:
    origin: _Origin
    key: str
    core: PutCore
    version: dict[str, int]


@dataclass
class _PendingForward:
    origin: _Origin
    kind: str  # "get" or "put"


_Pending = _PendingGet | _PendingPut | _PendingForward


@dataclass
class Node:
    """One Dynamo node's protocol state. See the module docstring for the contract.

    A node whose name is not in ``config.nodes`` (the initial members, which are also the
    seeds) and that has no membership stored, or one that left and is started again, is a
    *joiner*: it gossips with the seeds until a claimant adds it to the ring.
    """

    name: str
    config: ClusterConfig
    store: Store
    rng: random.Random
    generation: int = 1
    wall_offset_ms: float = 0.0  # wall clock = monotonic now + this; clock faults move it
    address: str = ""  # where this node listens, gossiped for nodes that join later
    membership: Membership = field(init=False)
    data: ReplicaData = field(init=False)
    versions: Versioning = field(init=False)
    detectors: dict[str, PhiAccrual] = field(init=False, default_factory=dict)
    handoffs: Handoffs = field(init=False, default_factory=Handoffs)
    events: deque[str] = field(init=False, default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    clock_skew_ms: float = field(init=False, default=0.0)
    _pending: dict[int, _Pending] = field(init=False, default_factory=dict)
    # ``(deadline, req)`` of every pending request (and of some finished ones, dropped when
    # their deadline passes): one ``REQUESTS`` timer at the earliest serves them all, rather
    # than a timer effect per request.
    _deadlines: list[tuple[float, int]] = field(init=False, default_factory=list)
    _armed_ms: float | None = field(init=False, default=None)  # the earliest REQUESTS timer
    _next_req: int = field(init=False, default=1)
    _placement: Placement = field(init=False)
    reaper: Reaper = field(init=False, default_factory=Reaper)
    # ``up_nodes``' last answer, until when it holds, and the membership it was judged for.
    _up: frozenset[str] | None = field(init=False, default=None)
    _up_until_ms: float = field(init=False, default=-math.inf)
    _up_of: Membership | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.versions = versioning(self.config.versioning)
        saved = self.store.get_meta(gossip.MEMBERSHIP_META)
        membership = gossip.restore(self.config.nodes, self.config.partitions, saved)
        # A node that left and is started again has a new generation, so it is a joiner again.
        self.membership = membership.heartbeat(self.name, self.generation, self.address)
        self._placement = Placement(self.membership.ring, self.config.n)
        self.data = ReplicaData(
            self.store, self.versions, self.membership.ring.partition_of, self.name
        )

    # ------------------------------------------------------------------ the shell's entry points

    def start(self, now_ms: float) -> list[Effect]:
        self.data.load(now_ms)
        for peer in self.membership.peers(self.name):
            self.detector(peer, now_ms)
        status = self.membership.status(self.name)
        effects: list[Effect] = [
            Log(
                f"{self.name} generation {self.generation} starting as {status};"
                f" ring version {self.membership.ring_version}; {len(self.data.forest)} keys,"
                f" {self.data.hint_count} hints held"
            )
        ]
        effects += gossip.heartbeat(self, now_ms)
        gossip.persist(self, None)
        # Spread the first rounds so that nodes started together do not move in lockstep.
        effects.append(SetTimer(now_ms + self.jitter(self.config.gossip_interval_ms), GOSSIP))
        effects.append(SetTimer(now_ms + self.jitter(self.config.handoff_interval_ms), HANDOFF))
        if self.config.anti_entropy_interval_ms:
            interval = self.config.anti_entropy_interval_ms
            effects.append(SetTimer(now_ms + self.jitter(interval), ANTI_ENTROPY))
        return effects

    def on_message(self, sender: ClientId | None, msg: Any, now_ms: float) -> list[Effect]:
        """Handle one decoded message. ``sender`` is the client routing id for client and
        admin requests, None for peer messages (which name their ``src``)."""
        src = getattr(msg, "src", None)
        if type(src) is str and src != self.name:
            detector = self.detectors.get(src)
            if detector is None:
                detector = self.detector(src, now_ms)
            detector.heartbeat(now_ms)
            up = self._up
            if up is not None and src not in up:
                self._up = None  # a suspected peer spoke: it may be up again
        handler = self._HANDLERS.get(type(msg))
        if handler is None:
            return []
        try:
            effects: list[Effect] = handler(self, sender, msg, now_ms)
        except (ValueError, TypeError, KeyError) as err:
            if sender is not None:
                raise
            # A peer's message the node cannot digest (a bad state, a malformed entry): drop
            # it and say so, rather than let one peer's garbage stop the node.
            return self.log(f"dropped {type(msg).__name__} from {src}: {err}", "warning")
        return effects

    def on_timer(self, timer: Timer, now_ms: float) -> list[Effect]:
        kind = timer.kind
        if kind == "request":
            return self._expire_due(now_ms)
        if kind == "heartbeat":
            return gossip.heartbeat(self, now_ms)
        if kind == "gossip":
            return gossip.gossip_round(self, now_ms)
        if kind == "handoff":
            periodic = timer == HANDOFF
            effects = handoff.handoff_round(self, now_ms, periodic)
            return effects + self.reaper.tick(self, now_ms) if periodic else effects
        if kind == "anti-entropy":
            return anti_entropy.exchange_round(self, now_ms)
        return []

    # ------------------------------------------------------------------ views

    @property
    def ring(self) -> Ring:
        return self.membership.ring

    @property
    def placement(self) -> Placement:
        ring = self.membership.ring
        if self._placement.ring is not ring and self._placement.ring != ring:
            self._placement = Placement(ring, self.config.n)
        return self._placement

    def wall_ms(self, now_ms: float) -> int:
        """This node's wall clock, which clock faults skew."""
        return int(now_ms + self.wall_offset_ms + self.clock_skew_ms)

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        """The nodes this node can reach, itself included: judged on direct arrivals only, so
        a node cut off from a peer suspects it even if gossip through others says it lives
        (the sloppy quorum needs reachability, not liveness).

        Every coordinated request asks, so the answer is kept until it may change: until the
        first up peer's silence would make it suspected, until a suspected peer speaks
        (``on_message``), or until the membership changes."""
        up = self._up
        if up is not None and now_ms < self._up_until_ms and self._up_of is self.membership:
            return up
        found = {self.name}
        until = math.inf
        threshold = self.config.phi_threshold
        for peer in self.membership.peers(self.name):
            detector = self.detectors.get(peer)
            if detector is not None and detector.is_available(now_ms, threshold):
                found.add(peer)
                until = min(until, detector.suspect_at_ms(threshold))
        up = self._up = frozenset(found)
        # A threshold outside the quantile's range is judged by phi itself: no caching.
        self._up_until_ms = until if 0.0 < threshold <= MAX_QUANTILE_THRESHOLD else -math.inf
        self._up_of = self.membership
        return up

    def targets(self, key: str, now_ms: float) -> list[Target]:
        return self.ring.preference_list(key, self.config.n, self.up_nodes(now_ms))

    def detector(self, peer: str, now_ms: float) -> PhiAccrual:
        detector = self.detectors.get(peer)
        if detector is None:
            detector = PhiAccrual(float(self.config.heartbeat_interval_ms))
            detector.start(now_ms)
            self.detectors[peer] = detector
        return detector

    def jitter(self, interval_ms: float) -> float:
        return interval_ms * self.rng.uniform(0.8, 1.2)

    def new_req(self) -> int:
        req = self._next_req
        self._next_req += 1
        return req

    def log(self, text: str, level: str = "info") -> list[Effect]:
        self.events.append(text)
        return [Log(text, level)]

    # ------------------------------------------------------------------ client requests

    def _on_client_get(
        self, sender: ClientId | None, msg: ClientGet, now_ms: float
    ) -> list[Effect]:
        return self._coordinate_get(_Origin(client=sender, req=msg.req), msg, now_ms)

    def _on_client_put(
        self, sender: ClientId | None, msg: ClientPut, now_ms: float
    ) -> list[Effect]:
        return self._coordinate_put(_Origin(client=sender, req=msg.req), msg, now_ms)

    def _answer(self, origin: _Origin, reply: GetReply | PutReply) -> list[Effect]:
        if reply.req != origin.req:
            reply = replace(reply, req=origin.req)
        if origin.peer is not None:
            return [Send(origin.peer, ForwardReply(origin.req, self.name, to_dict(reply)))]
        assert origin.client is not None
        return [Reply(origin.client, reply)]

    def _coordinator(self, targets: list[Target]) -> str | None:
        """Who coordinates a request: this node if it is a primary target, else the first
        primary target; a fallback only when no primary is reachable (§4.5). Fallbacks
        coordinate into their hint table, which forgets after handoff, so the fewer the
        better."""
        primaries = [t.node for t in targets if t.hint_for is None]
        if self.name in primaries:
            return self.name
        if primaries:
            return primaries[0]
        if any(t.node == self.name for t in targets):
            return self.name
        return targets[0].node if targets else None

    def _forward(
        self, origin: _Origin, msg: ClientGet | ClientPut, dst: str, now_ms: float
    ) -> list[Effect]:
        """Hand the request to the coordinator ``dst``."""
        req = self.new_req()
        kind = "get" if isinstance(msg, ClientGet) else "put"
        self._pending[req] = _PendingForward(origin, kind)
        effects: list[Effect] = [Send(dst, Forward(req, self.name, to_dict(msg)))]
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        return effects

    def _coordinate_get(
        self, origin: _Origin, msg: ClientGet, now_ms: float, forwarded: bool = False
    ) -> list[Effect]:
        r = self.config.r if msg.r is None else msg.r
        pr = self.config.pr if msg.pr is None else msg.pr
        targets = self.targets(msg.key, now_ms)
        coordinator = self._coordinator(targets)
        if not forwarded and coordinator is not None and coordinator != self.name:
            return self._forward(origin, msg, coordinator, now_ms)
        try:
            core = GetCore(targets, r, pr)
        except ValueError as err:
            return self._answer(origin, GetReply(msg.req, False, error=str(err), definite=True))
        if len(targets) < r:
            error = f"unavailable: {len(targets)} reachable replicas, r={r}"
            return self._answer(origin, GetReply(msg.req, False, error=error, definite=True))
        req = self.new_req()
        pending = _PendingGet(origin, msg.key, core)
        self._pending[req] = pending
        effects: list[Effect] = []
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        # A primary coordinator tells the other replicas the digest of its own state, so that
        # those holding the same answer "same" instead of sending it (a digest read).
        digest: str | None = None
        for target in targets:
            if target.node == self.name:
                local = self.data.view(msg.key, target.hint_for)
                core.add_result(self.name, local)
                if target.hint_for is None:
                    known = self.data.digest(msg.key)
                    if known is not None:
                        pending.local, digest = local, known.hex()
        for target in targets:
            if target.node != self.name:
                get = ReplicaGet(req, self.name, msg.key, target.hint_for, digest)
                effects.append(Send(target.node, get))
        return effects + self._progress_get(req, pending, now_ms, timed_out=False)

    def _coordinate_put(
        self, origin: _Origin, msg: ClientPut, now_ms: float, forwarded: bool = False
    ) -> list[Effect]:
        w = self.config.w if msg.w is None else msg.w
        pw = self.config.pw if msg.pw is None else msg.pw
        targets = self.targets(msg.key, now_ms)
        coordinator = self._coordinator(targets)
        if not forwarded and coordinator is not None and coordinator != self.name:
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
        mine = next((t for t in targets if t.node == self.name), Target(self.name))
        local = self.data.view(msg.key, mine.hint_for)
        actor = self.data.actor(hinted=mine.hint_for is not None)
        try:
            state, version = self.versions.update(
                local, context, msg.value, actor, self.wall_ms(now_ms)
            )
        except ValueError as err:
            return refuse(str(err))
        encoded = RawJson(self.data.put(msg.key, state, mine.hint_for, now_ms))
        core.add_result(self.name, True)
        req = self.new_req()
        pending = _PendingPut(origin, msg.key, core, version)
        self._pending[req] = pending
        effects: list[Effect] = []
        self._expire_at(now_ms + msg.timeout_ms, req, effects)
        for target in targets:
            if target.node != self.name:
                put = ReplicaPut(req, self.name, msg.key, encoded, target.hint_for)
                effects.append(Send(target.node, put))
        return effects + self._progress_put(req, pending, timed_out=False)

    # ------------------------------------------------------------------ forwarding

    def _on_forward(self, sender: ClientId | None, msg: Forward, now_ms: float) -> list[Effect]:
        origin = _Origin(peer=msg.src, req=msg.req)
        try:
            request = from_dict(msg.request)
        except (ProtocolError, TypeError):
            return []
        # Never forward twice: two nodes whose rings disagree would bounce a request forever.
        if isinstance(request, ClientGet):
            return self._coordinate_get(origin, request, now_ms, forwarded=True)
        if isinstance(request, ClientPut):
            return self._coordinate_put(origin, request, now_ms, forwarded=True)
        return []

    def _on_forward_reply(
        self, sender: ClientId | None, msg: ForwardReply, now_ms: float
    ) -> list[Effect]:
        pending = self._pending.pop(msg.req, None)
        if not isinstance(pending, _PendingForward):
            return []  # late or unknown: dropped
        try:
            reply = from_dict(msg.reply)
        except (ProtocolError, TypeError):
            return []
        return self._answer(pending.origin, reply)

    # ------------------------------------------------------------------ replica side

    def _on_replica_get(
        self, sender: ClientId | None, msg: ReplicaGet, now_ms: float
    ) -> list[Effect]:
        if msg.digest is not None and msg.hint_for is None:
            mine = self.data.digest(msg.key)
            if mine is not None and mine.hex() == msg.digest:
                reply = ReplicaGetReply(msg.req, self.name, msg.key, None, same=True)
                return [Send(msg.src, reply)]
        state = RawJson(state_text(self.data.view(msg.key, msg.hint_for)))
        return [Send(msg.src, ReplicaGetReply(msg.req, self.name, msg.key, state))]

    def _on_replica_put(
        self, sender: ClientId | None, msg: ReplicaPut, now_ms: float
    ) -> list[Effect]:
        hint_for = None if msg.hint_for == self.name else msg.hint_for
        try:
            self.data.merge(msg.key, Siblings.from_json(msg.state), hint_for, now_ms)
            ok, error = True, ""
        except ValueError as err:
            ok, error = False, str(err)
        if not msg.reply:
            return []
        return [Send(msg.src, ReplicaPutReply(msg.req, self.name, msg.key, ok, error))]

    # ------------------------------------------------------------------ coordinator side

    def _on_replica_get_reply(
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
                state = Siblings.from_json(msg.state)
            except ValueError:
                state = None
        pending.core.add_result(msg.src, state)
        return self._progress_get(msg.req, pending, now_ms, timed_out=False)

    def _on_replica_put_reply(
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
            outcome, merged = core.response(self.versions)
            if outcome.ok:
                context = self.versions.context(merged)
                values = merged.values
                reply = GetReply(
                    req=pending.origin.req,
                    ok=True,
                    values=values,
                    context=context.encode(),
                    found=bool(values),
                    coordinator=self.name,
                    replicas=outcome.replicas,
                    fallbacks=outcome.fallbacks,
                    clock=context.as_dict(),
                )
            else:
                error = "timeout: " + outcome.error if timed_out else outcome.error
                reply = GetReply(
                    req=pending.origin.req,
                    ok=False,
                    coordinator=self.name,
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
            if self.config.read_repair:
                effects += self._read_repair(pending, now_ms)
        return effects

    def _read_repair(self, pending: _PendingGet, now_ms: float) -> list[Effect]:
        """Send the merged state to every replica that answered with less (after the client
        has its answer)."""
        effects: list[Effect] = []
        for target, merged in pending.core.read_repairs(self.versions):
            if target.node == self.name:
                self.data.merge(pending.key, merged, target.hint_for, now_ms)
            else:
                text = RawJson(state_text(merged))
                put = ReplicaPut(0, self.name, pending.key, text, target.hint_for, reply=False)
                effects.append(Send(target.node, put))
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
            coordinator=self.name,
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

    def _expire_due(self, now_ms: float) -> list[Effect]:
        """The ``REQUESTS`` timer fired: expire what is due, and set the timer for the next."""
        if self._armed_ms is not None and self._armed_ms <= now_ms:
            self._armed_ms = None  # that timer has fired (a later one may still be set)
        deadlines = self._deadlines
        effects: list[Effect] = []
        while deadlines and deadlines[0][0] <= now_ms:
            _, req = heapq.heappop(deadlines)
            if req in self._pending:
                effects += self._expire(req, now_ms)
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

    # ------------------------------------------------------------------ admin

    def _on_admin(self, sender: ClientId | None, msg: AdminRequest, now_ms: float) -> list[Effect]:
        assert sender is not None
        command = admin.COMMANDS.get(msg.op)
        if command is None:
            accepted = ", ".join(sorted(admin.COMMANDS))
            error = f"unknown admin op {msg.op!r}; accepted: {accepted}"
            return [Reply(sender, AdminReply(msg.req, False, error=error))]
        try:
            data, effects = command(self, msg.args, now_ms)
        except (KeyError, TypeError, ValueError) as err:
            return [Reply(sender, AdminReply(msg.req, False, error=f"{msg.op}: {err}"))]
        return [*effects, Reply(sender, AdminReply(msg.req, True, data))]

    def pending_requests(self) -> int:
        return len(self._pending)

    def leave(self, node: str, now_ms: float, force: bool = False) -> list[Effect]:
        """Ask for ``node`` to leave the ring (admin ``leave``); gossip spreads it."""
        return gossip.leave(self, node, force)

    _HANDLERS: ClassVar[dict[type[Any], Callable[..., list[Effect]]]] = {}


Node._HANDLERS = {
    ClientGet: Node._on_client_get,
    ClientPut: Node._on_client_put,
    AdminRequest: Node._on_admin,
    Forward: Node._on_forward,
    ForwardReply: Node._on_forward_reply,
    ReplicaGet: Node._on_replica_get,
    ReplicaGetReply: Node._on_replica_get_reply,
    ReplicaPut: Node._on_replica_put,
    ReplicaPutReply: Node._on_replica_put_reply,
    Ping: lambda node, sender, msg, now_ms: gossip.on_ping(node, msg, now_ms),
    Gossip: lambda node, sender, msg, now_ms: gossip.on_gossip(node, msg, now_ms),
    Handoff: lambda node, sender, msg, now_ms: handoff.on_handoff(node, msg, now_ms),
    HandoffAck: lambda node, sender, msg, now_ms: (
        handoff.on_ack(node, msg, now_ms) + gossip.done_leaving(node)
    ),
    AaeNodes: lambda node, sender, msg, now_ms: anti_entropy.on_message(node, msg, now_ms),
    AaeKeys: lambda node, sender, msg, now_ms: anti_entropy.on_message(node, msg, now_ms),
    AaeSync: lambda node, sender, msg, now_ms: anti_entropy.on_message(node, msg, now_ms),
    ReapQuery: lambda node, sender, msg, now_ms: node.reaper.on_query(node, msg, now_ms),
    ReapVote: lambda node, sender, msg, now_ms: node.reaper.on_vote(node, msg, now_ms),
    Reap: lambda node, sender, msg, now_ms: node.reaper.on_reap(node, msg, now_ms),
}
