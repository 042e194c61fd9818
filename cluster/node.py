"""The sans-IO Dynamo node: the protocol's state machine, driven by messages and timers.

A ``Node`` never touches a socket, a clock or a random generator of its own (like h11, or
riak_kv's get_core). A shell — the ZeroMQ server or the simulator — hands it what arrived
(``on_message``) and timers that fired (``on_timer``), each with the current monotonic time in
milliseconds, and carries out the effects it returns, in order:

- ``Send(dst, msg)`` — to peer node ``dst``;
- ``Reply(client, msg)`` — to the client or admin tool whose routing id is ``client``;
- ``SetTimer(at_ms, timer)`` — call ``on_timer(timer, now)`` at ``at_ms`` or later.

Storage is the one I/O the core performs directly, through the injected ``Store`` (SQLite in
the server, memory in the simulator): a write must be committed *before* the ack is sent, and
effects cannot express reads, so the store is a synchronous interface rather than an effect.

What a node does (DeCandia et al. 2007): any node accepts a client request; a node outside the
key's preference list forwards it to one inside (§4.5); the coordinator reads from or writes to
the N targets of the sloppy preference list (§4.6) and answers once R (or W) replied, counting
with ``GetCore`` / ``PutCore``; a put creates the new version at the coordinator first (§4.4); a
get returns all siblings and repairs stale replicas afterwards (§5, read repair). Peers are
judged up or down by a phi-accrual detector fed by heartbeats and by every message they send.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cluster.config import ClusterConfig
from cluster.failure_detector import PhiAccrual
from cluster.messages import (
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    Forward,
    ForwardReply,
    GetReply,
    Ping,
    ProtocolError,
    PutReply,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    ReplicaPutReply,
    from_dict,
    to_dict,
)
from cluster.quorum import GetCore, PutCore
from cluster.ring import Ring, Target
from cluster.storage import Store
from cluster.versions import Context, Siblings, Versioning, versioning

ClientId = bytes  # the ROUTER routing id of a client connection


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True)
class Send:
    dst: str
    msg: Any


@dataclass(frozen=True)
class Reply:
    client: ClientId
    msg: Any


@dataclass(frozen=True)
class Timer:
    kind: str  # "heartbeat", "request"
    ident: int = 0


@dataclass(frozen=True)
class SetTimer:
    at_ms: float
    timer: Timer


Effect = Send | Reply | SetTimer

HEARTBEAT = Timer("heartbeat")


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

# After answering a get, keep waiting this long for the remaining replies, for read repair.
READ_REPAIR_WAIT_MS = 1000


@dataclass
class Node:
    """One Dynamo node's protocol state. See the module docstring for the contract."""

    name: str
    config: ClusterConfig
    store: Store
    rng: random.Random
    generation: int = 1
    wall_offset_ms: float = 0.0  # wall clock = monotonic now + this; clock faults move it
    ring: Ring = field(init=False)
    versions: Versioning = field(init=False)
    detectors: dict[str, PhiAccrual] = field(init=False, default_factory=dict)
    _pending: dict[int, _Pending] = field(init=False, default_factory=dict)
    _next_req: int = field(init=False, default=1)
    clock_skew_ms: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if self.name not in self.config.nodes:
            raise ValueError(f"node {self.name!r} is not in the cluster {list(self.config.nodes)}")
        self.ring = Ring.build(self.config.nodes, self.config.partitions)
        self.versions = versioning(self.config.versioning)
        for peer in self.config.nodes:
            if peer != self.name:
                self.detectors[peer] = PhiAccrual(float(self.config.heartbeat_interval_ms))

    # ------------------------------------------------------------------ the shell's entry points

    def start(self, now_ms: float) -> list[Effect]:
        for detector in self.detectors.values():
            detector.start(now_ms)
        return self._heartbeat(now_ms)

    def on_message(self, sender: ClientId | None, msg: Any, now_ms: float) -> list[Effect]:
        """Handle one decoded message. ``sender`` is the client routing id for client and
        admin requests, None for peer messages (which name their ``src``)."""
        src = getattr(msg, "src", None)
        if isinstance(src, str) and src in self.detectors:
            self.detectors[src].heartbeat(now_ms)
        handler = self._HANDLERS.get(type(msg))
        if handler is None:
            return []
        effects: list[Effect] = handler(self, sender, msg, now_ms)
        return effects

    def on_timer(self, timer: Timer, now_ms: float) -> list[Effect]:
        if timer.kind == "heartbeat":
            return self._heartbeat(now_ms)
        if timer.kind == "request":
            return self._expire(timer.ident, now_ms)
        return []

    # ------------------------------------------------------------------ views

    def wall_ms(self, now_ms: float) -> int:
        """This node's wall clock, which clock faults skew."""
        return int(now_ms + self.wall_offset_ms + self.clock_skew_ms)

    def up_nodes(self, now_ms: float) -> set[str]:
        """The nodes this node believes are up (itself included)."""
        up = {self.name}
        for peer, detector in self.detectors.items():
            if detector.is_available(now_ms, self.config.phi_threshold):
                up.add(peer)
        return up

    def targets(self, key: str, now_ms: float) -> list[Target]:
        return self.ring.preference_list(key, self.config.n, self.up_nodes(now_ms))

    # ------------------------------------------------------------------ heartbeats

    def _heartbeat(self, now_ms: float) -> list[Effect]:
        effects: list[Effect] = [
            Send(peer, Ping(self.name, self.generation)) for peer in self.detectors
        ]
        effects.append(SetTimer(now_ms + self.config.heartbeat_interval_ms, HEARTBEAT))
        return effects

    # ------------------------------------------------------------------ client requests

    def _new_req(self) -> int:
        req = self._next_req
        self._next_req += 1
        return req

    def _on_client_get(
        self, sender: ClientId | None, msg: ClientGet, now_ms: float
    ) -> list[Effect]:
        return self._coordinate_get(_Origin(client=sender, req=msg.req), msg, now_ms)

    def _on_client_put(
        self, sender: ClientId | None, msg: ClientPut, now_ms: float
    ) -> list[Effect]:
        return self._coordinate_put(_Origin(client=sender, req=msg.req), msg, now_ms)

    def _answer(self, origin: _Origin, reply: GetReply | PutReply) -> list[Effect]:
        reply = dataclasses.replace(reply, req=origin.req)
        if origin.peer is not None:
            return [Send(origin.peer, ForwardReply(origin.req, self.name, to_dict(reply)))]
        assert origin.client is not None
        return [Reply(origin.client, reply)]

    def _forward(
        self, origin: _Origin, msg: ClientGet | ClientPut, targets: list[Target], now_ms: float
    ) -> list[Effect]:
        """Hand the request to the first target: the coordinator must be in the preference list."""
        req = self._new_req()
        kind = "get" if isinstance(msg, ClientGet) else "put"
        self._pending[req] = _PendingForward(origin, kind)
        return [
            Send(targets[0].node, Forward(req, self.name, to_dict(msg))),
            SetTimer(now_ms + msg.timeout_ms, Timer("request", req)),
        ]

    def _coordinate_get(self, origin: _Origin, msg: ClientGet, now_ms: float) -> list[Effect]:
        r = self.config.r if msg.r is None else msg.r
        pr = self.config.pr if msg.pr is None else msg.pr
        targets = self.targets(msg.key, now_ms)
        if self.name not in {t.node for t in targets} and targets:
            return self._forward(origin, msg, targets, now_ms)
        try:
            core = GetCore(targets, r, pr)
        except ValueError as err:
            return self._answer(origin, GetReply(msg.req, False, error=str(err), definite=True))
        if len(targets) < r:
            error = f"unavailable: {len(targets)} reachable replicas, r={r}"
            return self._answer(origin, GetReply(msg.req, False, error=error, definite=True))
        req = self._new_req()
        pending = _PendingGet(origin, msg.key, core)
        self._pending[req] = pending
        effects: list[Effect] = [SetTimer(now_ms + msg.timeout_ms, Timer("request", req))]
        for target in targets:
            if target.node == self.name:
                core.add_result(self.name, self._local_state(msg.key, target.hint_for))
            else:
                effects.append(Send(target.node, ReplicaGet(req, self.name, msg.key)))
        return effects + self._progress_get(req, pending, now_ms, timed_out=False)

    def _coordinate_put(self, origin: _Origin, msg: ClientPut, now_ms: float) -> list[Effect]:
        w = self.config.w if msg.w is None else msg.w
        pw = self.config.pw if msg.pw is None else msg.pw
        targets = self.targets(msg.key, now_ms)
        if self.name not in {t.node for t in targets} and targets:
            return self._forward(origin, msg, targets, now_ms)

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
        mine = next(t for t in targets if t.node == self.name)
        local = self._local_state(msg.key, mine.hint_for)
        state, version = self.versions.update(
            local, context, msg.value, self.name, self.wall_ms(now_ms)
        )
        self._store_state(msg.key, state, mine.hint_for)
        core.add_result(self.name, True)
        req = self._new_req()
        pending = _PendingPut(origin, msg.key, core, version)
        self._pending[req] = pending
        effects: list[Effect] = [SetTimer(now_ms + msg.timeout_ms, Timer("request", req))]
        encoded = state.to_json()
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
        if isinstance(request, ClientGet):
            return self._coordinate_get(origin, request, now_ms)
        if isinstance(request, ClientPut):
            return self._coordinate_put(origin, request, now_ms)
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

    def _local_state(self, key: str, hint_for: str | None) -> Siblings:
        raw = self.store.get(key) if hint_for is None else self.store.get_hint(hint_for, key)
        return Siblings.EMPTY if raw is None else Siblings.from_json(raw)

    def _store_state(self, key: str, state: Siblings, hint_for: str | None) -> None:
        if hint_for is None:
            self.store.put(key, state.to_json())
        else:
            self.store.put_hint(hint_for, key, state.to_json())

    def _on_replica_get(
        self, sender: ClientId | None, msg: ReplicaGet, now_ms: float
    ) -> list[Effect]:
        state = self._local_state(msg.key, None)
        return [Send(msg.src, ReplicaGetReply(msg.req, self.name, msg.key, state.to_json()))]

    def _on_replica_put(
        self, sender: ClientId | None, msg: ReplicaPut, now_ms: float
    ) -> list[Effect]:
        try:
            incoming = Siblings.from_json(msg.state)
            merged = self.versions.merge(self._local_state(msg.key, msg.hint_for), incoming)
            self._store_state(msg.key, merged, msg.hint_for)
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
        try:
            state: Siblings | None = Siblings.from_json(msg.state)
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
                reply = GetReply(
                    req=0,
                    ok=True,
                    values=merged.values,
                    context=context.encode(),
                    found=bool(merged.values),
                    coordinator=self.name,
                    replicas=outcome.replicas,
                    fallbacks=outcome.fallbacks,
                    clock=context.as_dict(),
                )
            else:
                error = "timeout: " + outcome.error if timed_out else outcome.error
                reply = GetReply(
                    req=0,
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
                effects.append(SetTimer(now_ms + READ_REPAIR_WAIT_MS, Timer("request", req)))
        if pending.answered and (core.complete or timed_out):
            del self._pending[req]
            if self.config.read_repair:
                effects += self._read_repair(pending)
        return effects

    def _read_repair(self, pending: _PendingGet) -> list[Effect]:
        effects: list[Effect] = []
        for target, merged in pending.core.read_repairs(self.versions):
            if target.node == self.name:
                local = self._local_state(pending.key, target.hint_for)
                self._store_state(pending.key, self.versions.merge(local, merged), target.hint_for)
            else:
                put = ReplicaPut(
                    0, self.name, pending.key, merged.to_json(), target.hint_for, reply=False
                )
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
            req=0,
            ok=outcome.ok,
            coordinator=self.name,
            replicas=outcome.replicas,
            fallbacks=outcome.fallbacks,
            version=pending.version,
            error=error,
            definite=False,  # the coordinator's own copy was written: never definite
        )
        return self._answer(pending.origin, reply)

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
        command = _ADMIN.get(msg.op)
        if command is None:
            error = f"unknown admin op {msg.op!r}; accepted: {', '.join(sorted(_ADMIN))}"
            return [Reply(sender, AdminReply(msg.req, False, error=error))]
        try:
            data = command(self, msg.args, now_ms)
        except (KeyError, TypeError, ValueError) as err:
            return [Reply(sender, AdminReply(msg.req, False, error=f"{msg.op}: {err}"))]
        return [Reply(sender, AdminReply(msg.req, True, data))]

    def _admin_ping(self, args: dict[str, Any], now_ms: float) -> Any:
        return {"node": self.name, "generation": self.generation}

    def _admin_status(self, args: dict[str, Any], now_ms: float) -> Any:
        return {
            "node": self.name,
            "generation": self.generation,
            "up": sorted(self.up_nodes(now_ms)),
            "phi": {p: round(min(d.phi(now_ms), 1e9), 2) for p, d in self.detectors.items()},
            "pending_requests": len(self._pending),
            "clock_skew_ms": self.clock_skew_ms,
            "config": self.config.to_json(),
        }

    def _admin_ring(self, args: dict[str, Any], now_ms: float) -> Any:
        return self.ring.to_json()

    def _admin_replica(self, args: dict[str, Any], now_ms: float) -> Any:
        key = args["key"]
        if not isinstance(key, str):
            raise TypeError("key must be a string")
        state = self._local_state(key, None)
        return {
            "key": key,
            "node": self.name,
            "values": state.values,
            "tombstone": state.is_tombstone,
            "empty": state.is_empty,
            "clocks": self.versions.clocks(state),
            "state": state.to_json(),
        }

    def _admin_keys(self, args: dict[str, Any], now_ms: float) -> Any:
        return list(self.store.keys())

    def _admin_clock(self, args: dict[str, Any], now_ms: float) -> Any:
        """Clock faults: ``{"offset_ms": x}`` sets the skew, ``{"bump_ms": x}`` adds to it."""
        if "offset_ms" in args:
            self.clock_skew_ms = float(args["offset_ms"])
        if "bump_ms" in args:
            self.clock_skew_ms += float(args["bump_ms"])
        return {"clock_skew_ms": self.clock_skew_ms, "wall_ms": self.wall_ms(now_ms)}

    _HANDLERS: ClassVar[Any] = None  # filled below, once the methods exist


_ADMIN: dict[str, Callable[[Node, dict[str, Any], float], Any]] = {
    "ping": Node._admin_ping,
    "status": Node._admin_status,
    "ring": Node._admin_ring,
    "replica": Node._admin_replica,
    "keys": Node._admin_keys,
    "clock": Node._admin_clock,
}

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
    Ping: lambda self, sender, msg, now_ms: [],
}
