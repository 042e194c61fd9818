"""A proxy: a listening socket that, for every client it accepts, dials the upstream and runs two
links (upstream: client → server, downstream: server → client) through the proxy's toxics.

Semantics follow Toxiproxy's ``proxy.go`` and ``link.go``: when one direction's stream ends, its
destination socket is closed, which ends the other direction too; disabling or deleting a proxy
stops listening and cuts every connection at once; changing ``listen`` or ``upstream`` restarts it.
A client whose upstream cannot be dialled is disconnected. Does network I/O on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable
from typing import Any, cast

from nemesis.toxiproxy.acceptor import Acceptor
from nemesis.toxiproxy.addresses import AddressError, bind_listener, dial_target
from nemesis.toxiproxy.errors import ProxyAlreadyStarted, internal_error
from nemesis.toxiproxy.link import Link
from nemesis.toxiproxy.toxics import Direction, Toxic

logger = logging.getLogger(__name__)

UPSTREAM_CONNECT_TIMEOUT_S = 30.0


class Side(asyncio.Protocol):
    """One socket of a proxied connection: the client's or the upstream server's."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.transport: asyncio.Transport | None = None
        self.connection: Connection | None = None
        self.out_link: Link | None = None  # the link this socket's bytes go into
        self._early: list[bytes] = []  # what arrived before the links existed
        self._early_eof = False
        self.closing = False
        self.lost = False
        self.pause_reasons: set[str] = set()
        self._reading_paused = False
        self.on_made: Callable[[Side], None] | None = None  # set for accepted clients

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        if self.on_made is not None:
            self.on_made(self)

    def data_received(self, data: bytes) -> None:
        link = self.out_link
        if link is not None:
            link.feed(data)
        else:
            self._early.append(data)

    def eof_received(self) -> bool:
        link = self.out_link
        if link is not None:
            link.feed_eof()
        else:
            self._early_eof = True
        return True  # keep writing: the other direction may still have data for this peer

    def attach(self, link: Link) -> None:
        """From now on this socket's bytes go into ``link`` (with any that came before)."""
        self.out_link = link
        for data in self._early:
            link.feed(data)
        self._early.clear()
        if self._early_eof:
            link.feed_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.connection is not None:
            self.connection.on_lost(self)

    def pause_writing(self) -> None:
        if self.connection is not None:
            self.connection.on_sink_pressure(self, True)

    def resume_writing(self) -> None:
        if self.connection is not None:
            self.connection.on_sink_pressure(self, False)

    def set_paused(self, reason: str, paused: bool) -> None:
        """Reading stops while a reason holds (upstream not dialled yet, full chain, slow peer)."""
        if paused:
            self.pause_reasons.add(reason)
        else:
            self.pause_reasons.discard(reason)
        want = bool(self.pause_reasons)
        if want == self._reading_paused or self.transport is None or self.closing or self.lost:
            return
        self._reading_paused = want
        if want:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closing and not self.lost:
            self.transport.write(data)

    def close(self) -> None:
        """Close gracefully: pending writes go out, then FIN; reading stops now."""
        if self.closing or self.lost or self.transport is None:
            return
        self.closing = True
        self.transport.close()

    def abort(self, reset: bool = False) -> None:
        """Close at once, dropping pending writes; with ``reset``, send a TCP RST (SO_LINGER 0)."""
        if self.lost or self.transport is None:
            return
        if reset:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.closing = True
        self.transport.abort()


