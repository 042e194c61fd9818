"""A deterministic simulator: every node of a cluster in one process, on a virtual clock.

The same sans-IO ``Node`` the server runs, driven by an event queue instead of sockets: messages
between nodes are encoded and decoded with the real codec and delivered after a random delay
from a seeded network that can also drop, duplicate and (through the random delays) reorder
them, and cut any directed link (partitions). Nodes can crash (lose no committed data, as with
``kill -9`` on SQLite) and restart with a higher generation, join (a new node gossips with the
seeds until the ring includes it) and leave. Storage is in memory.

A node handles its messages as the real server does (``cluster.net.server``): a message that
reaches an idle node wakes it, and it handles what has arrived, up to ``DRAIN_BATCH``, as one
group commit (``cluster.storage.GroupCommit``, the server's own rule): the batch's writes go to
the store's open batch, and what the batch sends is held until its commit completes, a
modelled ``commit_ms`` later (drawn per batch). Meanwhile the node handles nothing: messages
that arrive wait for its next batch, timers that come due fire first after the commit. A batch
that wrote nothing has nothing to commit and sends at once. A crash in between loses the
batch's writes and what it held (``MemoryStore.lose_uncommitted``), as ``kill -9`` in the
middle of a SQLite commit does.

``divergence()`` says how far the cluster is from converged — every primary of every key holding
the same state, no hints left, no data on nodes that no longer own it, one ring everywhere —
and ``run_until_converged`` runs the cluster until there is nothing left to say.

The same seed gives the same run, event for event, so a failing protocol test replays exactly;
runs are thousands of times faster than real processes. Random draws are not one stream but
many (``cluster.sim.draws``): each node's own, and per directed link and purpose a function of
the instant a message is sent, so a run with one client operation fewer keeps the delays of
every other message. No I/O.

A node that logs trouble (a ``Log`` effect at warning level or above, e.g. a peer's message it
could not digest and dropped) stops the run with ``UnexpectedLog`` unless the caller said it
expects that line (``expected_logs``, regular expressions): trouble a test did not ask for is a
failure, not a line nobody reads.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import msgspec

from cluster.core import (
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    ClusterConfig,
    Effect,
    GetReply,
    Log,
    MessageFaults,
    Node,
    PutReply,
    Reply,
    Ring,
    Send,
    SetTimer,
    Timer,
    decode,
    encode,
)
from cluster.sim.draws import LinkDraws, node_seed, stable_key, unit
from cluster.storage import DRAIN_BATCH, GroupCommit, MemoryStore, Outbound

# How long a group commit takes, uniformly between these (virtual ms): SQLite's commit of a
# batch, during which the node handles nothing else and a kill loses the batch.
DEFAULT_COMMIT_MS = (0.5, 2.0)


@dataclass
class NetworkConfig:
    """How the simulated network treats each message."""

    min_delay_ms: float = 0.5
    max_delay_ms: float = 5.0
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_delay_ms <= self.max_delay_ms:
            raise ValueError("delays must satisfy 0 <= min_delay_ms <= max_delay_ms")
        for name in ("drop_rate", "duplicate_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


class Ticket(msgspec.Struct):
    """A client request in flight; ``reply`` is set when the answer arrives. (A msgspec
    struct: one is built per request, several times faster than a dataclass.)"""

    node: str
    request: Any
    sent_ms: float
    reply: Any = None
    replied_ms: float | None = None
    on_reply: Callable[[Any], None] | None = None  # called with the reply when it arrives
    arrived: bool = False  # the node was up when the request reached it

    @property
    def done(self) -> bool:
        return self.reply is not None


# What ``on_reply`` is called with when a request's deadline passed without an answer.
EXPIRED = object()


def _waited_for(ticket: Ticket) -> bool:
    """Its client still waits: no answer yet, and a callback to give it to."""
    return ticket.reply is None and ticket.on_reply is not None


class UnexpectedLog(AssertionError):
    """A node logged a warning (or worse) that the run did not declare it expects."""


class Simulator:
    """A cluster of ``Node`` objects on a virtual clock and a seeded network."""

    def __init__(
        self,
        config: ClusterConfig,
        seed: int = 0,
        network: NetworkConfig | None = None,
        start_ms: float = 1_000_000.0,
        expected_logs: Iterable[str] = (),
        sync: str = "normal",
        commit_ms: tuple[float, float] | None = None,
    ) -> None:
        commit_ms = commit_ms or DEFAULT_COMMIT_MS  # read now: a test may lengthen the default
        if not 0 <= commit_ms[0] <= commit_ms[1]:
            raise ValueError("commit_ms must satisfy 0 <= low <= high")
        self.config = config
        self.commit_ms = commit_ms
        self.sync = sync  # the stores' sync mode: what a power loss loses (MemoryStore)
        # Patterns (``re.search``) of the warning-level log lines this run may produce.
        self.expected_logs = [re.compile(pattern) for pattern in expected_logs]
        self.seed = seed
        # Draws are per node, per directed link and per commit (``cluster.sim.draws``): no
        # stream is shared, so removing one operation shifts no other draw.
        self._links: dict[tuple[str, str], LinkDraws] = {}
        self.network = network or NetworkConfig()
        self.now_ms = start_ms
        self.stores = {name: MemoryStore(sync) for name in config.nodes}
        self.generations = dict.fromkeys(config.nodes, 1)
        self.nodes: dict[str, Node] = {}
        self.down: set[str] = set()
        self.cut: set[tuple[str, str]] = set()  # directed links (sender, receiver) that drop
        # Extra one-way delay on a directed link: (fixed ms, uniform jitter ms).
        self.latency: dict[tuple[str, str], tuple[float, float]] = {}
        # Paused nodes (SIGSTOP) and, in order, what reached them meanwhile: deliveries,
        # client requests and their own timers, all carried out when they resume.
        self.paused: dict[str, list[Callable[[], None]]] = {}
        # Message-level faults on what a node sends its peers (drop, duplicate, reorder,
        # delay), as the real node's transport applies them; sends cut links dropped, by sender.
        self.message_faults: dict[str, MessageFaults] = {}
        self.dropped_sends: dict[str, int] = {}
        self.delivered = 0
        self.dropped = 0
        self.logs: list[tuple[float, str, str, str]] = []  # (time, node, level, text)
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._client_ids = itertools.count(1)
        self._groups: dict[str, GroupCommit] = {}
        self._tickets: dict[bytes, Ticket] = {}
        # Client deadlines: (at, sequence, ticket), and the earliest one an event is set for.
        self._deadlines: list[tuple[float, int, Ticket]] = []
        self._deadline_armed_ms: float | None = None
        # Group commit, per node: what has arrived and waits for the node's next batch
        # (a peer frame, client None; or a client request), the nodes whose batch is
        # committing, the timers that came due meanwhile, and each node's commit latencies.
        self._inbox: dict[str, deque[tuple[bytes | None, Any]]] = {}
        self._committing: set[str] = set()
        self._due_while_committing: dict[str, list[Callable[[], None]]] = {}
        self._commit_keys: dict[tuple[str, int], int] = {}  # (node, generation): its draws
        self._journal_marks: dict[str, int] = {}  # each batch's first journal sequence - 1
        self._holding: list[Outbound] | None = None  # the batch being handled: its sends
        self.batches_lost = 0  # batches a crash caught between their writes and commit
        for name in config.nodes:
            self._boot(name)

    # ------------------------------------------------------------------ nodes

    def _boot(self, name: str) -> None:
        node = Node(
            name=name,
            config=self.config,
            store=self.stores[name],
            rng=random.Random(node_seed(self.seed, name, self.generations[name])),
            generation=self.generations[name],
        )
        self.nodes[name] = node
        self._groups[name] = GroupCommit(self.stores[name])
        self._inbox[name] = deque()
        self._apply(name, node.start(self.now_ms))

    def crash(self, name: str) -> None:
        """Stop ``name`` abruptly: in-flight messages to it are lost, its timers never fire,
        and a batch it had written but not committed is lost with what it held."""
        self.down.add(name)
        self.paused.pop(name, None)  # a stopped process killed: what waited for it is lost
        inbox = self._inbox.get(name)
        if inbox is not None:
            inbox.clear()  # arrived, never read
        self._due_while_committing.pop(name, None)
        if name in self._committing:
            self._committing.discard(name)
            self._groups[name].abandon()
            self.batches_lost += 1
        self.stores[name].lose_uncommitted()

    def power_loss(self, name: str) -> tuple[int, int]:
        """Crash ``name`` as a power failure would: its store loses an uncommitted batch and
        what it had not synced (``sync`` mode). (commits lost, keys rolled back)."""
        self.crash(name)
        return self.stores[name].lose_unsynced()

    def set_message_faults(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Set (or, with no arguments, clear) the faults on ``name``'s peer messages; the
        settings' reply with the counters so far (``cluster.core.MessageFaults``)."""
        return self.message_faults.setdefault(name, MessageFaults()).configure(args)

    def pause(self, name: str) -> None:
        """Freeze ``name`` (SIGSTOP): it handles nothing, but what reaches it — messages,
        client requests, its own timers — waits, and is handled in order when it resumes."""
        if name not in self.down:
            self.paused.setdefault(name, [])

    def resume(self, name: str) -> None:
        """Let a paused node go on (SIGCONT): it handles at once everything that waited."""
        for action in self.paused.pop(name, []):
            self._schedule(self.now_ms, action)

    def _held(self, name: str, action: Callable[[], None]) -> bool:
        """Keep ``action`` for when ``name`` resumes, if it is paused (True then)."""
        waiting = self.paused.get(name)
        if waiting is None:
            return False
        waiting.append(action)
        return True

    def restart(self, name: str) -> None:
        """Start ``name`` again on the data it had stored, with a new generation."""
        self.down.discard(name)
        self.generations[name] += 1
        self._boot(name)

    def join(self, name: str) -> None:
        """Start a new, empty node ``name``; it joins the cluster through the seeds."""
        if name in self.nodes:
            raise ValueError(f"node {name!r} already exists")
        self.stores[name] = MemoryStore(self.sync)
        self.generations[name] = 1
        self._boot(name)

    def leave(self, name: str, via: str | None = None, force: bool = False) -> Any:
        """Ask (through node ``via``, default ``name`` itself) for ``name`` to leave;
        ``force`` for a node that is down for good (removed without handoff)."""
        return self.admin(via or name, "leave", node=name, force=force)

    def heal_all(self) -> None:
        """End every fault: mend the network, take away added latency, resume paused nodes
        and restart every crashed node (but not one that had left the cluster: starting it
        again would make it join again)."""
        self.heal()
        self.latency.clear()
        for name in sorted(self.paused):
            self.resume(name)
        for name in sorted(self.down):
            if name not in self.nodes[name].membership.left:
                self.restart(name)

    @property
    def names(self) -> list[str]:
        """Every node ever started, in order of creation."""
        return list(self.nodes)

    # ------------------------------------------------------------------ network faults

    def partition(self, components: list[list[str]]) -> None:
        """Cut every link between nodes of different components (both directions)."""
        side = {node: i for i, comp in enumerate(components) for node in comp}
        self.cut = {
            (a, b)
            for a in self.nodes
            for b in self.nodes
            if a != b and side.get(a, -1) != side.get(b, -2)
        }

    def cut_links(self, links: Iterable[tuple[str, str]]) -> None:
        """Drop every message on these directed links (sender, receiver), in addition to the
        links already cut: one-way partitions."""
        self.cut |= set(links)

    def slow_links(
        self, links: Iterable[tuple[str, str]], delay_ms: float, jitter_ms: float = 0.0
    ) -> None:
        """Add ``delay_ms`` (plus up to ``jitter_ms``, uniformly) to every message on these
        directed links; ``delay_ms`` 0 with no jitter takes the extra latency away."""
        for link in links:
            if delay_ms or jitter_ms:
                self.latency[link] = (delay_ms, jitter_ms)
            else:
                self.latency.pop(link, None)

    def heal(self) -> None:
        self.cut.clear()

    # ------------------------------------------------------------------ event loop

    def _schedule(self, at_ms: float, action: Callable[[], None]) -> None:
        # (time, sequence, action): ties in time run in the order they were scheduled.
        heapq.heappush(self._queue, (at_ms, next(self._seq), action))

    def _apply(self, name: str, effects: list[Effect]) -> None:
        holding = self._holding
        for effect in effects:
            kind = type(effect)
            if holding is not None and (kind is Send or kind is Reply):
                holding.append(effect)  # type: ignore[arg-type]
            elif kind is Send:
                self._transmit(name, effect.dst, effect.msg)  # type: ignore[union-attr]
            elif kind is Reply:
                self._reply(effect.client, effect.msg)  # type: ignore[union-attr]
            elif kind is SetTimer:
                self._set_timer(name, effect.at_ms, effect.timer)  # type: ignore[union-attr]
            elif isinstance(effect, Log):
                self.logs.append((self.now_ms, name, effect.level, effect.text))
                if effect.level != "info":
                    self._check_expected(name, effect)

    def expect_log(self, pattern: str) -> None:
        """Declare that a warning-level log line matching ``pattern`` is expected from now on."""
        self.expected_logs.append(re.compile(pattern))

    def _check_expected(self, name: str, log: Log) -> None:
        if not any(pattern.search(log.text) for pattern in self.expected_logs):
            raise UnexpectedLog(
                f"{name} logged at {log.level} level at {self.now_ms:.0f} ms: {log.text}"
                " (declare it with Simulator(expected_logs=...) or expect_log() if a test"
                " means it)"
            )

    def send(self, src: str, dst: str, msg: Any) -> None:
        """Put ``msg`` on the network from node ``src`` to node ``dst``, as if ``src`` had sent
        it (subject to cuts, loss, duplication and delay): how a test plays a faulty peer."""
        self._transmit(src, dst, msg)

    def _transmit(self, src: str, dst: str, msg: Any) -> None:
        frame = encode(msg)
        faults = self.message_faults.get(src)
        if faults is not None and faults.active:
            for passed in faults.route(dst, [frame], self.now_ms):
                self._send_frame(src, dst, passed)
            due = faults.next_due_ms()
            if due is not None:
                self._schedule(due, lambda: self._release_held(src))
            return
        self._send_frame(src, dst, frame)

    def _release_held(self, src: str) -> None:
        faults = self.message_faults.get(src)
        if faults is not None and src not in self.down:
            for dst, frame in faults.due(self.now_ms):
                self._send_frame(src, dst, frame)

    def _send_frame(self, src: str, dst: str, frame: bytes) -> None:
        link = (src, dst)
        draws = self._links.get(link)
        if draws is None:
            draws = self._links[link] = LinkDraws(self.seed, src, dst)
        delay_draw = draws.message(self.now_ms)  # a cut message draws too: cuts move none
        if link in self.cut:
            self.dropped_sends[src] = self.dropped_sends.get(src, 0) + 1
            self.dropped += 1
            return
        network = self.network
        if network.drop_rate and draws.draw(draws.loss) < network.drop_rate:
            self.dropped += 1
            return
        duplicated = network.duplicate_rate and draws.draw(draws.duplicate) < network.duplicate_rate
        extra = self.latency.get(link)
        low, span = network.min_delay_ms, network.max_delay_ms - network.min_delay_ms
        # A partial, not a lambda: no closure cell to build, no Python frame to call through.
        deliver: Callable[[], None] = partial(self._deliver, dst, frame)
        if not duplicated and extra is None:  # the common case, without the loop: same draws
            heapq.heappush(
                self._queue, (self.now_ms + low + span * delay_draw, next(self._seq), deliver)
            )
            return
        for copy in range(2 if duplicated else 1):
            delay = low + span * (draws.draw(draws.delay, copy) if copy else delay_draw)
            if extra is not None:
                delay += extra[0] + extra[1] * draws.draw(draws.jitter, copy)
            heapq.heappush(self._queue, (self.now_ms + delay, next(self._seq), deliver))

    def _deliver(self, dst: str, frame: bytes) -> None:
        if dst in self.down:
            self.dropped += 1
            return
        if dst in self.paused:  # (checked first: no action to build while nothing is paused)
            self._held(dst, partial(self._deliver, dst, frame))
            return
        self._arrive(dst, None, frame)

    # ------------------------------------------------------------------ batches, group commit

    def _arrive(self, name: str, client: bytes | None, payload: Any) -> None:
        """A peer frame (``client`` None) or a client request reaches running node ``name``:
        it waits in the inbox, read at once if the node is idle."""
        inbox = self._inbox[name]
        if name in self._committing:
            inbox.append((client, payload))
        elif not inbox:  # the common case: an idle node, nothing waiting: a batch of one
            self._run_batch(name, [(client, payload)])
            if inbox:
                self._drain(name)
        else:
            inbox.append((client, payload))
            self._drain(name)

    def _drain(self, name: str) -> None:
        """Handle what waits in ``name``'s inbox in batches of ``DRAIN_BATCH``, each a group
        commit, until it is empty or a batch's commit has to take its time."""
        inbox = self._inbox[name]
        while inbox and name not in self._committing:
            count = min(len(inbox), DRAIN_BATCH)
            self._run_batch(name, [inbox.popleft() for _ in range(count)])

    def _run_batch(self, name: str, batch: list[tuple[bytes | None, Any]]) -> None:
        node = self.nodes[name]
        group = self._groups[name]
        journal_mark = node.journal.last_seq  # kept only if the batch commits (it is read then)
        self._holding = group.begin()
        now_ms = self.now_ms
        handle, apply = node.on_message, self._apply
        try:
            for client, payload in batch:
                if client is None:
                    self.delivered += 1
                    effects = handle(None, decode(payload), now_ms)
                else:
                    effects = handle(client, payload, now_ms)
                if effects:
                    apply(name, effects)
        except BaseException:  # the run stops (``UnexpectedLog``): close the batch first
            self._holding = None
            self._release(name, group.commit())
            raise
        self._holding = None
        sealed = group.seal()
        if sealed:
            self._release(name, sealed)
        if not self.stores[name].uncommitted_writes:  # nothing to commit: no time to take
            released = group.commit()
            if released:
                self._release(name, released)
            return
        self._journal_marks[name] = journal_mark
        self._committing.add(name)
        done_ms = self.now_ms + self._commit_latency_ms(name)
        self._schedule(done_ms, partial(self._commit_done, name, node, group))

    def _commit_latency_ms(self, name: str) -> float:
        """How long this batch's commit takes: the one place group commit draws randomness,
        a function of the node, its generation and the instant the batch commits (a node
        starts one committing batch at a time), as the links' draws are (``cluster.sim.draws``):
        it shifts no other draw, and no other change shifts it."""
        low, high = self.commit_ms
        if low == high:
            return low
        generation = self.generations[name]
        key = self._commit_keys.get((name, generation))
        if key is None:
            key = stable_key(self.seed, "commit", name, generation)
            self._commit_keys[(name, generation)] = key
        return low + (high - low) * unit(hash((self.now_ms, key)))

    def _commit_done(self, name: str, node: Node, group: GroupCommit) -> None:
        """The batch's commit completes: what it held leaves, the timers that came due fire,
        and the node reads its inbox again."""
        if name in self.down or self.nodes[name] is not node:
            return  # crashed in between: the batch was lost then (``crash``)
        if name in self.paused:  # paused mid-commit: it completes when the node resumes
            self._held(name, partial(self._commit_done, name, node, group))
            return
        self._committing.discard(name)
        self._release(name, group.commit())
        due = self._due_while_committing.pop(name, None)
        if due is not None:
            for fire in due:
                fire()
        if self._inbox[name]:
            self._drain(name)

    def _release(self, name: str, effects: list[Outbound]) -> None:
        for effect in effects:
            if type(effect) is Send:
                self._transmit(name, effect.dst, effect.msg)
            else:
                self._reply(effect.client, effect.msg)  # type: ignore[union-attr]

    def _set_timer(self, name: str, at_ms: float, timer: Timer) -> None:
        fire = partial(self._fire, name, self.nodes[name], timer)
        self._schedule(max(at_ms, self.now_ms), fire)

    def _fire(self, name: str, node: Node, timer: Timer) -> None:
        # A timer set by a node that has since crashed (or been replaced) never fires; one
        # of a paused node fires when it resumes.
        if name in self.down or self.nodes[name] is not node:
            return
        if name in self.paused:
            self._held(name, partial(self._fire, name, node, timer))
            return
        if name in self._committing:  # the loop is busy committing: the timer waits
            waiting = partial(self._fire, name, node, timer)
            self._due_while_committing.setdefault(name, []).append(waiting)
            return
        effects = node.on_timer(timer, self.now_ms)
        if effects:
            self._apply(name, effects)

    def _reply(self, client: bytes, msg: Any) -> None:
        ticket = self._tickets.pop(client, None)  # one answer per request: forget it now
        if ticket is not None and ticket.reply is None:
            ticket.reply = msg
            ticket.replied_ms = self.now_ms
            if ticket.on_reply is not None:
                ticket.on_reply(msg)

    def pending_events(self) -> int:
        """How many events (deliveries, timers, client arrivals) are scheduled."""
        return len(self._queue)

    def step(self) -> bool:
        """Run the next event; False when nothing is left."""
        if not self._queue:
            return False
        at_ms, _, action = heapq.heappop(self._queue)
        if at_ms > self.now_ms:
            self.now_ms = at_ms
        action()
        return True

    def run_for(self, duration_ms: float) -> None:
        self.run_until(self.now_ms + duration_ms)

    def run_until(self, at_ms: float, stop: Callable[[], bool] | None = None) -> None:
        queue, pop = self._queue, heapq.heappop
        while queue and queue[0][0] <= at_ms:
            when, _, action = pop(queue)
            if when > self.now_ms:
                self.now_ms = when
            action()
            if stop is not None and stop():
                return
        self.now_ms = max(self.now_ms, at_ms)

    # ------------------------------------------------------------------ clients

    def submit(
        self,
        node: str,
        request: Any,
        on_reply: Callable[[Any], None] | None = None,
        deadline_ms: float | None = None,
    ) -> Ticket:
        """Send a client request to ``node`` (arrives at once: clients are not partitioned);
        ``on_reply`` is called with the answer when it arrives, or with ``EXPIRED`` if none
        has ``deadline_ms`` after now (the client gives up; a later answer is dropped)."""
        client = b"client-%d" % next(self._client_ids)
        ticket = Ticket(node, request, self.now_ms, on_reply=on_reply)
        self._tickets[client] = ticket
        self._schedule(self.now_ms, partial(self._client_arrives, node, client, request))
        if deadline_ms is not None:
            self._add_deadline(self.now_ms + deadline_ms, ticket)
        return ticket

    # Client deadlines are kept by the simulator, not as timers of the client's event loop
    # (an asyncio timer handle per request, compared by a Python ``__lt__``): in a heap of
    # their own, served by one event at the earliest deadline still waited for. Nearly every
    # request is answered long before its deadline, whose event would only wake the loop.

    def _add_deadline(self, at_ms: float, ticket: Ticket) -> None:
        heapq.heappush(self._deadlines, (at_ms, next(self._seq), ticket))
        if self._deadline_armed_ms is None or at_ms < self._deadline_armed_ms:
            self._deadline_armed_ms = at_ms
            self._schedule(at_ms, self._expire_due)

    def _expire_due(self) -> None:
        """Tell every client whose deadline has come that no answer came (``EXPIRED``), and
        set the event for the next deadline still waited for."""
        now_ms, deadlines = self.now_ms, self._deadlines
        if self._deadline_armed_ms is not None and self._deadline_armed_ms <= now_ms:
            self._deadline_armed_ms = None  # this event (a later one may still be set)
        while deadlines and (deadlines[0][0] <= now_ms or not _waited_for(deadlines[0][2])):
            ticket = heapq.heappop(deadlines)[2]
            # The ticket stays: the request may still reach a paused node and be answered
            # (a reply nobody waits for any more).
            if _waited_for(ticket):
                ticket.on_reply(EXPIRED)  # type: ignore[misc]  # (waited for: it has one)
        if deadlines and (
            self._deadline_armed_ms is None or deadlines[0][0] < self._deadline_armed_ms
        ):
            self._deadline_armed_ms = deadlines[0][0]
            self._schedule(self._deadline_armed_ms, self._expire_due)

    def _client_arrives(self, node: str, client: bytes, request: Any) -> None:
        if node not in self.down:  # a request to a crashed node is never answered
            self._tickets[client].arrived = True
            if node in self.paused:
                self._held(node, partial(self._client_arrives, node, client, request))
                return
            self._arrive(node, client, request)

    def wait(self, ticket: Ticket, limit_ms: float = 10_000.0) -> Any:
        """Run until ``ticket`` is answered (or ``limit_ms`` of virtual time passed)."""
        self.run_until(self.now_ms + limit_ms, stop=lambda: ticket.done)
        return ticket.reply

    def get(self, key: str, node: str, **options: Any) -> GetReply:
        reply = self.wait(self.submit(node, ClientGet(next(self._client_ids), key, **options)))
        if reply is None:
            return GetReply(0, False, error="no reply (coordinator down)")
        assert isinstance(reply, GetReply)
        return reply

    def put(self, key: str, value: Any, node: str, context: str = "", **options: Any) -> PutReply:
        request = ClientPut(next(self._client_ids), key, value, context, **options)
        reply = self.wait(self.submit(node, request))
        if reply is None:
            return PutReply(0, False, error="no reply (coordinator down)")
        assert isinstance(reply, PutReply)
        return reply

    def admin_now(self, node: str, op: str, args: dict[str, Any]) -> AdminReply | None:
        """Answer an admin request at once, without virtual time passing: the harness's control
        channel, not part of the network under test. None when ``node`` is down or paused (a
        real admin call would time out)."""
        if node in self.down or node in self.paused or node not in self.nodes:
            return None
        client = b"admin-%d" % next(self._client_ids)
        ticket = Ticket(node, AdminRequest(0, op, args), self.now_ms)
        self._tickets[client] = ticket
        ticket.arrived = True
        # Outside any batch: the control channel is answered now, even mid-commit.
        self._apply(node, self.nodes[node].on_message(client, ticket.request, self.now_ms))
        self._tickets.pop(client, None)
        reply = ticket.reply
        if not isinstance(reply, AdminReply):
            return None
        if op == "journal" and node in self._committing and isinstance(reply.data, dict):
            self._hide_uncommitted_events(node, reply.data)
        return reply

    def _hide_uncommitted_events(self, node: str, journal: dict[str, Any]) -> None:
        """A real node answers a journal read in its next batch, after the one committing
        now, and a kill before that commit loses the batch's events with the process: so a
        reader never sees what a batch journalled before the batch committed. Here the read
        is answered mid-commit, and shows the journal as it was before the batch."""
        mark = self._journal_marks[node]
        journal["events"] = [event for event in journal["events"] if event["seq"] <= mark]
        journal["last_seq"] = min(journal["last_seq"], mark)

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        reply = self.wait(self.submit(node, AdminRequest(0, op, args)))
        assert isinstance(reply, AdminReply) and reply.ok, reply
        return reply.data

    def replica_values(self, key: str) -> dict[str, Any]:
        """Each primary's raw view of ``key``: (sorted live values, tombstone) — for checks."""
        primaries = self.ring().primaries(key, self.config.n)
        result = {}
        for name in primaries:
            data, _ = self.nodes[name].admin("replica", {"key": key}, self.now_ms)
            result[name] = (data["values"], data["tombstone"])
        return result

    # ------------------------------------------------------------------ convergence

    def ring(self) -> Ring:
        """The ring of the node with the newest ring version (the one gossip converges on)."""
        newest = max(
            self.nodes.values(),
            key=lambda n: (n.membership.ring_version, n.membership.ring.owners),
        )
        return newest.ring

    def all_keys(self) -> list[str]:
        """Every key any node holds, in its main table or as a hint."""
        keys: set[str] = set()
        for store in self.stores.values():
            keys.update(store.keys())
            keys.update(k for _, k, _ in store.hints())
        return sorted(keys)

    def divergence(self, limit: int = 10) -> list[str]:
        """Why the cluster has not converged (empty when it has): nodes down or partitioned,
        rings that differ, hints not yet handed off, data on nodes that are not primaries,
        primaries whose states of a key differ. At most ``limit`` reasons."""
        problems: list[str] = []
        gone = {name for name, node in self.nodes.items() if name in node.membership.left}
        live = [name for name in self.nodes if name not in gone]
        if (self.down - gone) or self.cut or self.paused:
            down, paused = sorted(self.down - gone), sorted(self.paused)
            problems.append(
                f"faults in place: down {down}, paused {paused}, {len(self.cut)} links cut"
            )
        rings = {(self.nodes[n].membership.ring_version, self.nodes[n].ring.owners) for n in live}
        if len(rings) > 1:
            problems.append(f"{len(rings)} different rings among {live}")
        for name in live:
            membership = self.nodes[name].membership
            pending = membership.joining + sorted(membership.leaving - membership.left)
            if pending:
                problems.append(f"{name} sees joins or leaves in progress: {pending}")
        ring = self.ring()
        n = self.config.n
        for name, store in self.stores.items():
            held = sum(1 for _ in store.hints())
            if held:
                problems.append(f"{name} still holds {held} hints")
        for key in self.all_keys():
            primaries = ring.primaries(key, n)
            states = {
                name: json.dumps(self.stores[name].get(key), sort_keys=True) for name in primaries
            }
            if len(set(states.values())) > 1:
                problems.append(f"{key}: primaries differ: {states}")
            others = [p for p in self.stores if p not in primaries and self.stores[p].get(key)]
            if others:
                problems.append(f"{key}: held by non-primaries {others}")
            if len(problems) >= limit:
                break
        return problems[:limit]

    def run_until_converged(self, limit_ms: float, check_every_ms: float = 500.0) -> bool:
        """Run until ``divergence()`` is empty or ``limit_ms`` of virtual time passed."""
        deadline = self.now_ms + limit_ms
        while self.now_ms < deadline:
            self.run_for(min(check_every_ms, deadline - self.now_ms))
            if not self.divergence(limit=1):
                return True
        return False
