"""The real node: one OS process running a ``Node`` core over ZeroMQ sockets and SQLite.

Run it as ``python -m cluster.net --name n1 --dir NODE_DIR --cluster CLUSTER_JSON``. It does
network, file and signal I/O; the protocol itself lives in ``cluster.core.node``, which this shell
drives with messages, timers and the monotonic clock.

Sockets (DESIGN.md): one ROUTER bound on the node's own port receives everything — client
requests, admin commands and messages from peers. Peer messages are *sent* through one DEALER
per peer, connected to the address this node dials that peer at (its port, or a Toxiproxy
proxy ``n1->n2`` in front of it), so every message from n1 to n2 — requests and replies alike —
crosses exactly one directed link, which a proxy can cut alone. Replies to clients go back out
of the ROUTER by routing id.

Each poll wake-up handles the messages waiting (up to ``DRAIN_BATCH``) as one group commit:
their writes share one SQLite commit and what they send leaves only once it is done, so an
acknowledged write survives ``kill -9``. ZeroMQ's I/O threads run under ``SCHED_BATCH``
(``cluster.net.io_threads``), so the sends of a batch do not each preempt the loop.

A frame that does not decode, or a handler that raises, is logged with the sender and the reason
and the loop carries on. SIGTERM and SIGINT close the sockets and the store and exit 0. A store
that fails its checks on open (``CorruptStoreError``) stops the node before it serves anything:
one ``REFUSAL`` log line, exit code ``EXIT_CORRUPT_STORE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import heapq
import json
import logging
import os
import random
import signal
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import zmq

from cluster.core import (
    PEER_TYPES,
    AdminReply,
    AdminRequest,
    ClientGet,
    ClientPut,
    ClusterConfig,
    Effect,
    Log,
    MessageFaults,
    Node,
    Reply,
    Send,
    SetTimer,
    Timer,
    encode,
)
from cluster.net.frames import batches, pack, unpack
from cluster.net.io_threads import defer_new_io_threads, threads
from cluster.storage import DRAIN_BATCH, REFUSAL, CorruptStoreError, GroupCommit, SqliteStore

log = logging.getLogger("zynamo.server")

# ZeroMQ settings that matter when links are cut by a proxy (DESIGN.md, measured there).
HEARTBEAT_IVL_MS = 200  # ZMTP PINGs on every connection, both directions
HEARTBEAT_TIMEOUT_MS = 1000  # no traffic for this long after a PING: the connection is dead
HEARTBEAT_TTL_MS = 1000  # asks the remote side to time us out after this much silence
HANDSHAKE_IVL_MS = 1000  # a connection whose ZMTP handshake stalls (a black-holed proxy) dies
CONNECT_TIMEOUT_MS = 1000
RECONNECT_IVL_MS = 100  # a restarted peer is reached again quickly ...
RECONNECT_IVL_MAX_MS = 500  # ... without hammering a dead one
HWM = 10_000  # messages queued per pipe before sends drop (the protocol tolerates loss)
MAX_MSG_BYTES = 16 * 1024 * 1024

# Messages handled per poll wake-up before timers get a look in: ``DRAIN_BATCH``, one group
# commit (``cluster.storage.GroupCommit``, which the simulator's batches go through too).
# The longest the loop sleeps, so a signal's stop flag is noticed promptly.
MAX_POLL_MS = 200

# Plain ints: pyzmq's flag enums cost a conversion on every call in the hot path.
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_NOBLOCK = int(zmq.NOBLOCK)
_SNDMORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)
_RCVMORE = int(zmq.RCVMORE)

CLIENT_TYPES = frozenset({ClientGet, ClientPut, AdminRequest})

# A node whose database file is damaged does not start: it logs one line starting with this
# and exits with this code, rather than serve what the damage made of its data.
EXIT_CORRUPT_STORE = 3

# Set to a directory to write a cProfile of the node loop there (``<name>.prof``) on exit.
PROFILE_ENV = "ZYNAMO_PROFILE_DIR"

# Admin ops the shell answers itself (the core answers the rest): ``shell`` gives the pid, the
# listen address and which peer links are connected; ``status`` (the core's) is extended with
# the same fields.
# ``message-faults`` sets (or, without arguments, clears) faults on the messages this node
# sends its peers (``cluster.net.message_faults``) and answers with what they did so far.
SHELL_OPS = ("shell", "message-faults")


def common_socket_options(sock: zmq.Socket[bytes]) -> None:
    """Options every Zynamo socket (server and client side) uses."""
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, HWM)
    sock.setsockopt(zmq.RCVHWM, HWM)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
    sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
    sock.setsockopt(zmq.HEARTBEAT_TTL, HEARTBEAT_TTL_MS)
    sock.setsockopt(zmq.HANDSHAKE_IVL, HANDSHAKE_IVL_MS)


def dialing_socket_options(sock: zmq.Socket[bytes]) -> None:
    """Options for a DEALER that connects out (to a peer node, or a client to a node)."""
    common_socket_options(sock)
    sock.setsockopt(zmq.CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS)
    sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
    # IMMEDIATE=1: queue messages only on connections that are up. Without it a DEALER keeps
    # what is sent to an unreachable peer and delivers it after the heal, seconds late; every
    # request has a deadline, so such a message is useless by then, and a burst of stale
    # replica writes after a heal would only muddy what a test observes. With it, a send to a
    # down peer fails at once (zmq.Again) and the message is dropped, exactly like a lost packet.
    sock.setsockopt(zmq.IMMEDIATE, 1)


# --------------------------------------------------------------------------- the cluster file


@dataclass(frozen=True)
class NodeSettings:
    """What one node needs from the cluster file: where it listens and how it dials peers."""

    name: str
    listen: str  # e.g. tcp://127.0.0.1:21001
    dial: dict[str, str]  # peer name -> the address this node connects to for that peer
    config: ClusterConfig
    seed: int
    sync: str
    cluster_file: Path | None = None  # where these came from, re-read for nodes that join later
    # A second address the node also answers on, for the harness's clients and admin channel
    # when peers reach it elsewhere (a node in its own network namespace: ``ipc://...``).
    control: str | None = None


def load_settings(cluster_file: Path, name: str) -> NodeSettings:
    """Read the cluster JSON (written by ``cluster.net.local``) for node ``name``.

    Shape: ``{"config": {...ClusterConfig...}, "seed": 0, "sync": "normal",
    "nodes": {"n1": {"host": "127.0.0.1", "port": 21001, "dial": {"n2": "tcp://..."}}}}``;
    a peer missing from ``dial`` is dialled directly at its own host and port. A node's
    optional ``"control"`` address is bound too (clients may connect there).
    """
    try:
        data = json.loads(cluster_file.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{cluster_file}: cannot read the cluster file: {err}") from None
    try:
        config = ClusterConfig.from_json(data["config"])
        nodes = data["nodes"]
        if name not in nodes:
            raise ValueError(f"node {name!r} is not in the cluster (nodes: {sorted(nodes)})")
        me = nodes[name]
        dial = {
            peer: str(me.get("dial", {}).get(peer) or tcp(info["host"], info["port"]))
            for peer, info in nodes.items()
            if peer != name
        }
        return NodeSettings(
            name=name,
            listen=tcp(me["host"], me["port"]),
            dial=dial,
            config=config,
            seed=int(data.get("seed", 0)),
            sync=str(data.get("sync", "normal")),
            cluster_file=cluster_file,
            control=str(me["control"]) if me.get("control") else None,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{cluster_file}: bad cluster file: {err}") from None


def tcp(host: str, port: int) -> str:
    return f"tcp://{host}:{int(port)}"


# --------------------------------------------------------------------------- the server


class Server:
    """One node's sockets, timers and store around its ``Node`` core."""

    def __init__(self, settings: NodeSettings, node_dir: Path) -> None:
        self.settings = settings
        self.store = SqliteStore(node_dir / "data.sqlite3", sync=settings.sync)
        generation = int(self.store.get_meta("generation") or 0) + 1
        self.store.set_meta("generation", str(generation))  # committed before we serve
        # ... and synced whatever ``sync`` says: a generation lost to a power failure would be
        # reused, and peers would take the new incarnation's heartbeats for old ones.
        self.store.sync()
        self.node = Node(
            name=settings.name,
            config=settings.config,
            store=self.store,
            rng=random.Random(f"{settings.seed}:{settings.name}:{generation}"),
            generation=generation,
            wall_offset_ms=time.time() * 1000 - time.monotonic() * 1000,
            address=settings.listen,
        )
        self.context = zmq.Context()
        before = threads()
        self.router = self.context.socket(zmq.ROUTER)  # the context's first: its threads start
        defer_new_io_threads(before)
        common_socket_options(self.router)
        # A reconnecting peer (same identity) takes over its old, possibly half-dead, pipe.
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.bind(settings.listen)
        if settings.control:
            self.router.bind(settings.control)
        self.peers: dict[str, zmq.Socket[bytes]] = {}
        for peer in settings.dial:  # connect now, so links are up before the first request
            self._connect_peer(peer, settings.dial[peer])
        self.timers: list[tuple[float, int, Timer]] = []
        self._timer_seq = 0
        self.stopping = False
        self.dropped_sends = 0
        self._reread_after: dict[str, float] = {}
        # While a batch of messages is handled (``drain``), what they send waits here for the
        # batch's group commit: nothing that follows a write may leave before it is durable.
        self.group_commit = GroupCommit(self.store)
        self._held: list[Send | Reply] | None = None
        self.message_faults = MessageFaults()

    # ------------------------------------------------------------------ effects

    def apply(self, effects: list[Effect]) -> None:
        held = self._held
        for effect in effects:
            if type(effect) is Send or type(effect) is Reply:
                if held is not None:
                    held.append(effect)
                else:
                    self._transmit(effect)
            elif type(effect) is SetTimer:
                self._timer_seq += 1
                heapq.heappush(self.timers, (effect.at_ms, self._timer_seq, effect.timer))
            elif type(effect) is Log:
                log.log(
                    logging.WARNING if effect.level == "warning" else logging.INFO,
                    "%s",
                    effect.text,
                )

    def _transmit(self, effect: Send | Reply) -> None:
        if isinstance(effect, Send):
            if self.message_faults.active:
                self._send_peer_messages(effect.dst, [encode(effect.msg)])
            else:
                self._send_peer(effect.dst, encode(effect.msg))
        else:
            self._reply(effect.client, encode(effect.msg))

    def _reply(self, client: bytes, frame: bytes) -> None:
        router = self.router
        try:
            # A ROUTER never blocks: a message for an unknown or full client is dropped.
            router.send(client, _SNDMORE_NOBLOCK)
            router.send(frame, _NOBLOCK)
        except zmq.Again:  # the client's queue is full; it will time out
            self.dropped_sends += 1

    def _connect_peer(self, peer: str, address: str) -> zmq.Socket[bytes]:
        dealer = self.context.socket(zmq.DEALER)
        dialing_socket_options(dealer)
        dealer.setsockopt(zmq.IDENTITY, f"peer:{self.settings.name}".encode())
        dealer.connect(address)
        self.peers[peer] = dealer
        return dealer

    def _peer_address(self, peer: str) -> str:
        """How to reach ``peer``: the cluster file's dial map (perhaps a proxy), read again
        for a node that joined after this one started, else the address the peer gossiped."""
        now = time.monotonic()
        if (
            peer not in self.settings.dial
            and self.settings.cluster_file is not None
            and now >= self._reread_after.get(peer, 0.0)
        ):
            self._reread_after[peer] = now + 1.0  # at most once a second per unknown peer
            try:
                fresh = load_settings(self.settings.cluster_file, self.settings.name)
            except ValueError as err:
                log.warning("cannot re-read the cluster file for peer %r: %s", peer, err)
            else:
                self.settings = dataclasses.replace(self.settings, dial=fresh.dial)
        if peer in self.settings.dial:
            return self.settings.dial[peer]
        member = self.node.membership.members.get(peer)
        return member.address if member is not None else ""

    def _send_peer_messages(self, peer: str, messages: list[bytes]) -> None:
        """Encoded messages to ``peer``, through the message faults if any are set, batched
        into as few frames as fit."""
        if self.message_faults.active:
            messages = self.message_faults.route(peer, messages, time.monotonic() * 1000)
        for batch in batches(messages):
            self._send_peer(peer, pack(batch))

    def send_held_messages(self, now_ms: float) -> None:
        """Send the messages the message faults held back whose time has come."""
        for peer, message in self.message_faults.due(now_ms):
            self._send_peer(peer, message)

    def _send_peer(self, peer: str, frame: bytes) -> None:
        sock = self.peers.get(peer)
        if sock is None:
            address = self._peer_address(peer)
            if not address:
                log.warning("no address known for peer %r; message dropped", peer)
                return
            log.info("connecting to peer %s at %s", peer, address)
            sock = self._connect_peer(peer, address)
        try:
            sock.send(frame, _NOBLOCK)
        except zmq.Again:  # peer down (IMMEDIATE) or its queue full: a lost message
            self.dropped_sends += 1

    # ------------------------------------------------------------------ inbound

    def drain(self, now_ms: float) -> None:
        """Handle what the ROUTER holds, up to ``DRAIN_BATCH`` messages, as one group commit.

        The writes the handlers make share one commit (``Store.begin_batch``), and every
        message they send is held until it is done (an acknowledged write survives
        ``kill -9``), so a burst of puts costs one commit. Frames are read one ``recv`` at
        a time: a message from a DEALER is exactly two frames (routing id, payload);
        anything longer is read to its end and handled as garbage. A zero-timeout poll says
        whether another message is waiting, which is cheaper than the ``zmq.Again`` an empty
        ``recv`` raises.
        """
        router = self.router
        recv = router.recv
        get = router.get
        readable = [(router, _POLLIN)]
        held = self._held = self.group_commit.begin()
        try:
            for count in range(DRAIN_BATCH):
                if count and not zmq.zmq_poll(readable, 0):  # nothing more waiting
                    break
                try:
                    sender = recv(_NOBLOCK)
                except zmq.Again:  # poll's wake-up was not for a message after all
                    break
                frames = [sender, recv(_NOBLOCK)]  # a ROUTER message always has a routing id
                while get(_RCVMORE):
                    frames.append(recv(_NOBLOCK))
                self.handle_frames(frames, now_ms)
                now_ms = time.monotonic() * 1000
        finally:
            self._held = None
            self._commit(held, now_ms)

    def _commit(self, held: list[Send | Reply], now_ms: float) -> None:
        """Commit the batch's writes (``GroupCommit``), then send what its messages produced.
        If the commit fails, the writes are gone: nothing that depended on them is sent (the
        requests time out, indefinite), and the node's in-memory indexes are rebuilt from the
        store."""
        group = self.group_commit
        early = group.seal()
        if early:
            self._transmit_batch(early)
        try:
            released = group.commit()
        except Exception:
            log.exception("group commit failed: %d messages not sent", len(held))
            self.node.data.load(now_ms)
            return
        self._transmit_batch(released)

    def _transmit_batch(self, effects: list[Send | Reply]) -> None:
        """Send ``effects``: what goes to one peer or one client connection leaves as one frame
        (``cluster.net.frames``), in order."""
        to_peers: dict[str, list[bytes]] = {}
        to_clients: dict[bytes, list[bytes]] = {}
        for effect in effects:
            if isinstance(effect, Send):
                to_peers.setdefault(effect.dst, []).append(encode(effect.msg))
            else:
                to_clients.setdefault(effect.client, []).append(encode(effect.msg))
        for peer, messages in to_peers.items():
            self._send_peer_messages(peer, messages)
        for client, messages in to_clients.items():
            for batch in batches(messages):
                self._reply(client, pack(batch))

    def handle_frames(self, frames: list[bytes], now_ms: float) -> None:
        """One multipart message from the ROUTER: ``[routing id, payload]``, the payload one
        message or a batch of them."""
        if len(frames) != 2:
            sender = frames[0] if frames else b""
            log.warning(
                "garbage from %r: expected 2 frames (routing id, message), got %d",
                sender,
                len(frames),
            )
            return
        sender, payload = frames
        messages, errors = unpack(payload)
        for err in errors:
            log.warning("garbage from %r: %s (frame %r)", sender, err, payload[:120])
        for msg in messages:
            self.handle_message(sender, msg, now_ms)

    def handle_message(self, sender: bytes, msg: Any, now_ms: float) -> None:
        try:
            kind = type(msg)
            if kind in PEER_TYPES:
                self.apply(self.node.on_message(None, msg, now_ms))
            elif kind in CLIENT_TYPES:
                if kind is AdminRequest and msg.op in SHELL_OPS:
                    self.apply([Reply(sender, self.shell_admin(msg))])
                    return
                effects = self.node.on_message(sender, msg, now_ms)
                if kind is AdminRequest and msg.op == "status":
                    effects = [self._with_shell_status(e) for e in effects]
                self.apply(effects)
            else:
                log.warning("unexpected %s from %r: dropped", kind.__name__, sender)
        except Exception:  # a bug or a message the core cannot digest: keep serving
            log.exception("error handling %s from %r", type(msg).__name__, sender)

    def shell_admin(self, msg: AdminRequest) -> AdminReply:
        """The admin ops the shell answers itself (``SHELL_OPS``)."""
        if msg.op == "message-faults":
            try:
                return AdminReply(msg.req, True, self.message_faults.configure(msg.args))
            except ValueError as err:
                return AdminReply(msg.req, False, None, str(err))
        return AdminReply(msg.req, True, self.shell_status())

    def shell_status(self) -> dict[str, object]:
        """What only the shell knows: its pid, its address, its live peer links, how many
        sends it dropped (a peer down or its queue full) and what message faults did."""
        return {
            "node": self.settings.name,
            "pid": os.getpid(),
            "listen": self.settings.listen,
            "links": self.links(),
            "dropped_sends": self.dropped_sends,
            "message_faults": dict(self.message_faults.counts),
        }

    def links(self) -> dict[str, bool]:
        """Peer -> whether a connection to it is up. With IMMEDIATE=1 a DEALER is writable
        exactly when it has a live connection (and room in its queue)."""
        return {
            peer: bool(cast(int, sock.getsockopt(_EVENTS)) & _POLLOUT)
            for peer, sock in self.peers.items()
        }

    def _with_shell_status(self, effect: Effect) -> Effect:
        if (
            isinstance(effect, Reply)
            and isinstance(effect.msg, AdminReply)
            and isinstance(effect.msg.data, dict)
        ):
            data = {**effect.msg.data, **self.shell_status()}
            return Reply(effect.client, AdminReply(effect.msg.req, effect.msg.ok, data))
        return effect

    def fire_due_timers(self, now_ms: float) -> None:
        timers = self.timers
        while timers and timers[0][0] <= now_ms:
            _, _, timer = heapq.heappop(timers)
            try:
                self.apply(self.node.on_timer(timer, now_ms))
            except Exception:
                log.exception("error handling timer %s", timer)

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        log.info(
            "node %s generation %d listening on %s; peers %s",
            self.settings.name,
            self.node.generation,
            self.settings.listen,
            self.settings.dial,
        )
        self.apply(self.node.start(time.monotonic() * 1000))
        # What start-up built (the Merkle index of every key, the ring) lives as long as the
        # process: keep the cyclic garbage collector from walking it again and again.
        gc.freeze()
        # ``zmq_poll`` itself rather than a ``Poller``, which rebuilds its answer every call.
        watched = [(self.router, _POLLIN)]
        timers = self.timers
        faults = self.message_faults
        while not self.stopping:
            now_ms = time.monotonic() * 1000
            if timers and timers[0][0] <= now_ms:
                self.fire_due_timers(now_ms)
            wait_ms = MAX_POLL_MS
            if timers:
                wait_ms = int(max(0.0, min(wait_ms, timers[0][0] - now_ms)) + 0.999)
            held_due = faults.next_due_ms()
            if held_due is not None:
                if held_due <= now_ms:
                    self.send_held_messages(now_ms)
                    held_due = faults.next_due_ms()
                if held_due is not None:
                    wait_ms = int(max(0.0, min(wait_ms, held_due - now_ms)) + 0.999)
            if not zmq.zmq_poll(watched, wait_ms):
                continue
            self.drain(time.monotonic() * 1000)
        log.info("node %s stopping", self.settings.name)

    def close(self) -> None:
        for sock in self.peers.values():
            sock.close(0)
        self.router.close(0)
        self.context.term()
        self.store.close()
        log.info("node %s stopped (%d sends dropped)", self.settings.name, self.dropped_sends)


