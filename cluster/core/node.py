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

A ``Node`` is a composition of sub-machines, each owning its state, taking its messages and
timers and returning effects (riak_core's vnode / FSM split). None sees the ``Node`` or another
machine's fields; each is given the node's ``NodeContext`` (``cluster.core.context``: identity,
configuration, seeded generator, request ids, log, ``ReplicaData``) and, where it needs them,
read-only ``Topology`` queries. What a node does (DeCandia et al. 2007), machine by machine:

- client requests (``Coordinator``, ``cluster.core.coordinator``): forwarding to a primary
  (§4.5), sloppy quorums (§4.6, ``cluster.core.quorum``), new versions (§4.4), read repair and
  digest reads; the replica side of them (``Vnode``, ``cluster.core.vnode``);
- failure detection and membership (``Gossiper``, ``cluster.core.gossip``): direct heartbeats
  feed one phi-accrual detector per peer (``cluster.core.failure_detector``); push-pull gossip
  of the ring and every node's generation (§4.8, ``cluster.core.membership``);
- hinted handoff and partition handoff (``HandoffMachine``, §4.6, §4.9,
  ``cluster.core.handoff``);
- anti-entropy with Merkle trees (``AntiEntropy``, §4.7, ``cluster.core.anti_entropy``);
- tombstone reaping (``Reaper``, ``cluster.core.reaper``);
- the event journal every machine records its protocol events in (``cluster.core.journal``);
- admin commands (``Node.admin``, ``cluster.core.admin``).

The node itself only dispatches: each message type to its machine, each timer to its round.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cluster.core import admin
from cluster.core.anti_entropy import AntiEntropy
from cluster.core.config import ClusterConfig
from cluster.core.context import NodeContext, WallClock
from cluster.core.coordinator import Coordinator
from cluster.core.effects import (
    ANTI_ENTROPY,
    GOSSIP,
    HANDOFF,
    ClientId,
    Effect,
    Log,
    Reply,
    Send,
    SetTimer,
    Timer,
)
from cluster.core.gossip import Gossiper
from cluster.core.handoff import HandoffMachine
from cluster.core.journal import Journal
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
    Gossip,
    Handoff,
    HandoffAck,
    Ping,
    Reap,
    ReapQuery,
    ReapVote,
    ReplicaGet,
    ReplicaGetReply,
    ReplicaPut,
    ReplicaPutReply,
)
from cluster.core.placement import Placement
from cluster.core.reaper import Reaper
from cluster.core.replica import ReplicaData
from cluster.core.ring import Ring
from cluster.core.store import Store
from cluster.core.versions import Versioning, versioning
from cluster.core.vnode import Vnode

__all__ = ["ClientId", "Effect", "Log", "Node", "Reply", "Send", "SetTimer", "Timer"]