class Connection:
    """A client, its upstream, and the two links between them."""

    def __init__(self, proxy: Proxy, client: Side) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: Side | None = None
        self.links: dict[Direction, Link] = {}
        self._dial: asyncio.Task[None] | None = None
        self._finished = False
        client.connection = self

    def begin(self) -> None:
        self.client.set_paused("dialling", True)
        self._dial = asyncio.get_running_loop().create_task(self._connect_upstream())

    async def _connect_upstream(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = dial_target(self.proxy.upstream)
            async with asyncio.timeout(UPSTREAM_CONNECT_TIMEOUT_S):
                _, side = await loop.create_connection(lambda: Side("upstream"), host, port)
        except (OSError, AddressError, TimeoutError) as err:
            logger.info(
                "proxy %s: unable to open connection to upstream %s: %s",
                self.proxy.name,
                self.proxy.upstream,
                err,
            )
            self.client.close()
            return
        self.upstream = side
        side.connection = self
        if self.client.lost or self.client.closing or self._finished:
            side.abort()
            return
        proxy, upstream, downstream = self.proxy, Direction.UPSTREAM, Direction.DOWNSTREAM
        up = Link(self, upstream, side.write, proxy.chain(upstream), proxy.rng)
        down = Link(self, downstream, self.client.write, proxy.chain(downstream), proxy.rng)
        self.links = {Direction.UPSTREAM: up, Direction.DOWNSTREAM: down}
        self.client.attach(up)
        side.attach(down)
        if side.lost:  # the upstream hung up before the links existed
            self.on_lost(side)
        self.client.set_paused("dialling", False)

    # -- LinkEnds -----------------------------------------------------------------------

    def _source(self, direction: Direction) -> Side | None:
        return self.client if direction is Direction.UPSTREAM else self.upstream

    def _sink(self, direction: Direction) -> Side | None:
        return self.upstream if direction is Direction.UPSTREAM else self.client

    def end(self, direction: Direction) -> None:
        sink = self._sink(direction)
        if sink is None:
            return
        sink.close()
        # Toxiproxy closes the whole destination socket, so its own stream ends as well.
        self._link_from(sink).feed_eof()

    def reset(self) -> None:
        for side in (self.client, self.upstream):
            if side is not None:
                side.abort(reset=True)

    def throttle(self, direction: Direction, paused: bool) -> None:
        source = self._source(direction)
        if source is not None:
            source.set_paused("chain-full", paused)

    # -- socket events --------------------------------------------------------------------

    def _link_from(self, side: Side) -> Link:
        direction = Direction.UPSTREAM if side is self.client else Direction.DOWNSTREAM
        return self.links[direction]

    def _link_to(self, side: Side) -> Link:
        direction = Direction.DOWNSTREAM if side is self.client else Direction.UPSTREAM
        return self.links[direction]

    def on_lost(self, side: Side) -> None:
        if not self.links:  # the upstream was never reached
            if side is self.client:
                self._cancel_dial()
                self._finish()
            return
        self._link_to(side).sink_gone()
        self._link_from(side).feed_eof()
        if self.client.lost and (self.upstream is None or self.upstream.lost):
            self._finish()

    def on_sink_pressure(self, side: Side, paused: bool) -> None:
        if not self.links:
            return
        direction = Direction.DOWNSTREAM if side is self.client else Direction.UPSTREAM
        source = self._source(direction)
        if source is not None:
            source.set_paused("slow-peer", paused)

    # -- toxics ---------------------------------------------------------------------------

    def add_toxic(self, toxic: Toxic) -> None:
        if self.links:
            self.links[toxic.direction].add_toxic(toxic)

    def update_toxic(self, toxic: Toxic) -> None:
        if self.links:
            self.links[toxic.direction].update_toxic(toxic)

    def remove_toxic(self, toxic: Toxic) -> None:
        if self.links:
            self.links[toxic.direction].remove_toxic(toxic)

    # -- ending ---------------------------------------------------------------------------

    def abort(self) -> None:
        """Cut the connection now (proxy disabled or deleted)."""
        self._cancel_dial()
        for side in (self.client, self.upstream):
            if side is not None:
                side.abort()
        self._finish()

    def _cancel_dial(self) -> None:
        if self._dial is not None and not self._dial.done():
            self._dial.cancel()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        for link in self.links.values():
            link.stop()
        self.proxy.forget(self)


class Proxy:
    """A named proxy as the API shows it (name, listen, upstream, enabled, toxics)."""

    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.rng = rng
        self.toxics: dict[Direction, list[Toxic]] = {d: [] for d in Direction}
        self.connections: set[Connection] = set()
        self._acceptor: Acceptor | None = None
        self._generation = 0

    # -- listening ------------------------------------------------------------------------

    def start(self, bound: tuple[socket.socket, str] | None = None) -> None:
        """Listen (on ``bound``, a socket already bound and its address, if given) and accept
        clients; ``listen`` becomes the real address. Raises ``ProxyAlreadyStarted``, or a 500
        ``ApiError`` worded like Go's when the bind fails."""
        if self.enabled:
            if bound is not None:
                bound[0].close()
            raise ProxyAlreadyStarted(self.name)
        if bound is None:
            try:
                bound = bind_listener(self.listen)
            except AddressError as err:
                raise internal_error(str(err)) from None
        sock, listen = bound
        self._generation += 1
        generation = self._generation
        loop = asyncio.get_running_loop()

        async def adopt(conn: socket.socket) -> None:
            await loop.connect_accepted_socket(lambda: self._new_client(generation), conn)

        self.listen, self.enabled = listen, True
        self._acceptor = Acceptor(sock, adopt)
        logger.info("started proxy %s on %s to %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Stop listening and cut every connection (no-op when already stopped)."""
        if not self.enabled:
            return
        self.enabled = False
        self._generation += 1
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        for connection in list(self.connections):
            connection.abort()
        logger.info("stopped proxy %s", self.name)

    def update(self, listen: str, upstream: str, enabled: bool) -> None:
        """Toxiproxy's ``Proxy.Update``: a new address restarts the proxy and drops connections."""
        if listen != self.listen or upstream != self.upstream:
            self.stop()
            self.listen = listen
            self.upstream = upstream
        if enabled != self.enabled:
            if enabled:
                self.start()
            else:
                self.stop()

    def _new_client(self, generation: int) -> Side:
        side = Side("client")
        side.on_made = lambda made: self._client_connected(made, generation)
        return side

    def _client_connected(self, side: Side, generation: int) -> None:
        if not self.enabled or generation != self._generation:
            # Accepted just before the proxy was disabled: refuse it as a stopped proxy would.
            if side.transport is not None:
                side.transport.abort()
            return
        connection = Connection(self, side)
        self.connections.add(connection)
        connection.begin()

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)

    # -- toxics ---------------------------------------------------------------------------

    def chain(self, direction: Direction) -> list[Toxic]:
        return list(self.toxics[direction])

    def all_toxics(self) -> list[Toxic]:
        return [toxic for direction in Direction for toxic in self.toxics[direction]]

    def find_toxic(self, name: str) -> Toxic | None:
        for toxic in self.all_toxics():
            if toxic.name == name:
                return toxic
        return None

    def add_toxic(self, toxic: Toxic) -> None:
        self.toxics[toxic.direction].append(toxic)
        for connection in list(self.connections):
            connection.add_toxic(toxic)

    def toxic_updated(self, toxic: Toxic) -> None:
        for connection in list(self.connections):
            connection.update_toxic(toxic)

    def remove_toxic(self, toxic: Toxic) -> None:
        self.toxics[toxic.direction].remove(toxic)
        for connection in list(self.connections):
            connection.remove_toxic(toxic)

    def reset_toxics(self) -> None:
        for toxic in self.all_toxics():
            self.remove_toxic(toxic)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [toxic.to_json() for toxic in self.all_toxics()],
        }
