"""Tombstone reaping: when a deleted key's tombstone may finally be removed, and how.

A delete writes a tombstone that carries the causal context (``Siblings`` whose versions are
all tombstones). Removing it too early lets an old copy of the value come back: a replica that
missed the delete, a hint still waiting for its owner, a partition not yet handed off. So a
tombstone is reaped only in a round where:

- the reaper is the key's first primary and has held the tombstone for the grace period;
- *every* known node (ring members, joiners, leaving nodes) is up and votes, and each voter's
  copies of the key — main state and hints — are all that same tombstone or absent, none is
  in an unfinished handoff, and a voter holding it has held it for the grace period too (so
  a message carrying an older state, sent before the voter learnt of the delete, has long
  been delivered);
- every primary of the key holds the tombstone.

Then every copy equal to that tombstone (same digest) is deleted everywhere; a copy that
changed meanwhile (a concurrent write) is kept. ``candidates``, ``agrees`` and ``Round`` are
the pure decisions; ``Reaper`` is the node's side of the protocol (its round on the handoff
timer, ``ReapQuery``, ``ReapVote`` and ``Reap``), deleting through ``ReplicaData``. Store I/O
only: no network, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cluster.core.context import NodeContext, Topology
from cluster.core.effects import Effect, Send
from cluster.core.messages import Reap, ReapQuery, ReapVote

REAP_KEYS = 500  # tombstones per round
ROUND_TIMEOUT_MS = 2000


@dataclass
class Round:
    """One reaping round: the tombstones proposed and the votes received."""

    req: int
    items: dict[str, bytes]  # key -> tombstone digest
    voters: set[str]
    started_ms: float
    ok: dict[str, set[str]] = field(default_factory=dict)  # voter -> keys it agrees to reap
    held: dict[str, set[str]] = field(default_factory=dict)  # voter -> keys it holds

    @property
    def complete(self) -> bool:
        return self.voters <= self.ok.keys()

    def vote(self, voter: str, ok: Iterable[str], held: Iterable[str]) -> None:
        if voter in self.voters:
            self.ok[voter] = set(ok)
            self.held[voter] = set(held)

    def decide(self, me: str, primaries: Callable[[str], list[str]]) -> dict[str, bytes]:
        """The tombstones every voter agreed to and every primary holds (``me`` is a voter
        that agreed to all it proposed)."""
        reap: dict[str, bytes] = {}
        for key, digest in self.items.items():
            if not all(key in self.ok[v] for v in self.voters):
                continue
            if all(p == me or key in self.held.get(p, set()) for p in primaries(key)):
                reap[key] = digest
        return reap


def candidates(
    tombstones: Mapping[str, float],
    now_ms: float,
    grace_ms: float,
    is_first_primary: Callable[[str], bool],
    busy: Collection[str] = (),
    limit: int = REAP_KEYS,
) -> list[str]:
    """Tombstones this node should propose: held for the grace period, first primary."""
    chosen: list[str] = []
    for key in sorted(tombstones):
        if now_ms - tombstones[key] >= grace_ms and key not in busy and is_first_primary(key):
            chosen.append(key)
            if len(chosen) == limit:
                break
    return chosen


def agrees(
    digest: bytes,
    main_digest: bytes | None,
    held_since_ms: float | None,
    hint_digests: Iterable[bytes],
    handing_off: bool,
    now_ms: float,
    grace_ms: float,
) -> bool:
    """A voter's verdict on one tombstone (see the module docstring)."""
    if handing_off:
        return False
    if any(h != digest for h in hint_digests):
        return False
    if main_digest is None:
        return True
    if main_digest != digest:
        return False
    return held_since_ms is not None and now_ms - held_since_ms >= grace_ms


# --------------------------------------------------------------------------- the node's side


def _digest_items(items: list[Any]) -> list[tuple[str, bytes]]:
    """``[[key, digest hex]]`` from a peer, checked."""
    out = []
    for entry in items:
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], str)
        ):
            raise ValueError(f"expected [key, digest], got {entry!r}")
        out.append((entry[0], bytes.fromhex(entry[1])))
    return out


