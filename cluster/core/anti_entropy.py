"""Active anti-entropy: replicas of a partition compare Merkle trees and repair what differs
(Dynamo §4.7).

An exchange between two replicas A and B is a short conversation with no state kept between
messages — every step is answered from the current trees, so a write arriving mid-exchange only
adds work, and a lost message only ends the exchange early (the next round starts over):

1. A sends ``AaeNodes(level=0)``: the roots of every partition both replicate;
2. whoever receives ``AaeNodes`` compares each node with its own and answers with *its* hashes
   of the children of the nodes that differ (``AaeNodes(level+1)``), or, at the leaves, with
   the contents of the differing buckets (``AaeKeys``: key → state digest);
3. the receiver of ``AaeKeys`` finds the keys whose digests differ (or that one side lacks)
   and sends its states of them with ``want`` naming all of them (``AaeSync``);
4. the receiver of an ``AaeSync`` merges the states it got and, for the keys wanted, answers
   with its merged states (an ``AaeSync`` with nothing wanted), which the first side merges.

Both sides then hold the merge of the two for exactly the keys that differed. Messages carry
at most ``SYNC_KEYS`` states; keys beyond that are repaired by the next round. The step
functions read and write the node's ``ReplicaData`` and return the messages to send;
``AntiEntropy`` is the node's side: it opens exchanges on its timer and answers a peer's
steps. Store I/O only (through ``ReplicaData``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from cluster.core.context import NodeContext, Topology
from cluster.core.effects import ANTI_ENTROPY, Effect, Send, SetTimer
from cluster.core.messages import AaeKeys, AaeNodes, AaeSync
from cluster.core.replica import ReplicaData
from cluster.core.versions import Siblings

SYNC_KEYS = 500  # states per AaeSync message
MAX_SYNC_MESSAGES = 20  # per exchange step: at most this many AaeSync at once


def open_exchange(data: ReplicaData, me: str, partitions: Collection[int]) -> AaeNodes | None:
    """Step 1: the roots of ``partitions``; None if there are none to compare."""
    if not partitions:
        return None
    forest = data.forest
    return AaeNodes(me, 0, [[p, 0, forest.root(p).hex()] for p in sorted(partitions)])


def on_nodes(
    data: ReplicaData, me: str, mine: Collection[int], msg: AaeNodes
) -> AaeNodes | AaeKeys | None:
    """Step 2: answer a peer's hashes at ``msg.level`` with ours one level down where they
    differ. ``mine`` are the partitions this node replicates (others are ignored)."""
    forest = data.forest
    shape = forest.shape
    level = msg.level
    if not 0 <= level <= shape.depth:
        raise ValueError(f"aae-nodes: level {level} out of range 0..{shape.depth}")
    differing: list[tuple[int, int]] = []
    for entry in msg.nodes:
        partition, index, theirs = _node_entry(entry, shape.width(level))
        if partition in mine and forest.tree(partition).hash(level, index).hex() != theirs:
            differing.append((partition, index))
    if not differing:
        return None
    if level == shape.depth:
        buckets = [
            [p, i, {k: d.hex() for k, d in forest.tree(p).bucket(i).items()}] for p, i in differing
        ]
        return AaeKeys(me, buckets)
    children = [
        [p, child, forest.tree(p).hash(level + 1, child).hex()]
        for p, i in differing
        for child in shape.children(level, i)
    ]
    return AaeNodes(me, level + 1, children)


def on_keys(data: ReplicaData, me: str, mine: Collection[int], msg: AaeKeys) -> list[AaeSync]:
    """Step 3: the keys whose digests differ from the peer's buckets: send ours, want theirs."""
    forest = data.forest
    differing: list[str] = []
    for entry in msg.buckets:
        partition, index, theirs = _bucket_entry(entry, forest.shape.leaves)
        if partition not in mine:
            continue
        ours = {k: d.hex() for k, d in forest.tree(partition).bucket(index).items()}
        differing.extend(
            sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        )
    messages = []
    for start in range(0, min(len(differing), SYNC_KEYS * MAX_SYNC_MESSAGES), SYNC_KEYS):
        chunk = differing[start : start + SYNC_KEYS]
        messages.append(AaeSync(me, _states(data, chunk), want=chunk))
    return messages