Handler = Callable[[ClientId | None, Any, float], list[Effect]]


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
    data: ReplicaData = field(init=False)
    _ctx: NodeContext = field(init=False)
    _clock: WallClock = field(init=False)
    _gossiper: Gossiper = field(init=False)
    _handoff: HandoffMachine = field(init=False)
    _anti_entropy: AntiEntropy = field(init=False)
    _reaper: Reaper = field(init=False)
    _coordinator: Coordinator = field(init=False)
    _vnode: Vnode = field(init=False)
    _handlers: dict[type[Any], Handler] = field(init=False)

    def __post_init__(self) -> None:
        config = self.config
        # Which partition a key is in depends on the partition count only, not on the owners.
        partition_of = Membership.initial(config.nodes, config.partitions).ring.partition_of
        self.data = ReplicaData(self.store, versioning(config.versioning), partition_of, self.name)
        ctx = self._ctx = NodeContext(
            self.name,
            self.generation,
            self.address,
            config,
            self.rng,
            self.data,
            journal=Journal(config.journal_events),
        )
        self._clock = WallClock(self.wall_offset_ms)
        # The gossiper asks the handoff machine (made next) whether batches are in flight.
        gossiper = self._gossiper = Gossiper(ctx, lambda: handoff.in_flight())
        handoff = self._handoff = HandoffMachine(ctx, gossiper)
        self._anti_entropy = AntiEntropy(ctx, gossiper)
        reaper = self._reaper = Reaper(ctx, gossiper, handoff.key_busy)
        coordinator = self._coordinator = Coordinator(ctx, gossiper, self._clock)
        vnode = self._vnode = Vnode(ctx)
        anti_entropy = self._anti_entropy

        def on_ack(sender: ClientId | None, msg: HandoffAck, now_ms: float) -> list[Effect]:
            # A leaving node may be done once its last batch is acknowledged.
            return handoff.on_ack(msg, now_ms) + gossiper.done_leaving()

        def peer(handle: Callable[[Any, float], list[Effect]]) -> Handler:
            return lambda sender, msg, now_ms: handle(msg, now_ms)

        self._handlers = {
            ClientGet: coordinator.on_client_get,
            ClientPut: coordinator.on_client_put,
            AdminRequest: self._on_admin,
            Forward: coordinator.on_forward,
            ForwardReply: coordinator.on_forward_reply,
            ReplicaGet: vnode.on_replica_get,
            ReplicaGetReply: coordinator.on_replica_get_reply,
            ReplicaPut: vnode.on_replica_put,
            ReplicaPutReply: coordinator.on_replica_put_reply,
            Ping: peer(gossiper.on_ping),
            Gossip: peer(gossiper.on_gossip),
            Handoff: peer(handoff.on_handoff),
            HandoffAck: on_ack,
            AaeNodes: peer(anti_entropy.on_message),
            AaeKeys: peer(anti_entropy.on_message),
            AaeSync: peer(anti_entropy.on_message),
            ReapQuery: peer(reaper.on_query),
            ReapVote: peer(reaper.on_vote),
            Reap: peer(reaper.on_reap),
        }

    # ------------------------------------------------------------------ the shell's entry points

    def start(self, now_ms: float) -> list[Effect]:
        self.data.load(now_ms)
        gossiper = self._gossiper
        gossiper.start_detectors(now_ms)
        membership = gossiper.membership
        status = membership.status(self.name)
        effects: list[Effect] = [
            Log(
                f"{self.name} generation {self.generation} starting as {status};"
                f" ring version {membership.ring_version}; {len(self.data.forest)} keys,"
                f" {self.data.hint_count} hints held"
            )
        ]
        self._ctx.journal.record(
            now_ms,
            "start",
            generation=self.generation,
            keys=len(self.data.forest),
            hints=self.data.hint_count,
            ring_version=membership.ring_version,
        )
        effects += gossiper.first_heartbeat(now_ms)
        # Spread the first rounds so that nodes started together do not move in lockstep.
        jitter, config = self._ctx.jitter, self.config
        effects.append(SetTimer(now_ms + jitter(config.gossip_interval_ms), GOSSIP))
        effects.append(SetTimer(now_ms + jitter(config.handoff_interval_ms), HANDOFF))
        if config.anti_entropy_interval_ms:
            interval = config.anti_entropy_interval_ms
            effects.append(SetTimer(now_ms + jitter(interval), ANTI_ENTROPY))
        return effects

    def on_message(self, sender: ClientId | None, msg: Any, now_ms: float) -> list[Effect]:
        """Handle one decoded message. ``sender`` is the client routing id for client and
        admin requests, None for peer messages (which name their ``src``)."""
        src = getattr(msg, "src", None)
        if type(src) is str and src != self.name:
            self._gossiper.heard_from(src, now_ms)
        handler = self._handlers.get(type(msg))
        if handler is None:
            return []
        try:
            effects: list[Effect] = handler(sender, msg, now_ms)
        except (ValueError, TypeError, KeyError) as err:
            if sender is not None:
                raise
            # A peer's message the node cannot digest (a bad state, a malformed entry): drop
            # it and say so, rather than let one peer's garbage stop the node.
            return self._ctx.log(f"dropped {type(msg).__name__} from {src}: {err}", "warning")
        return effects

    def on_timer(self, timer: Timer, now_ms: float) -> list[Effect]:
        kind = timer.kind
        if kind == "request":
            return self._coordinator.on_timer(now_ms)
        if kind == "heartbeat":
            return self._gossiper.heartbeat(now_ms)
        if kind == "gossip":
            return self._gossiper.on_timer(now_ms)
        if kind == "handoff":
            periodic = timer == HANDOFF
            effects = self._handoff.on_timer(now_ms, periodic)
            return effects + self._reaper.on_timer(now_ms) if periodic else effects
        if kind == "anti-entropy":
            return self._anti_entropy.on_timer(now_ms)
        return []

    def admin(self, op: str, args: dict[str, Any], now_ms: float) -> tuple[Any, list[Effect]]:
        """Run the admin command ``op`` (``cluster.core.admin``): its reply's data and its
        effects. Raises ``KeyError`` for an unknown op, and what the command raises for bad
        arguments (``KeyError``, ``TypeError``, ``ValueError``)."""
        command = admin.COMMANDS.get(op)
        if command is None:
            accepted = ", ".join(sorted(admin.COMMANDS))
            raise KeyError(f"unknown admin op {op!r}; accepted: {accepted}")
        parts = admin.NodeParts(
            self._ctx,
            self._clock,
            self._gossiper,
            self._handoff,
            self._reaper,
            self._coordinator,
        )
        return command(parts, args, now_ms)

    def _on_admin(self, sender: ClientId | None, msg: AdminRequest, now_ms: float) -> list[Effect]:
        assert sender is not None
        if msg.op not in admin.COMMANDS:
            accepted = ", ".join(sorted(admin.COMMANDS))
            error = f"unknown admin op {msg.op!r}; accepted: {accepted}"
            return [Reply(sender, AdminReply(msg.req, False, error=error))]
        try:
            data, effects = self.admin(msg.op, msg.args, now_ms)
        except (KeyError, TypeError, ValueError) as err:
            return [Reply(sender, AdminReply(msg.req, False, error=f"{msg.op}: {err}"))]
        return [*effects, Reply(sender, AdminReply(msg.req, True, data))]

    # ------------------------------------------------------------------ read-only views

    @property
    def journal(self) -> Journal:
        """This node's event journal (what the ``journal`` admin op reads)."""
        return self._ctx.journal

    @property
    def membership(self) -> Membership:
        return self._gossiper.membership

    @property
    def ring(self) -> Ring:
        return self._gossiper.membership.ring

    @property
    def placement(self) -> Placement:
        return self._gossiper.placement

    @property
    def versions(self) -> Versioning:
        """How this node's versions are made and merged (``config.versioning``)."""
        return self.data.versions

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        """The nodes this node can reach, itself included (``Gossiper.up_nodes``)."""
        return self._gossiper.up_nodes(now_ms)

    def wall_ms(self, now_ms: float) -> int:
        """This node's wall clock, which clock faults skew."""
        return self._clock.wall_ms(now_ms)

    def pending_requests(self) -> int:
        return self._coordinator.pending_count()

    def leave(self, node: str, now_ms: float, force: bool = False) -> list[Effect]:
        """Ask for ``node`` to leave the ring (admin ``leave``); gossip spreads it."""
        return self._gossiper.leave(node, force)
