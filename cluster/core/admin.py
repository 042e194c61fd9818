"""Admin commands a node answers (``AdminRequest.op``): what ``zynamo cluster status`` and the
tests read, and the few operations an operator performs (leave, clock skew).

Each command takes the node, the request's arguments and the time, and returns the reply's data
and any effects (gossip to send, log lines). Reads the node's state; the store I/O it does goes
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
- ``clock`` ``{offset_ms | bump_ms}`` — clock faults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cluster.core.effects import Effect

if TYPE_CHECKING:
    from cluster.core.node import Node

Result = tuple[Any, list[Effect]]
Command = Callable[["Node", dict[str, Any], float], Result]


def _string_arg(args: dict[str, Any], name: str) -> str:
    value = args[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def ping(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    return {"node": node.name, "generation": node.generation}, []


def status(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    up = node.up_nodes(now_ms)
    membership = node.membership
    peers = {}
    for peer in sorted(set(membership.members) - {node.name}):
        member = membership.members[peer]
        detector = node.detectors.get(peer)
        phi = None if detector is None else round(min(detector.phi(now_ms), 1e9), 2)
        peers[peer] = {
            "up": peer in up,
            "phi": phi,
            "generation": member.generation,
            "version": member.version,
            "status": membership.status(peer),
        }
    data = node.data
    return {
        "node": node.name,
        "generation": node.generation,
        "status": membership.status(node.name),
        "ring_version": membership.ring_version,
        "up": sorted(up),
        "phi": {p: v["phi"] for p, v in peers.items() if v["phi"] is not None},
        "peers": peers,
        "keys": len(data.forest),
        "tombstones": len(data.tombstones),
        "hints": {owner: len(data.hint_keys[owner]) for owner in data.hint_owners()},
        "handoffs_in_flight": len(node.handoffs.batches),
        "handed_off": node.handoffs.delivered,
        "reaped": node.reaper.reaped,
        "pending_requests": node.pending_requests(),
        "clock_skew_ms": node.clock_skew_ms,
        "events": list(node.events),
        "config": node.config.to_json(),
    }, []


def ring(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    return {**node.ring.to_json(), "version": node.membership.ring_version}, []


def members(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    return node.membership.to_json(), []


def replica(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    key = _string_arg(args, "key")
    state = node.data.get(key)
    hints = {}
    for owner, raw in node.store.hints_for(key):
        hint = node.data.get(key, owner)
        hints[owner] = {"values": hint.values, "tombstone": hint.is_tombstone, "state": raw}
    return {
        "key": key,
        "node": node.name,
        "values": state.values,
        "tombstone": state.is_tombstone,
        "empty": state.is_empty,
        "clocks": node.versions.clocks(state),
        "state": state.to_json(),
        "hints": hints,
    }, []


def keys(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    return list(node.store.keys()), []


def hints(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    data = node.data
    return {owner: sorted(data.hint_keys[owner]) for owner in data.hint_owners()}, []


def merkle(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    forest = node.data.forest
    mine = node.placement.replicated(node.name)
    roots = {str(p): forest.root(p).hex() for p in sorted(mine)}
    return {
        "node": node.name,
        "ring_version": node.membership.ring_version,
        "roots": roots,
        "keys": len(forest),
        "hints": node.data.hint_count,
        # Partitions held but no longer replicated: not yet handed to their new owners.
        "misplaced": [p for p in forest.partitions() if p not in mine],
    }, []


def leave(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    name = _string_arg(args, "node")
    force = args.get("force", False)
    if not isinstance(force, bool):
        raise TypeError("force must be true or false")
    effects = node.leave(name, now_ms, force)
    return {
        "leaving": sorted(node.membership.leaving),
        "ring_version": node.membership.ring_version,
    }, effects


def clock(node: Node, args: dict[str, Any], now_ms: float) -> Result:
    """Clock faults: ``{"offset_ms": x}`` sets the skew, ``{"bump_ms": x}`` adds to it."""
    if "offset_ms" in args:
        node.clock_skew_ms = float(args["offset_ms"])
    if "bump_ms" in args:
        node.clock_skew_ms += float(args["bump_ms"])
    return {"clock_skew_ms": node.clock_skew_ms, "wall_ms": node.wall_ms(now_ms)}, []


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
}
