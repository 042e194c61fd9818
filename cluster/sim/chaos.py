"""Seeded chaos for simulator runs: random faults, and clients that write through them.

- ``RandomFaults`` applies a random fault every few hundred milliseconds of virtual time:
  a partition into random halves, one node isolated, one node unable to *receive* (its peers
  still hear it, so they keep sending it writes that it never gets: no hints cover them),
  a crash (at most ``max_down`` nodes at once), a restart, or a heal of the network.
- ``ClientLoad`` runs logical clients that each loop: get a random key, then put a new unique
  value (sometimes a delete) with the context the get returned (a blind write when the get
  failed), to random coordinators. Every acknowledged put is recorded with the clock of the
  version it created, so a test can check that each is still present, or causally superseded,
  once the cluster converged.

Everything is driven by the ``random.Random`` passed in, so a seed replays the run. No I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from cluster.core import ClientGet, ClientPut, GetReply, PutReply, Siblings
from cluster.sim.simulator import Simulator, Ticket

FAULTS = ("partition", "isolate", "deaf", "crash", "restart", "heal")


@dataclass
class RandomFaults:
    """A random fault every ``min_gap_ms``..``max_gap_ms`` of virtual time."""

    sim: Simulator
    rng: random.Random
    min_gap_ms: float = 200.0
    max_gap_ms: float = 700.0
    max_down: int = 2
    applied: list[tuple[float, str]] = field(default_factory=list)
    _next_ms: float = 0.0

    def __post_init__(self) -> None:
        self._next_ms = self.sim.now_ms + self.rng.uniform(self.min_gap_ms, self.max_gap_ms)

    def tick(self) -> None:
        """Apply a fault if one is due."""
        if self.sim.now_ms < self._next_ms:
            return
        self._next_ms = self.sim.now_ms + self.rng.uniform(self.min_gap_ms, self.max_gap_ms)
        self.apply(self.rng.choice(FAULTS))

    def apply(self, fault: str) -> None:
        sim, rng = self.sim, self.rng
        names = [n for n in sim.names if not _left(sim, n)]
        up = [n for n in names if n not in sim.down]
        description = fault
        if fault == "partition":
            shuffled = rng.sample(names, len(names))
            cut = rng.randint(1, len(names) - 1)
            sim.partition([shuffled[:cut], shuffled[cut:]])
            description = f"partition {sorted(shuffled[:cut])} | {sorted(shuffled[cut:])}"
        elif fault == "isolate":
            victim = rng.choice(names)
            sim.partition([[victim], [n for n in names if n != victim]])
            description = f"isolate {victim}"
        elif fault == "deaf":
            victim = rng.choice(names)
            sim.cut |= {(n, victim) for n in names if n != victim}
            description = f"deaf {victim}"
        elif fault == "crash" and len(sim.down) < self.max_down and len(up) > 1:
            victim = rng.choice(up)
            sim.crash(victim)
            description = f"crash {victim}"
        elif fault == "restart" and sim.down:
            victim = rng.choice(sorted(sim.down))
            sim.restart(victim)
            description = f"restart {victim}"
        elif fault == "heal":
            sim.heal()
        else:
            return
        self.applied.append((sim.now_ms, description))


def _left(sim: Simulator, name: str) -> bool:
    return name in sim.nodes[name].membership.left


@dataclass
class Acked:
    """An acknowledged put: the key, the value written (None: a delete), its version."""

    key: str
    value: Any
    version: dict[str, int]


@dataclass
class _Client:
    ticket: Ticket | None = None
    kind: str = "idle"  # "idle", "get", "put"
    key: str = ""
    value: Any = None
    wake_ms: float = 0.0


@dataclass
class ClientLoad:
    """``clients`` logical clients issuing read-modify-writes over ``keys`` keys."""

    sim: Simulator
    rng: random.Random
    clients: int = 3
    keys: int = 10
    delete_ratio: float = 0.1
    think_ms: float = 60.0
    timeout_ms: int = 500
    abandon_ms: float = 3000.0  # a request whose coordinator crashed is never answered
    acked: list[Acked] = field(default_factory=list)
    puts: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # why puts failed
    _clients: list[_Client] = field(init=False)
    _next_value: int = 0

    def __post_init__(self) -> None:
        self._clients = [_Client() for _ in range(self.clients)]

    def tick(self, issue: bool = True) -> None:
        """Advance every client: collect answers, issue the next request."""
        now = self.sim.now_ms
        for client in self._clients:
            ticket = client.ticket
            if ticket is not None:
                if ticket.done:
                    self._completed(client, ticket.reply, now)
                elif now - ticket.sent_ms > self.abandon_ms:
                    self.errors.append(f"{client.kind} to {ticket.node}: no answer")
                    client.ticket, client.kind = None, "idle"
                    self.failed += 1
            if client.ticket is None and issue and now >= client.wake_ms:
                self._start_get(client)

    @property
    def busy(self) -> bool:
        return any(c.ticket is not None for c in self._clients)

    def _coordinator(self) -> str:
        return self.rng.choice([n for n in self.sim.names if not _left(self.sim, n)])

    def _start_get(self, client: _Client) -> None:
        client.key = f"k{self.rng.randrange(self.keys)}"
        client.kind = "get"
        request = ClientGet(0, client.key, timeout_ms=self.timeout_ms)
        client.ticket = self.sim.submit(self._coordinator(), request)

    def _completed(self, client: _Client, reply: Any, now: float) -> None:
        if client.kind == "get":
            context = reply.context if isinstance(reply, GetReply) and reply.ok else ""
            delete = self.rng.random() < self.delete_ratio
            self._next_value += 1
            client.value = None if delete else self._next_value
            request = ClientPut(0, client.key, client.value, context, timeout_ms=self.timeout_ms)
            client.kind = "put"
            client.ticket = self.sim.submit(self._coordinator(), request)
            self.puts += 1
            return
        if isinstance(reply, PutReply) and reply.ok:
            self.acked.append(Acked(client.key, client.value, reply.version))
        else:
            self.failed += 1
            self.errors.append(f"put {client.key}: {getattr(reply, 'error', reply)}")
        client.ticket, client.kind = None, "idle"
        client.wake_ms = now + self.rng.uniform(0, self.think_ms)


def lost_writes(sim: Simulator, acked: list[Acked], same_clock: bool = True) -> list[str]:
    """Acknowledged writes that are neither present in the final state of their key (a
    version with that value and that clock) nor causally superseded (a version whose clock is
    strictly above it) — checked on the key's first primary, which a converged cluster agrees
    with. Meaningful for ``dvv`` and ``vclock``; ``lww`` versions carry no clocks.

    ``same_clock=False`` leaves out writes whose very clock is held with another value: the
    one way the paper's vector clocks lose a write by design (two writes given the same clock,
    e.g. two blind writes through one coordinator), so that any other loss stands out."""
    ring = sim.ring()
    versions = next(iter(sim.nodes.values())).versions
    lost = []
    for write in acked:
        owner = ring.primaries(write.key, sim.config.n)[0]
        raw = sim.stores[owner].get(write.key)
        state = Siblings.EMPTY if raw is None else Siblings.from_json(raw)
        held = list(zip(versions.clocks(state), (v.value for v in state.versions), strict=True))
        wanted = write.version
        present = any(c == wanted and value == write.value for c, value in held)
        superseded = any(
            c != wanted and all(c.get(n, 0) >= k for n, k in wanted.items()) for c, _ in held
        )
        collided = not same_clock and any(c == wanted for c, _ in held)
        if not (present or superseded or collided):
            lost.append(f"{write.key}={write.value!r} {wanted} not in {held}")
    return lost