# --------------------------------------------------------------------------- entry point


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cluster.net", description="Run one Zynamo node."
    )
    parser.add_argument("--name", required=True, help="this node's name in the cluster file")
    parser.add_argument("--dir", required=True, type=Path, help="data directory of this node")
    parser.add_argument("--cluster", required=True, type=Path, help="the cluster JSON file")
    parser.add_argument(
        "--log", type=Path, default=None, help="log file (default: DIR/node.log; '-' for stderr)"
    )
    return parser.parse_args(argv)


def setup_logging(target: Path | None, node_dir: Path) -> None:
    handler: logging.Handler
    if target is not None and str(target) == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(target or node_dir / "node.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    node_dir: Path = args.dir
    node_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(args.log, node_dir)
    # Handlers first, so a SIGTERM that arrives during start-up still means a clean exit.
    stop_requested: list[int] = []
    server: Server | None = None

    def stop(signum: int, frame: types.FrameType | None) -> None:
        stop_requested.append(signum)
        if server is not None:
            server.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        settings = load_settings(args.cluster, args.name)
    except ValueError as err:
        log.error("%s", err)
        return 2
    try:
        server = Server(settings, node_dir)
    except CorruptStoreError as err:
        # One line that says it all; the operator (or the nemesis) decides what comes next.
        log.error("%s %s", REFUSAL, err)
        return EXIT_CORRUPT_STORE
    server.stopping = bool(stop_requested)
    profile_dir = os.environ.get(PROFILE_ENV)
    try:
        if profile_dir:
            import cProfile

            # CPU time of this thread: waiting in poll costs nothing, preemption is not counted.
            profiler = cProfile.Profile(time.thread_time)
            try:
                profiler.runcall(server.run)
            finally:
                profiler.dump_stats(f"{profile_dir}/{settings.name}.prof")
        else:
            server.run()
    finally:
        server.close()
    return 0
