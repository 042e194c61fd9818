"""Helpers for tests and benchmarks of proxies: TCP servers to put behind them (an echo server, or
one that hands every accepted socket to the caller) and blocking socket utilities with timeouts.
Loopback only; threads; ``close`` frees everything. Does network I/O."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType


def free_port() -> int:
    """A port that was free a moment ago (for tests that need a fixed ``listen`` address)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connect(address: str, timeout_s: float = 5.0) -> socket.socket:
    """A client socket connected to ``host:port``, with ``timeout_s`` on every operation."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def is_listening(address: str) -> bool:
    try:
        with connect(address, timeout_s=1.0):
            return True
    except OSError:
        return False


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes, or fewer if the peer closes first."""
    parts: list[bytes] = []
    received = 0
    while received < size:
        data = sock.recv(min(size - received, 1 << 20))
        if not data:
            break
        parts.append(data)
        received += len(data)
    return b"".join(parts)


def read_until_closed(sock: socket.socket) -> tuple[bytes, BaseException | None]:
    """Everything until the peer closes: the data, and the error that ended it (``None`` for a
    clean EOF; a ``TimeoutError`` if it stayed open past the socket's timeout)."""
    parts: list[bytes] = []
    try:
        while True:
            data = sock.recv(1 << 16)
            if not data:
                return b"".join(parts), None
            parts.append(data)
    except OSError as err:
        return b"".join(parts), err


def elapsed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    started = time.monotonic()
    action()
    return time.monotonic() - started


class TcpServer:
    """Listens on ``127.0.0.1`` (a free port). With ``echo=True`` each connection gets back what it
    sends, until it closes; otherwise ``accept()`` returns the server side of each connection."""

    def __init__(self, echo: bool = True) -> None:
        self.echo = echo
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._accepted: queue.Queue[socket.socket] = queue.Queue()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._spawn(self._accept_loop)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def accept(self, timeout_s: float = 5.0) -> socket.socket:
        """The server side of the next connection (only without ``echo``)."""
        return self._accepted.get(timeout=timeout_s)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5.0)

    def __enter__(self) -> TcpServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._sockets.append(conn)
            if self.echo:
                self._spawn(self._echo, conn)
            else:
                self._accepted.put(conn)

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                conn.sendall(data)
