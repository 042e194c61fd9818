"""Accepting TCP connections on a listening socket, without ``asyncio.Server``.

Python 3.11's ``Server.close()`` races with connections accepted but not yet wrapped in a
transport: their transport creation fails (``assert self._sockets is not None`` in
``Server._attach``) and the accepted socket leaks. Proxies are stopped and started all the time,
so this module accepts by itself: ready sockets are accepted synchronously into a backlog that this
module owns until ``connect_accepted_socket`` has turned each into a transport, and ``close()``
closes whatever is left. Does network I/O on the event loop.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

RETRY_AFTER_ACCEPT_ERROR_S = 1.0  # e.g. out of file descriptors, as asyncio itself does


class Acceptor:
    """Accepts on ``sock`` (listening, non-blocking) and hands each connection to ``adopt``, one
    at a time, in order. ``adopt`` owns the socket from then on."""

    def __init__(
        self, sock: socket.socket, adopt: Callable[[socket.socket], Awaitable[None]]
    ) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._adopt = adopt
        self._loop = asyncio.get_running_loop()
        self._backlog: collections.deque[socket.socket] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._closed = False
        self._loop.add_reader(self._fd, self._on_readable)
        self._task = self._loop.create_task(self._adopt_all())

    def close(self) -> None:
        """Stop accepting now; close the listening socket and connections not yet adopted."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        self._sock.close()
        self._task.cancel()
        while self._backlog:
            self._backlog.popleft().close()

    def _on_readable(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as err:
                logger.warning("accept failed on %s: %s", self._sock.getsockname(), err)
                self._loop.remove_reader(self._fd)
                self._loop.call_later(RETRY_AFTER_ACCEPT_ERROR_S, self._resume)
                break
            conn.setblocking(False)
            self._backlog.append(conn)
        if self._backlog and self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._fd, self._on_readable)

    async def _adopt_all(self) -> None:
        while True:
            while not self._backlog:
                self._wakeup = self._loop.create_future()
                await self._wakeup
            conn = self._backlog.popleft()
            try:
                await self._adopt(conn)
            except asyncio.CancelledError:
                raise  # the transport, if made, is closed by asyncio
            except Exception:
                logger.exception("could not take over an accepted connection")
                conn.close()
