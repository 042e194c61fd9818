"""Heartbeats and gossip: how a node keeps its failure detectors fed and its membership view
current (Dynamo §4.8). The membership value itself, and how views merge, is
``cluster.core.membership``; this module is the protocol around it: the ``Gossiper``, which owns
the node's membership view, its failure detectors and the cached set of reachable peers, takes
pings, gossip and its timers, and returns the effects to carry out. It answers the other
sub-machines' ``Topology`` questions (who is up, where partitions belong).

- Every ``heartbeat_interval_ms`` a node pings every peer directly. Each arrival from a peer —
  ping, gossip, request, reply — feeds that peer's phi-accrual detector, so "up" means "this
  node hears from it", which is what the sloppy quorum needs.
- Every ``gossip_interval_ms`` (with jitter) a node bumps its own heartbeat version, lets the
  claimant apply pending joins and leaves, and does a push-pull gossip round with a random
  reachable peer, and with a seed when that peer is not one (seeds join views that would
  otherwise stay apart, §4.8.2).
- A ping carries the sender's generation and ring version: a higher generation is a restart
  (the peer's detector starts afresh and handoff is kicked), a different ring version starts a
  gossip exchange at once rather than at the next random round.

The membership that must survive a restart (ring, generations, addresses, leaving, left) is
written to the node's metadata (through ``ReplicaData``) whenever it changes. Store I/O only;
no network.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from cluster.core.context import NodeContext
from cluster.core.effects import GOSSIP, HANDOFF_NOW, HEARTBEAT, Effect, Send, SetTimer
from cluster.core.failure_detector import MAX_QUANTILE_THRESHOLD, PhiAccrual
from cluster.core.membership import Member, Membership
from cluster.core.messages import Gossip, Ping
from cluster.core.placement import Placement
from cluster.core.ring import Ring

MEMBERSHIP_META = "membership"


def restore(nodes: tuple[str, ...], partitions: int, saved: str | None) -> Membership:
    """The membership a node starts from: the initial one of ``nodes``, merged with what it
    stored before it stopped."""
    membership = Membership.initial(nodes, partitions)
    if saved is not None:
        membership = membership.merge(Membership.from_json(json.loads(saved)))
    return membership


@dataclass
class Gossiper:
    """One node's membership view and failure detectors, and the protocol that keeps them
    current. ``handing_off`` says whether handoff batches are in flight (a leaving node has
    not left while they are)."""

    ctx: NodeContext
    handing_off: Callable[[], bool]
    _membership: Membership = field(init=False)
    detectors: dict[str, PhiAccrual] = field(init=False, default_factory=dict)
    _placement: Placement = field(init=False)
    # ``up_nodes``' last answer, until when it holds, and the membership it was judged for.
    _up: frozenset[str] | None = field(init=False, default=None)
    _up_until_ms: float = field(init=False, default=-math.inf)
    _up_known: list[str] | None = field(init=False, default=None)  # the nodes ``_up`` judged
    _last_up: frozenset[str] = field(init=False, default=frozenset())  # for peer-up/-down events

    def __post_init__(self) -> None:
        ctx = self.ctx
        saved = ctx.data.get_meta(MEMBERSHIP_META)
        membership = restore(ctx.config.nodes, ctx.config.partitions, saved)
        # A node that left and is started again has a new generation, so it is a joiner again.
        self._membership = membership.heartbeat(ctx.name, ctx.generation, ctx.address)
        self._placement = Placement(self._membership.ring, ctx.config.n)

    # ------------------------------------------------------------------ queries (Topology)

    @property
    def membership(self) -> Membership:
        return self._membership

    @property
    def ring(self) -> Ring:
        return self._membership.ring

    @property
    def placement(self) -> Placement:
        ring = self._membership.ring
        if self._placement.ring is not ring and self._placement.ring != ring:
            self._placement = Placement(ring, self.ctx.config.n)
        return self._placement

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        """The nodes this node can reach, itself included: judged on direct arrivals only, so
        a node cut off from a peer suspects it even if gossip through others says it lives
        (the sloppy quorum needs reachability, not liveness).

        Every coordinated request asks, so the answer is kept until it may change: until the
        first up peer's silence would make it suspected, until a suspected peer speaks
        (``heard_from``), or until the nodes the membership knows change."""
        up = self._up
        known = self._membership.known
        # A new membership value (every gossip round makes one) mostly knows the same nodes.
        if up is not None and now_ms < self._up_until_ms and self._up_known == known:
            return up
        me = self.ctx.name
        found = {me}
        until = math.inf
        threshold = self.ctx.config.phi_threshold
        for peer in self._membership.peers(me):
            detector = self.detectors.get(peer)
            if detector is not None and detector.is_available(now_ms, threshold):
                found.add(peer)
                until = min(until, detector.suspect_at_ms(threshold))
        up = self._up = frozenset(found)
        if up != self._last_up:
            self._journal_up_changes(up, now_ms)
        # A threshold outside the quantile's range is judged by phi itself: no caching.
        self._up_until_ms = until if 0.0 < threshold <= MAX_QUANTILE_THRESHOLD else -math.inf
        self._up_known = known
        return up

    def _journal_up_changes(self, up: frozenset[str], now_ms: float) -> None:
        """Record the peers that went down or came up since the last answer (the first
        answer after start counts every peer as going from up to what it is)."""
        before = self._last_up or frozenset(self._membership.peers(self.ctx.name)) | {self.ctx.name}
        journal = self.ctx.journal
        for peer in sorted(before - up):
            journal.record(now_ms, "peer-down", peer=peer)
        for peer in sorted(up - before):
            journal.record(now_ms, "peer-up", peer=peer)
        self._last_up = up

    # ------------------------------------------------------------------ failure detection

    def detector(self, peer: str, now_ms: float) -> PhiAccrual:
        """The failure detector of ``peer`` (created, and started at ``now_ms``, if new)."""
        detector = self.detectors.get(peer)
        if detector is None:
            detector = PhiAccrual(float(self.ctx.config.heartbeat_interval_ms))
            detector.start(now_ms)
            self.detectors[peer] = detector
        return detector

    def phi(self, peer: str, now_ms: float) -> float | None:
        """How strongly ``peer`` is suspected (rounded, for status), or None if unwatched."""
        detector = self.detectors.get(peer)
        return None if detector is None else round(min(detector.phi(now_ms), 1e9), 2)

    def heard_from(self, src: str, now_ms: float) -> None:
        """Something arrived from ``src``: feed its detector."""
        detector = self.detectors.get(src)
        if detector is None:
            detector = self.detector(src, now_ms)
        detector.heartbeat(now_ms)
        up = self._up
        if up is not None and src not in up:
            self._up = None  # a suspected peer spoke: it may be up again

    # ------------------------------------------------------------------ the protocol

    def start_detectors(self, now_ms: float) -> None:
        """On start: a detector for every peer, so a silent one is suspected in time."""
        for peer in self._membership.peers(self.ctx.name):
            self.detector(peer, now_ms)

    def first_heartbeat(self, now_ms: float) -> list[Effect]:
        """On start: the first pings, and the membership stored as the node starts with it."""
        effects = self.heartbeat(now_ms)
        self._persist(None)
        return effects

    def _persist(self, before: Membership | None) -> None:
        """Store the membership when what survives a restart changed (not the heartbeats)."""
        membership = self._membership
        if before is None or not membership.durably_equal(before):
            self.ctx.data.set_meta(MEMBERSHIP_META, membership.durable_text())

    def heartbeat(self, now_ms: float) -> list[Effect]:
        ctx = self.ctx
        ping = Ping(ctx.name, ctx.generation, self._membership.ring_version)
        effects: list[Effect] = [Send(peer, ping) for peer in self._membership.peers(ctx.name)]
        effects.append(SetTimer(now_ms + ctx.config.heartbeat_interval_ms, HEARTBEAT))
        return effects

    def on_ping(self, msg: Ping, now_ms: float) -> list[Effect]:
        effects = self._observe_generation(msg.src, msg.generation, now_ms)
        mine = self._membership.ring_version
        if msg.ring_version != mine and msg.src not in self._membership.left:
            # Rings differ: gossip with that peer now, asking for its state back when it has
            # the newer ring.
            state = self._membership.to_json()
            effects.append(Send(msg.src, Gossip(self.ctx.name, state, msg.ring_version > mine)))
        return effects

    def _observe_generation(self, peer: str, generation: int, now_ms: float) -> list[Effect]:
        """Recognise a restarted peer by its higher generation: start its failure detector
        afresh (its old arrival history says nothing about the new process) and hand it what
        this node holds for it."""
        known = self._membership.members.get(peer)
        if known is not None and generation <= known.generation:
            return []
        before = 0 if known is None else known.generation
        address = "" if known is None else known.address
        members = {**self._membership.members, peer: Member(generation, 0, address)}
        self._membership = dataclasses.replace(self._membership, members=members)
        self._persist(None)
        if before == 0:
            return []
        fresh = PhiAccrual(float(self.ctx.config.heartbeat_interval_ms))
        fresh.heartbeat(now_ms)
        self.detectors[peer] = fresh
        self.ctx.journal.record(now_ms, "peer-restarted", peer=peer, generation=generation)
        effects = self.ctx.log(f"{peer} restarted (generation {before} -> {generation})")
        effects.append(SetTimer(now_ms, HANDOFF_NOW))
        return effects

    def on_timer(self, now_ms: float) -> list[Effect]:
        """A gossip round."""
        ctx = self.ctx
        me = ctx.name
        self._membership = self._membership.heartbeat(me, ctx.generation, ctx.address)
        up = self.up_nodes(now_ms)
        effects: list[Effect] = []
        claimed = self._membership.claim(me, up)
        if claimed is not None:
            effects += self._adopt(claimed, now_ms)
        effects += self.done_leaving()
        membership = self._membership
        peers = [p for p in membership.peers(me) if p in up]
        seeds = [s for s in ctx.config.nodes if s != me and s not in membership.left]
        chosen = [ctx.rng.choice(peers)] if peers else []
        if seeds and (not chosen or chosen[0] not in seeds):
            chosen.append(ctx.rng.choice(seeds))
        state = membership.to_json()
        effects += [Send(peer, Gossip(me, state, True)) for peer in dict.fromkeys(chosen)]
        effects.append(SetTimer(now_ms + ctx.jitter(ctx.config.gossip_interval_ms), GOSSIP))
        return effects

    def on_gossip(self, msg: Gossip, now_ms: float) -> list[Effect]:
        incoming = Membership.from_json(msg.state)
        effects: list[Effect] = []
        for name, member in incoming.members.items():
            if name != self.ctx.name:
                effects += self._observe_generation(name, member.generation, now_ms)
        effects += self._adopt(self._membership.merge(incoming), now_ms)
        if msg.reply:
            reply = Gossip(self.ctx.name, self._membership.to_json(), False)
            effects.append(Send(msg.src, reply))
        return effects

    def _adopt(self, membership: Membership, now_ms: float) -> list[Effect]:
        """Take ``membership`` as the node's view; log and act on what changed."""
        ctx = self.ctx
        before = self._membership
        # A node never takes another's word for its own state (a stale generation, say).
        own = membership.members.get(ctx.name)
        mine = before.members[ctx.name]
        if own is None or own < mine:
            membership = dataclasses.replace(
                membership, members={**membership.members, ctx.name: mine}
            )
        self._membership = membership
        self._persist(before)
        effects: list[Effect] = []
        if membership.ring_version != before.ring_version or membership.ring != before.ring:
            moved = sum(
                1 for a, b in zip(before.ring.owners, membership.ring.owners, strict=True) if a != b
            )
            ctx.journal.record(
                now_ms,
                "ring-changed",
                version=membership.ring_version,
                moved=moved,
                members=list(membership.ring.nodes),
            )
            effects += ctx.log(
                f"ring version {membership.ring_version}: {moved} partitions changed owner;"
                f" members {', '.join(membership.ring.nodes)}"
            )
            for peer in membership.peers(ctx.name):
                self.detector(peer, now_ms)
            effects.append(SetTimer(now_ms, HANDOFF_NOW))  # partitions may have to move
        for name in sorted(membership.leaving - before.leaving):
            effects += ctx.log(f"{name} is leaving")
        for name in sorted(membership.left - before.left):
            effects += ctx.log(f"{name} has left")
            self.detectors.pop(name, None)
        return effects

    def done_leaving(self) -> list[Effect]:
        """A leaving node that is out of the ring and has handed everything off has left."""
        ctx = self.ctx
        m = self._membership
        if ctx.name not in m.leaving or ctx.name in m.left or ctx.name in m.ring.owners:
            return []
        if len(ctx.data.forest) or ctx.data.hint_count or self.handing_off():
            return []
        self._membership = m.mark_left(ctx.name)
        self._persist(m)
        effects = ctx.log(f"{ctx.name} handed off all its data and has left the cluster")
        return effects + self._tell_everyone(m.peers(ctx.name))

    def leave(self, node: str, force: bool = False) -> list[Effect]:
        """Ask for ``node`` to leave the ring, and tell every peer at once. ``force`` is for a
        node that is down for good: it is marked as gone at once, without handing anything off
        (its replicas elsewhere, anti-entropy and read repair restore the replication); asking
        again is how an operator (or ``LocalCluster.leave``) makes a removal stick that a newer
        generation of the node, gossiped by a peer, undid (``Membership.remove``)."""
        before = self._membership
        self._membership = before.remove(node) if force else before.leave(node)
        self._persist(before)
        forced = " (removed without handoff)" if force else ""
        effects = self.ctx.log(f"{node} asked to leave{forced}")
        return effects + self._tell_everyone(before.peers(self.ctx.name))

    def _tell_everyone(self, peers: list[str]) -> list[Effect]:
        """Push the membership to ``peers`` now rather than wait for gossip rounds."""
        state = self._membership.to_json()
        return [Send(p, Gossip(self.ctx.name, state, False)) for p in peers]