@dataclass
class Reaper:
    """One node's reaping: at most one round of its own in flight. ``key_busy`` says whether
    a copy of a key is in a handoff batch in flight (such a key is neither proposed nor
    agreed to)."""

    ctx: NodeContext
    topology: Topology
    key_busy: Callable[[str], bool]
    current: Round | None = None
    reaped: int = 0  # tombstones this node deleted (for status)

    def on_timer(self, now_ms: float) -> list[Effect]:
        """Propose the tombstones that are due, if every known node is reachable."""
        if self.current is not None:
            if now_ms - self.current.started_ms < ROUND_TIMEOUT_MS:
                return []
            self.current = None  # a voter never answered: try again later
        ctx = self.ctx
        data, placement = ctx.data, self.topology.placement
        keys = candidates(
            data.tombstones,
            now_ms,
            ctx.config.tombstone_grace_ms,
            lambda key: placement.key_primaries(key)[0] == ctx.name,
        )
        keys = [k for k in keys if not self.key_busy(k)]
        voters = set(self.topology.membership.peers(ctx.name))
        if not keys or not voters <= self.topology.up_nodes(now_ms):
            return []
        items = {k: d for k in keys if (d := data.digest(k)) is not None}
        self.current = Round(ctx.new_req(), items, voters, now_ms)
        if not voters:
            return self._finish(now_ms)
        query = ReapQuery(self.current.req, ctx.name, [[k, d.hex()] for k, d in items.items()])
        return [Send(voter, query) for voter in sorted(voters)]

    def on_query(self, msg: ReapQuery, now_ms: float) -> list[Effect]:
        data = self.ctx.data
        ok: list[str] = []
        held: list[str] = []
        for key, digest in _digest_items(msg.items):
            main = data.digest(key)
            if main == digest:
                held.append(key)
            if agrees(
                digest,
                main,
                data.tombstones.get(key),
                data.hint_digests(key).values(),
                self.key_busy(key),
                now_ms,
                self.ctx.config.tombstone_grace_ms,
            ):
                ok.append(key)
        return [Send(msg.src, ReapVote(msg.req, self.ctx.name, ok, held))]

    def on_vote(self, msg: ReapVote, now_ms: float) -> list[Effect]:
        current = self.current
        if current is None or current.req != msg.req:
            return []
        current.vote(msg.src, msg.ok, msg.held)
        return self._finish(now_ms) if current.complete else []

    def _finish(self, now_ms: float) -> list[Effect]:
        current = self.current
        assert current is not None
        self.current = None
        data, placement = self.ctx.data, self.topology.placement
        decided = current.decide(self.ctx.name, lambda key: list(placement.key_primaries(key)))
        # The reaper's own copies must still be what it proposed.
        doomed = {k: d for k, d in decided.items() if data.digest(k) == d}
        if not doomed:
            return []
        for key, digest in doomed.items():
            self.reaped += data.reap(key, digest)
        journal = self.ctx.journal
        if journal.enabled:  # the round's evidence, so a journal check can judge the decision
            keys = sorted(doomed)
            journal.record(
                now_ms,
                "reaped",
                keys=keys,
                by=self.ctx.name,
                voters=sorted(current.voters),
                agreed_by={k: sorted(v for v, ok in current.ok.items() if k in ok) for k in keys},
                held_by={k: sorted(v for v, h in current.held.items() if k in h) for k in keys},
                primaries={k: list(placement.key_primaries(k)) for k in keys},
            )
        reap = Reap(self.ctx.name, [[k, d.hex()] for k, d in doomed.items()])
        return [Send(voter, reap) for voter in sorted(current.voters)]

    def on_reap(self, msg: Reap, now_ms: float) -> list[Effect]:
        removed = []
        for key, digest in _digest_items(msg.items):
            copies = self.ctx.data.reap(key, digest)
            self.reaped += copies
            if copies:
                removed.append(key)
        self.ctx.journal.record(now_ms, "reaped", keys=removed, by=msg.src)
        return []
