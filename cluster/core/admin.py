"""Admin commands a node answers (``AdminRequest.op``): what ``zynamo cluster status`` and the
tests read, and the few operations an operator performs (leave, clock skew).

Each command takes the node's sub-machines (``NodeParts``), the request's arguments and the time,
and returns the reply's data and any effects (gossip to send, log lines); ``Node.admin`` is the
entry point. Reads the machines' state through their public queries; the store I/O it does goes
through the node's ``ReplicaData``. No network.

- ``ping`` — name and generation;
- ``status`` — this node's view: every peer up or down with its phi, the generation and
  heartbeat version gossip reports for it and its membership status; ring version; keys,
  tombstones and hints held; handoffs in flight and done; recent events;
- ``ring`` — the partition owners and the ring version; ``members`` — the gossiped state;
- ``replica`` ``{key}`` — the raw state this node holds for a key (main table and hints);
- ``keys`` — the keys of the main table; ``hints`` — hinted keys by owner;
- ``merkle`` — the Merkle root of every partition this node replicates (cheap convergence
  checks: replicas of a partition agree exactly when their roots do);
- ``leave`` ``{node, force?}`` — ask for ``node`` to leave the ring (``force``: it is down for
  good, forget it without waiting for its handoff);
- ``clock`` ``{offset_ms | bump_ms}`` — clock faults;
- ``journal`` ``{since?, limit?}`` — the node's protocol events after sequence ``since``
  (``cluster.core.journal``), with what a reader needs to place them in time: the node's
  monotonic ``now_ms`` and unskewed ``wall_ms`` at the call, its generation, and ``first_seq``
  (events before it fell off the ring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cluster.core.context import NodeContext, WallClock
from cluster.core.coordinator import Coordinator
from cluster.core.effects import Effect
from cluster.core.gossip import Gossiper
from cluster.core.handoff import HandoffMachine
from cluster.core.journal import MAX_READ
from cluster.core.reaper import Reaper


@dataclass(frozen=True)
class NodeParts:
    """The sub-machines of one node, as the admin commands read them."""

    ctx: NodeContext
    clock: WallClock
    gossiper: Gossiper
    handoff: HandoffMachine
    reaper: Reaper
    coordinator: Coordinator


Result = tuple[Any, list[Effect]]
Command = Callable[[NodeParts, dict[str, Any], float], Result]


def _string_arg(args: dict[str, Any], name: str) -> str:
    value = args[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def ping(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    return {"node": parts.ctx.name, "generation": parts.ctx.generation}, []


def status(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    ctx = parts.ctx
    up = parts.gossiper.up_nodes(now_ms)
    membership = parts.gossiper.membership
    peers = {}
    for peer in sorted(set(membership.members) - {ctx.name}):
        member = membership.members[peer]
        phi = parts.gossiper.phi(peer, now_ms)
        peers[peer] = {
            "up": peer in up,
            "phi": phi,
            "generation": member.generation,
            "version": member.version,
            "status": membership.status(peer),
        }
    data = ctx.data
    return {
        "node": ctx.name,
        "generation": ctx.generation,
        "status": membership.status(ctx.name),
        "ring_version": membership.ring_version,
        "up": sorted(up),
        "phi": {p: v["phi"] for p, v in peers.items() if v["phi"] is not None},
        "peers": peers,
        "keys": len(data.forest),
        "tombstones": len(data.tombstones),
        "hints": {owner: len(data.hint_keys[owner]) for owner in data.hint_owners()},
        "handoffs_in_flight": parts.handoff.batches_in_flight(),
        "handed_off": parts.handoff.delivered,
        "reaped": parts.reaper.reaped,
        "pending_requests": parts.coordinator.pending_count(),
        "clock_skew_ms": parts.clock.skew_ms,
        "events": list(ctx.events),
        "config": ctx.config.to_json(),
    }, []


def ring(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    membership = parts.gossiper.membership
    return {**membership.ring.to_json(), "version": membership.ring_version}, []


def members(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    return parts.gossiper.membership.to_json(), []


def replica(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    key = _string_arg(args, "key")
    data = parts.ctx.data
    state = data.get(key)
    hints = {}
    for owner, raw in data.hints_for(key):
        hint = data.get(key, owner)
        hints[owner] = {"values": hint.values, "tombstone": hint.is_tombstone, "state": raw}
    return {
        "key": key,
        "node": parts.ctx.name,
        "values": state.values,
        "tombstone": state.is_tombstone,
        "empty": state.is_empty,
        "clocks": data.versions.clocks(state),
        "state": state.to_json(),
        "hints": hints,
    }, []


def keys(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    return list(parts.ctx.data.keys()), []


def hints(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    data = parts.ctx.data
    return {owner: sorted(data.hint_keys[owner]) for owner in data.hint_owners()}, []


def merkle(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    data = parts.ctx.data
    forest = data.forest
    mine = parts.gossiper.placement.replicated(parts.ctx.name)
    roots = {str(p): forest.root(p).hex() for p in sorted(mine)}
    return {
        "node": parts.ctx.name,
        "ring_version": parts.gossiper.membership.ring_version,
        "roots": roots,
        "keys": len(forest),
        "hints": data.hint_count,
        # Partitions held but no longer replicated: not yet handed to their new owners.
        "misplaced": [p for p in forest.partitions() if p not in mine],
    }, []


def leave(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    name = _string_arg(args, "node")
    force = args.get("force", False)
    if not isinstance(force, bool):
        raise TypeError("force must be true or false")
    effects = parts.gossiper.leave(name, force)
    membership = parts.gossiper.membership
    return {
        "leaving": sorted(membership.leaving),
        "ring_version": membership.ring_version,
    }, effects


def clock(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    """Clock faults: ``{"offset_ms": x}`` sets the skew, ``{"bump_ms": x}`` adds to it,
    ``{"drift_ppm": x}`` makes the clock run x parts per million fast (x < 0: slow) from now
    on. With ``drift_ppm``, ``offset_ms`` sets the skew after the drift so far is folded in (so
    ``{"offset_ms": 0, "drift_ppm": 0}`` puts the clock right)."""
    wall = parts.clock
    if "drift_ppm" in args:
        wall.set_drift(float(args["drift_ppm"]), now_ms)
    if "offset_ms" in args:
        wall.set_skew(float(args["offset_ms"]))
    if "bump_ms" in args:
        wall.bump_skew(float(args["bump_ms"]))
    reply = {"clock_skew_ms": wall.skew_ms, "clock_drift_ppm": wall.drift_ppm}
    return {**reply, "wall_ms": wall.wall_ms(now_ms)}, []


def journal(parts: NodeParts, args: dict[str, Any], now_ms: float) -> Result:
    since = args.get("since", 0)
    limit = args.get("limit", MAX_READ)
    for name, value in (("since", since), ("limit", limit)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TypeError(f"{name} must be a non-negative integer")
    log = parts.ctx.journal
    return {
        "node": parts.ctx.name,
        "generation": parts.ctx.generation,
        "enabled": log.enabled,
        "now_ms": now_ms,
        # The wall clock without the injected skew: monotonic now + the shell's offset.
        "wall_ms": now_ms + parts.clock.offset_ms,
        "first_seq": log.first_seq,
        "last_seq": log.last_seq,
        "events": log.since(since, min(limit, MAX_READ)),
    }, []


COMMANDS: dict[str, Command] = {
    "ping": ping,
    "status": status,
    "ring": ring,
    "members": members,
    "replica": replica,
    "keys": keys,
    "hints": hints,
    "merkle": merkle,
    "leave": leave,
    "clock": clock,
    "journal": journal,
}