def on_sync(
    data: ReplicaData,
    me: str,
    mine: Collection[int],
    msg: AaeSync,
    now_ms: float,
    synced: list[str] | None = None,
) -> AaeSync | None:
    """Step 4: merge the peer's states; answer with ours of the keys it wants. The keys whose
    state the merge changed are appended to ``synced`` when given."""
    incoming: list[tuple[str, Siblings]] = []
    for entry in msg.states:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise ValueError("aae-sync: each state must be [key, state]")
        if data.partition_of(entry[0]) in mine:
            incoming.append((entry[0], Siblings.from_json(entry[1])))  # all parsed first
    with data.transaction():
        for key, state in incoming:
            changed = data.merge(key, state, None, now_ms)[1]
            if changed and synced is not None:
                synced.append(key)
    wanted = [k for k in msg.want if isinstance(k, str) and data.partition_of(k) in mine]
    if not wanted:
        return None
    states = _states(data, wanted)
    return AaeSync(me, states) if states else None


def _states(data: ReplicaData, keys: list[str]) -> list[list[Any]]:
    """Our stored states of ``keys`` (keys we do not hold are left out)."""
    out: list[list[Any]] = []
    for key in keys:
        raw = data.raw(key)
        if raw is not None:
            out.append([key, raw])
    return out


def _node_entry(entry: Any, width: int) -> tuple[int, int, str]:
    if (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], int)
        and isinstance(entry[1], int)
        and 0 <= entry[1] < width
        and isinstance(entry[2], str)
    ):
        return entry[0], entry[1], entry[2]
    raise ValueError(f"aae-nodes: bad node {entry!r}: expected [partition, index, hash]")


def _bucket_entry(entry: Any, leaves: int) -> tuple[int, int, dict[str, str]]:
    if (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], int)
        and isinstance(entry[1], int)
        and 0 <= entry[1] < leaves
        and isinstance(entry[2], dict)
    ):
        return entry[0], entry[1], entry[2]
    raise ValueError(f"aae-keys: bad bucket {entry!r}: expected [partition, index, {{key: hash}}]")


# --------------------------------------------------------------------------- the node's side


@dataclass
class AntiEntropy:
    """One node's side of anti-entropy. It keeps no state between messages (see above)."""

    ctx: NodeContext
    topology: Topology

    def on_timer(self, now_ms: float) -> list[Effect]:
        """Open an exchange with every reachable peer this node shares partitions with."""
        ctx = self.ctx
        effects: list[Effect] = []
        placement = self.topology.placement
        for peer in sorted(self.topology.up_nodes(now_ms) - {ctx.name}):
            opening = open_exchange(ctx.data, ctx.name, placement.shared(ctx.name, peer))
            if opening is not None:
                effects.append(Send(peer, opening))
        interval = ctx.config.anti_entropy_interval_ms
        effects.append(SetTimer(now_ms + ctx.jitter(interval), ANTI_ENTROPY))
        return effects

    def on_message(self, msg: AaeNodes | AaeKeys | AaeSync, now_ms: float) -> list[Effect]:
        """Answer one step of an exchange a peer is having with this node."""
        data, me = self.ctx.data, self.ctx.name
        mine = self.topology.placement.replicated(me)
        answers: list[AaeNodes | AaeKeys | AaeSync | None]
        if isinstance(msg, AaeNodes):
            answers = [on_nodes(data, me, mine, msg)]
        elif isinstance(msg, AaeKeys):
            syncs = on_keys(data, me, mine, msg)
            answers = list(syncs)
            differing = [key for sync in syncs for key in sync.want]
            if differing:
                self.ctx.journal.record(now_ms, "aae-diff", peer=msg.src, keys=differing)
        else:
            synced: list[str] = []
            answers = [on_sync(data, me, mine, msg, now_ms, synced)]
            if synced:
                self.ctx.journal.record(now_ms, "aae-sync", peer=msg.src, keys=synced)
        return [Send(msg.src, answer) for answer in answers if answer is not None]
