"""The embedded Toxiproxy-compatible server: the HTTP API and every proxy, on one asyncio event
loop.

``ToxiproxyServer`` is the asyncio object; ``runner`` runs it in a thread or a subprocess.
Randomness (toxicity dice, jitter, slicer cuts) comes from one ``random.Random`` seeded by
``seed``. Does network I/O.
"""

from __future__ import annotations

import asyncio
import logging
import random

from nemesis.toxiproxy.addresses import AddressError, bind_listener, join_host_port
from nemesis.toxiproxy.api import ToxiproxyApi
from nemesis.toxiproxy.collection import ProxyCollection
from nemesis.toxiproxy.httpserver import HttpServer

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8474


class ToxiproxyServer:
    """``await start()`` binds the API (port 0 picks a free one; see ``port``), ``await stop()``
    closes it and every proxy."""

    def __init__(
        self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, seed: int | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.rng = random.Random(seed)
        self.collection = ProxyCollection(self.rng)
        self.api = ToxiproxyApi(self.collection)
        self._http = HttpServer(self.api.handle)
        self._started = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind the API; raises ``OSError`` (e.g. address in use) naming the address."""
        try:
            sock, _ = bind_listener(join_host_port(self.host, self.port))
        except AddressError as err:
            raise OSError(f"cannot listen on {self.url}: {err}") from None
        host, port = sock.getsockname()[:2]
        self.host, self.port = str(host), int(port)
        self._http.start(sock)
        self._started = True
        logger.info("Toxiproxy API listening on %s", self.url)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._http.close()
        self.collection.close_all()
        # Aborted transports close their sockets in callbacks on the next loop iterations: let
        # them run, or a loop stopped right after this would leave the sockets open.
        for _ in range(3):
            await asyncio.sleep(0)
