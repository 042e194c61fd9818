"""Hinted handoff and ownership handoff: which states to hand to whom, and when a copy may go.

Two kinds of handoff move states into another node's main table, in batches (``Handoff``
messages, acknowledged by ``HandoffAck``):

- **hints** (Dynamo §4.6): a fallback that stored a write on behalf of a down primary hands it
  to that primary once it is up again, then deletes the hint;
- **transfers** (§4.9): a node that holds keys of a partition it no longer replicates (after a
  join or a leave changed the ring) hands them to every current primary of the partition, then
  deletes them. A node that is *leaving* does not wait for a down primary (nor a down hint
  owner): it hands that copy to a stand-in, the next up node of the partition's walk, which
  holds it as misplaced data and hands it on like any transfer once every primary is up.

The rule that keeps acknowledged writes: a copy is deleted only after *every* target
acknowledged merging it, and only if it did not change since it was sent (its digest is the
same); otherwise it stays and goes again next round. ``Handoffs`` tracks batches in flight
(pure); ``HandoffMachine`` is the node's side of the protocol: it owns the ``Handoffs``, takes
its rounds (timers), ``Handoff`` and ``HandoffAck`` messages, reads the states to send from the
node's ``ReplicaData`` and returns the messages. Store I/O only: no network, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from cluster.core.context import NodeContext, Topology
from cluster.core.effects import HANDOFF as HANDOFF_TIMER
from cluster.core.effects import Effect, Send, SetTimer
from cluster.core.messages import Handoff, HandoffAck
from cluster.core.replica import raw_digest
from cluster.core.versions import Siblings

BATCH_KEYS = 200  # states per Handoff message
MAX_IN_FLIGHT = 2  # batches outstanding per target, so a slow target is not flooded
BATCH_TIMEOUT_MS = 2000  # a batch not fully acknowledged by then is forgotten and resent later

HINT = "hint"
TRANSFER = "transfer"


@dataclass
class Batch:
    """One batch of states sent to ``targets``; ``digests`` are the states' as sent."""

    req: int
    kind: str  # HINT or TRANSFER
    owner: str | None  # HINT: whose hints these are (the owner is the one target)
    digests: dict[str, bytes]
    waiting: set[str]
    sent_ms: float
    failed: bool = False
    targets: tuple[str, ...] = ()  # every target, acknowledged or not (for the journal)


@dataclass
class Handoffs:
    """Batches in flight, and which keys they cover (a key is never in two at once)."""

    batches: dict[int, Batch] = field(default_factory=dict)
    _busy: set[tuple[str, str | None, str]] = field(default_factory=set)
    _busy_keys: Counter[str] = field(default_factory=Counter)

    def busy(self, kind: str, owner: str | None, key: str) -> bool:
        return (kind, owner, key) in self._busy

    def key_busy(self, key: str) -> bool:
        """Whether some copy of ``key`` is in a batch in flight."""
        return self._busy_keys[key] > 0

    def in_flight(self, target: str) -> int:
        return sum(1 for b in self.batches.values() if target in b.waiting)

    def has_room(self, target: str) -> bool:
        return self.in_flight(target) < MAX_IN_FLIGHT

    def start(
        self,
        req: int,
        kind: str,
        owner: str | None,
        digests: dict[str, bytes],
        targets: Iterable[str],
        now_ms: float,
    ) -> Batch:
        chosen = tuple(sorted(targets))
        batch = Batch(req, kind, owner, dict(digests), set(chosen), now_ms, targets=chosen)
        if not batch.waiting:
            raise ValueError("a handoff batch needs at least one target")
        self.batches[req] = batch
        self._busy.update((kind, owner, key) for key in digests)
        self._busy_keys.update(digests.keys())
        return batch

    def ack(self, req: int, src: str, ok: bool) -> Batch | None:
        """Count ``src``'s acknowledgement; the batch once every target acknowledged it (the
        caller then deletes its unchanged copies), or once it is known to have failed."""
        batch = self.batches.get(req)
        if batch is None or src not in batch.waiting:
            return None
        batch.waiting.discard(src)
        batch.failed = batch.failed or not ok
        if batch.waiting and not batch.failed:
            return None
        self._finish(batch)
        return batch

    def expire(self, now_ms: float, timeout_ms: float = BATCH_TIMEOUT_MS) -> list[Batch]:
        """Forget batches older than ``timeout_ms``: their keys go again next round."""
        old = [b for b in self.batches.values() if now_ms - b.sent_ms >= timeout_ms]
        for batch in old:
            batch.failed = True
            self._finish(batch)
        return old

    def _finish(self, batch: Batch) -> None:
        self.batches.pop(batch.req, None)
        self._busy.difference_update((batch.kind, batch.owner, key) for key in batch.digests)
        self._busy_keys.subtract(batch.digests.keys())
        self._busy_keys += Counter()  # drop the keys that reached zero


