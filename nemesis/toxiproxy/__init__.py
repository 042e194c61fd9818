"""Toxiproxy for the nemesis: an embedded server that speaks Toxiproxy 2.x's HTTP API (no Go binary
can be installed here), the ways to run it, and a client that works the same against it or a real
Toxiproxy.

- ``ToxiproxyClient(url, timeout_s)``: typed calls, each with a deadline; errors are
  ``ToxiproxyError``.
- ``open_toxiproxy(url=None)``: a client for a run, to the real Toxiproxy at ``url`` or to an
  embedded server started as a child process (and stopped afterwards).
- ``ToxiproxyProcess(host, port)``: the server as a child process.
- ``EmbeddedToxiproxy(host, port)``: the server on a thread of this process (tests).
- ``ToxiproxyServer``: the asyncio server itself.

Importing this package does no I/O.
"""

from nemesis.toxiproxy.client import (
    BadRequest,
    Conflict,
    NotFound,
    ProxyInfo,
    ProxySpec,
    ToxicInfo,
    ToxiproxyApiError,
    ToxiproxyClient,
    ToxiproxyError,
    ToxiproxyTimeout,
    ToxiproxyUnavailable,
)
from nemesis.toxiproxy.runner import (
    EmbeddedToxiproxy,
    ToxiproxyProcess,
    ToxiproxyStartError,
    open_toxiproxy,
)
from nemesis.toxiproxy.server import ToxiproxyServer

__all__ = [
    "BadRequest",
    "Conflict",
    "EmbeddedToxiproxy",
    "NotFound",
    "ProxyInfo",
    "ProxySpec",
    "ToxicInfo",
    "ToxiproxyApiError",
    "ToxiproxyClient",
    "ToxiproxyError",
    "ToxiproxyProcess",
    "ToxiproxyServer",
    "ToxiproxyStartError",
    "ToxiproxyTimeout",
    "ToxiproxyUnavailable",
    "open_toxiproxy",
]
