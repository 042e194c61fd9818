"""Heartbeats and gossip: how a node keeps its failure detectors fed and its membership view
current (Dynamo §4.8). The membership value itself, and how views merge, is
``cluster.core.membership``; this module is the protocol around it, as functions of a node's state
(``NodeView``) that return the effects to carry out.

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
written to the store's metadata whenever it changes. Store I/O only; no network.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from cluster.core.effects import GOSSIP, HANDOFF_NOW, HEARTBEAT, Effect, Send, SetTimer
from cluster.core.failure_detector import PhiAccrual
from cluster.core.membership import Member, Membership
from cluster.core.messages import Gossip, Ping

if TYPE_CHECKING:
    from cluster.core.node_view import NodeView

MEMBERSHIP_META = "membership"


def restore(nodes: tuple[str, ...], partitions: int, saved: str | None) -> Membership:
    """The membership a node starts from: the initial one of ``nodes``, merged with what it
    stored before it stopped."""
    membership = Membership.initial(nodes, partitions)
    if saved is not None:
        membership = membership.merge(Membership.from_json(json.loads(saved)))
    return membership


def persist(view: NodeView, before: Membership | None) -> None:
    """Store the membership when what survives a restart changed (not the heartbeats)."""
    durable = view.membership.durable_json()
    if before is None or durable != before.durable_json():
        view.store.set_meta(MEMBERSHIP_META, json.dumps(durable, sort_keys=True))


def heartbeat(view: NodeView, now_ms: float) -> list[Effect]:
    ping = Ping(view.name, view.generation, view.membership.ring_version)
    effects: list[Effect] = [Send(peer, ping) for peer in view.membership.peers(view.name)]
    effects.append(SetTimer(now_ms + view.config.heartbeat_interval_ms, HEARTBEAT))
    return effects


def on_ping(view: NodeView, msg: Ping, now_ms: float) -> list[Effect]:
    effects = observe_generation(view, msg.src, msg.generation, now_ms)
    mine = view.membership.ring_version
    if msg.ring_version != mine and msg.src not in view.membership.left:
        # Rings differ: gossip with that peer now, asking for its state back when it has the
        # newer ring.
        state = view.membership.to_json()
        effects.append(Send(msg.src, Gossip(view.name, state, msg.ring_version > mine)))
    return effects


def observe_generation(view: NodeView, peer: str, generation: int, now_ms: float) -> list[Effect]:
    """Recognise a restarted peer by its higher generation: start its failure detector afresh
    (its old arrival history says nothing about the new process) and hand it what this node
    holds for it."""
    known = view.membership.members.get(peer)
    if known is not None and generation <= known.generation:
        return []
    before = 0 if known is None else known.generation
    address = "" if known is None else known.address
    members = {**view.membership.members, peer: Member(generation, 0, address)}
    view.membership = dataclasses.replace(view.membership, members=members)
    persist(view, None)
    if before == 0:
        return []
    fresh = PhiAccrual(float(view.config.heartbeat_interval_ms))
    fresh.heartbeat(now_ms)
    view.detectors[peer] = fresh
    effects = view.log(f"{peer} restarted (generation {before} -> {generation})")
    effects.append(SetTimer(now_ms, HANDOFF_NOW))
    return effects


def gossip_round(view: NodeView, now_ms: float) -> list[Effect]:
    me = view.name
    view.membership = view.membership.heartbeat(me, view.generation, view.address)
    up = view.up_nodes(now_ms)
    effects: list[Effect] = []
    claimed = view.membership.claim(me, up)
    if claimed is not None:
        effects += adopt(view, claimed, now_ms)
    effects += done_leaving(view)
    peers = [p for p in view.membership.peers(me) if p in up]
    seeds = [s for s in view.config.nodes if s != me and s not in view.membership.left]
    chosen = [view.rng.choice(peers)] if peers else []
    if seeds and (not chosen or chosen[0] not in seeds):
        chosen.append(view.rng.choice(seeds))
    state = view.membership.to_json()
    effects += [Send(peer, Gossip(me, state, True)) for peer in dict.fromkeys(chosen)]
    effects.append(SetTimer(now_ms + view.jitter(view.config.gossip_interval_ms), GOSSIP))
    return effects


def on_gossip(view: NodeView, msg: Gossip, now_ms: float) -> list[Effect]:
    incoming = Membership.from_json(msg.state)
    effects: list[Effect] = []
    for name, member in incoming.members.items():
        if name != view.name:
            effects += observe_generation(view, name, member.generation, now_ms)
    effects += adopt(view, view.membership.merge(incoming), now_ms)
    if msg.reply:
        effects.append(Send(msg.src, Gossip(view.name, view.membership.to_json(), False)))
    return effects


def adopt(view: NodeView, membership: Membership, now_ms: float) -> list[Effect]:
    """Take ``membership`` as the node's view; log and act on what changed."""
    before = view.membership
    # A node never takes another's word for its own state (a stale generation, say).
    own = membership.members.get(view.name)
    mine = before.members[view.name]
    if own is None or own < mine:
        membership = dataclasses.replace(
            membership, members={**membership.members, view.name: mine}
        )
    view.membership = membership
    persist(view, before)
    effects: list[Effect] = []
    if membership.ring_version != before.ring_version or membership.ring != before.ring:
        moved = sum(
            1 for a, b in zip(before.ring.owners, membership.ring.owners, strict=True) if a != b
        )
        effects += view.log(
            f"ring version {membership.ring_version}: {moved} partitions changed owner;"
            f" members {', '.join(membership.ring.nodes)}"
        )
        for peer in membership.peers(view.name):
            view.detector(peer, now_ms)
        effects.append(SetTimer(now_ms, HANDOFF_NOW))  # partitions may have to move
    for name in sorted(membership.leaving - before.leaving):
        effects += view.log(f"{name} is leaving")
    for name in sorted(membership.left - before.left):
        effects += view.log(f"{name} has left")
        view.detectors.pop(name, None)
    return effects


def done_leaving(view: NodeView) -> list[Effect]:
    """A leaving node that is out of the ring and has handed everything off has left."""
    m = view.membership
    if view.name not in m.leaving or view.name in m.left or view.name in m.ring.owners:
        return []
    if len(view.data.forest) or view.data.hint_count or view.handoffs.batches:
        return []
    view.membership = m.mark_left(view.name)
    persist(view, m)
    effects = view.log(f"{view.name} handed off all its data and has left the cluster")
    return effects + _tell_everyone(view, m.peers(view.name))


def leave(view: NodeView, node: str, force: bool = False) -> list[Effect]:
    """Ask for ``node`` to leave the ring, and tell every peer at once. ``force`` is for a
    node that is down for good: it is marked as gone at once, without handing anything off
    (its replicas elsewhere, anti-entropy and read repair restore the replication)."""
    before = view.membership
    view.membership = before.leave(node)
    if force:
        view.membership = view.membership.mark_left(node)
    persist(view, before)
    effects = view.log(f"{node} asked to leave" + (" (removed without handoff)" if force else ""))
    return effects + _tell_everyone(view, before.peers(view.name))


def _tell_everyone(view: NodeView, peers: list[str]) -> list[Effect]:
    """Push the membership to ``peers`` now rather than wait for gossip rounds."""
    state = view.membership.to_json()
    return [Send(p, Gossip(view.name, state, False)) for p in peers]