Outgoing = list[tuple[str, Handoff]]


@dataclass
class HandoffMachine:
    """One node's handoffs: the batches in flight, and the protocol that sends and
    acknowledges them."""

    ctx: NodeContext
    topology: Topology
    handoffs: Handoffs = field(default_factory=Handoffs)
    delivered: int = 0  # states deleted after a complete handoff (for status and benchmarks)

    def in_flight(self) -> bool:
        """Whether some batch still waits for acknowledgements."""
        return bool(self.handoffs.batches)

    def batches_in_flight(self) -> int:
        return len(self.handoffs.batches)

    def key_busy(self, key: str) -> bool:
        """Whether some copy of ``key`` is in a batch in flight."""
        return self.handoffs.key_busy(key)

    def on_timer(self, now_ms: float, periodic: bool) -> list[Effect]:
        """A handoff round: forget stale batches (periodic rounds only) and send what is
        owed."""
        effects: list[Effect] = []
        if periodic:
            self.handoffs.expire(now_ms)
            interval = self.ctx.config.handoff_interval_ms
            effects.append(SetTimer(now_ms + self.ctx.jitter(interval), HANDOFF_TIMER))
        return effects + self._plan(now_ms)

    def _plan(self, now_ms: float) -> list[Effect]:
        up = self.topology.up_nodes(now_ms)
        outgoing = self._plan_hints(up, now_ms) + self._plan_transfers(up, now_ms)
        return [Send(dst, msg) for dst, msg in outgoing]

    def _send_batch(
        self,
        kind: str,
        owner: str | None,
        states: list[tuple[str, Any, bytes]],
        targets: Collection[str],
        now_ms: float,
    ) -> Outgoing:
        """Start one batch of (key, raw state, digest) to ``targets``."""
        req = self.ctx.new_req()
        self.handoffs.start(req, kind, owner, {k: d for k, _, d in states}, targets, now_ms)
        message = Handoff(req, self.ctx.name, [[k, raw] for k, raw, _ in states])
        return [(target, message) for target in sorted(targets)]

    def _plan_hints(self, up: Collection[str], now_ms: float) -> Outgoing:
        """Hand hints to their owners that are up, as many batches as there is room for.

        A hint for a node no longer in the ring goes to the key's current primaries instead;
        if this node is one of them, it merges the hint into its own main table (anti-entropy
        then carries it to the others) rather than send it to itself."""
        data, handoffs, me = self.ctx.data, self.handoffs, self.ctx.name
        placement = self.topology.placement
        out: Outgoing = []
        in_ring = set(placement.ring.owners)
        for owner in data.hint_owners():
            keys = sorted(
                k for k in data.hint_keys.get(owner, ()) if not handoffs.busy(HINT, owner, k)
            )
            groups: dict[tuple[str, ...], list[str]] = {}
            if owner in in_ring and (owner in up or not self._leaving()):
                groups[(owner,)] = keys
            else:
                for key in keys:
                    partition = placement.ring.partition_of(key)
                    primaries = placement.primaries[partition]
                    if me in primaries:
                        self._absorb_hint(owner, key, now_ms)
                        continue
                    if owner in in_ring or not all(t in up for t in primaries):
                        # An owner in the ring gets here only down, from a leaving node.
                        stand_ins = self._stand_ins(partition, up)
                        if stand_ins is None:
                            continue
                        primaries = stand_ins
                    groups.setdefault(primaries, []).append(key)
            for targets, group in sorted(groups.items()):
                if not all(t in up for t in targets):
                    continue  # wait until every target is up
                while group and all(handoffs.has_room(t) for t in targets):
                    chunk, group = group[:BATCH_KEYS], group[BATCH_KEYS:]
                    states = []
                    for key in chunk:
                        raw = data.raw_hint(owner, key)
                        if raw is not None:
                            states.append((key, raw, raw_digest(raw)))
                    if states:
                        out += self._send_batch(HINT, owner, states, targets, now_ms)
        return out

    def _absorb_hint(self, owner: str, key: str, now_ms: float) -> None:
        """Merge a hint into this node's own main table, then drop it."""
        data = self.ctx.data
        raw = data.raw_hint(owner, key)
        if raw is None:
            return
        state = Siblings.from_json(raw)
        _, applied = data.merge(key, state, None, now_ms)
        data.delete_unchanged({key: raw_digest(raw)}, owner)
        self.ctx.journal.record(now_ms, "hint-absorbed", key=key, owner=owner, applied=applied)

    def _plan_transfers(self, up: Collection[str], now_ms: float) -> Outgoing:
        """Hand the keys of partitions this node holds but no longer replicates to every
        current primary of each, once all of them are up."""
        data, handoffs = self.ctx.data, self.handoffs
        placement = self.topology.placement
        out: Outgoing = []
        mine = placement.replicated(self.ctx.name)
        for partition in data.forest.partitions():
            if partition in mine:
                continue
            targets = placement.primaries[partition]
            if not all(t in up for t in targets):
                stand_ins = self._stand_ins(partition, up)
                if stand_ins is None:
                    continue  # wait until every target is up
                targets = stand_ins
            tree = data.forest.tree(partition)
            keys = [k for k in sorted(tree.keys()) if not handoffs.busy(TRANSFER, None, k)]
            while keys and all(handoffs.has_room(t) for t in targets):
                chunk, keys = keys[:BATCH_KEYS], keys[BATCH_KEYS:]
                states = []
                for key in chunk:
                    raw = data.raw(key)
                    digest = tree.digest(key)
                    if raw is not None and digest is not None:
                        states.append((key, raw, digest))
                if states:
                    out += self._send_batch(TRANSFER, None, states, targets, now_ms)
        return out

    def _leaving(self) -> bool:
        return self.ctx.name in self.topology.membership.leaving

    def _stand_ins(self, partition: int, up: Collection[str]) -> tuple[str, ...] | None:
        """Where a *leaving* node hands ``partition`` while some of its primaries are down:
        the up primaries, plus for each down one the next up node of the partition's walk
        beyond them (Dynamo's sloppy quorum, §4.6), or every up node of the walk when fewer
        are up than N (as a coordinator's preference list); None when this node is not
        leaving, or no other node of the walk is up.

        A node that stays waits for every primary to be up. A leaving node must not: it
        cannot leave while it holds data, and a primary may stay down (killed, paused, cut
        off) for longer than the leave may take, so the leave would never finish. A stand-in
        is not a primary of the partition, so it holds the copy as a misplaced one and hands
        it to every primary (then deletes it) once they are all up, like any transfer; the
        copy is on as many nodes as before meanwhile, and the leaving node still deletes its
        own only once every target acknowledged it."""
        if not self._leaving():
            return None
        ring = self.topology.placement.ring
        primaries = self.topology.placement.primaries[partition]
        me = self.ctx.name
        down = sum(1 for t in primaries if t not in up)
        walk = ring.partition_primaries(partition, len(ring.nodes))
        spare = [n for n in walk if n in up and n not in primaries and n != me]
        targets = tuple(t for t in primaries if t in up) + tuple(spare[:down])
        return targets or None

    def on_handoff(self, msg: Handoff, now_ms: float) -> list[Effect]:
        """Merge handed-off states into the main table and acknowledge them."""
        me, data = self.ctx.name, self.ctx.data
        try:
            # Parse everything first, so a bad item leaves nothing half-written.
            states = [(key, Siblings.from_json(raw)) for key, raw in _items(msg.items)]
        except ValueError as err:
            return [Send(msg.src, HandoffAck(msg.req, me, False, f"handoff: {err}"))]
        applied: list[str] = []
        with data.transaction():  # one commit for the batch, before the ack
            for key, state in states:
                if data.merge(key, state, None, now_ms)[1]:
                    applied.append(key)
        self.ctx.journal.record(
            now_ms, "handoff-received", src=msg.src, keys=[k for k, _ in states], applied=applied
        )
        return [Send(msg.src, HandoffAck(msg.req, me, True))]

    def on_ack(self, msg: HandoffAck, now_ms: float) -> list[Effect]:
        """Once every target acknowledged a batch, delete the copies that did not change
        since, and send the next batches right away (not at the next round) to keep the pipe
        full."""
        batch = self.handoffs.ack(msg.req, msg.src, msg.ok)
        if batch is None:
            return []
        journal = self.ctx.journal
        if batch.failed:
            journal.record(now_ms, "handoff-failed", to=msg.src, owner=batch.owner, error=msg.error)
            return self.ctx.log(f"handoff to {msg.src} failed: {msg.error}", "warning")
        owner = batch.owner if batch.kind == HINT else None
        deleted = self.ctx.data.delete_unchanged(batch.digests, owner)
        self.delivered += len(deleted)
        journal.record(
            now_ms,
            f"{batch.kind}-delivered",
            to=list(batch.targets),
            owner=batch.owner,
            keys=deleted,
            kept=sorted(set(batch.digests) - set(deleted)),
        )
        return self._plan(now_ms)


def _items(items: list[Any]) -> list[tuple[str, Any]]:
    """``[[key, state]]`` from a peer, checked."""
    for entry in items:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise ValueError(f"each item must be [key, state], got {entry!r:.80}")
    return [(entry[0], entry[1]) for entry in items]
