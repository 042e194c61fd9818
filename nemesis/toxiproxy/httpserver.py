"""A minimal HTTP/1.1 server over asyncio streams, enough for Toxiproxy's JSON API and its clients
(``requests``, Go's ``net/http``, curl): keep-alive, ``Content-Length`` and chunked request bodies,
``Expect: 100-continue``, and Go-like timeouts (15 s to read a request, 60 s idle). Does network
I/O.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

from nemesis.toxiproxy.acceptor import Acceptor

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_TIMEOUT_S = 15.0
IDLE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0].split("#", 1)[0]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HttpServer:
    """Serves ``handler`` on one listening socket until ``close``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._acceptor: Acceptor | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)

    def start(self, sock: socket.socket) -> None:
        """Serve on ``sock``, a bound, listening, non-blocking socket."""
        self._acceptor = Acceptor(sock, self._adopt)

    async def _adopt(self, conn: socket.socket) -> None:
        reader, writer = await asyncio.open_connection(sock=conn, limit=MAX_LINE_BYTES)
        self._writers.add(writer)
        task = asyncio.get_running_loop().create_task(self._serve_connection(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        for writer in list(self._writers):
            writer.transport.abort()  # shutting down: no flushing to slow clients
        for task in list(self._tasks):
            task.cancel()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                try:
                    request = await _read_request(reader, writer)
                except BadRequest as err:
                    await self._send(writer, _plain(err.status, str(err)), keep_alive=False)
                    return
                if request is None:
                    return
                keep_alive = _keep_alive(request)
                response = await self._respond(request)
                await self._send(writer, response, keep_alive, head=request.method == "HEAD")
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _respond(self, request: Request) -> Response:
        try:
            return await self._handler(request)
        except Exception as err:
            logger.exception("API handler failed for %s %s", request.method, request.target)
            body = f'{{"error":"{type(err).__name__}","status":500}}\n'.encode()
            return Response(500, body, "application/json")

    async def _send(
        self, writer: asyncio.StreamWriter, response: Response, keep_alive: bool, head: bool = False
    ) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        if response.content_type is not None:
            lines.append(f"Content-Type: {response.content_type}")
        lines.append(f"Date: {formatdate(usegmt=True)}")
        lines.append(f"X-Toxiproxy-Request-Id: {next(self._ids):020d}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if response.status != HTTPStatus.NO_CONTENT and response.status >= 200:
            lines.append(f"Content-Length: {len(response.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if head or response.status == HTTPStatus.NO_CONTENT else response.body
        writer.write(head_bytes + body)
        await writer.drain()


def _plain(status: int, message: str) -> Response:
    return Response(status, (message + "\n").encode(), "text/plain; charset=utf-8")


def _keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "line too long") from None


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> Request | None:
    """The next request on the connection, or ``None`` when the client closed it."""
    async with asyncio.timeout(IDLE_TIMEOUT_S):
        line = await _read_line(reader)
        while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests
            line = await _read_line(reader)
    if not line:
        return None
    async with asyncio.timeout(READ_TIMEOUT_S):
        parts = line.decode("latin-1").strip().split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "400 Bad Request: malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            raw = await _read_line(reader)
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            if raw in (b"\r\n", b"\n"):
                break
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name.strip():
                raise BadRequest(HTTPStatus.BAD_REQUEST, "400 Bad Request: malformed header")
            headers[name.strip().lower()] = value.strip()
        else:
            raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many headers")
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        body = await _read_body(reader, headers)
    return Request(method, target, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = (await _read_line(reader)).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BadRequest(HTTPStatus.BAD_REQUEST, "400 Bad Request: bad chunk") from None
            if size == 0:
                while (await _read_line(reader)) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
            parts.append(await reader.readexactly(size))
            await _read_line(reader)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "400 Bad Request: bad Content-Length") from None
    if length < 0:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "400 Bad Request: bad Content-Length")
    if length > MAX_BODY_BYTES:
        raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    return await reader.readexactly(length)
