"""Checks made before a run starts, so that a command that cannot work is refused at once
(exit 254) with nothing written: today, that an external Toxiproxy answers at its URL.

Does network I/O (one HTTP request, under a second).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from zynamo.options import TestOptions

REACH_TIMEOUT_S = 0.8


def toxiproxy_problem(url: str, timeout_s: float = REACH_TIMEOUT_S) -> str | None:
    """Why Toxiproxy at ``url`` cannot be used (one line), or None when it answers."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return f"--toxiproxy: {url!r} is not a URL such as http://127.0.0.1:8474"
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/version", timeout=timeout_s) as reply:
            reply.read(1024)
    except urllib.error.HTTPError:
        return None  # something answered HTTP; the run will tell if it is not Toxiproxy
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return (
            f"--toxiproxy: nothing answers at {url} ({reason}); start Toxiproxy there, or"
            " leave the option out to use the embedded one"
        )
    return None


def preflight(options: TestOptions) -> str | None:
    """The first reason ``options`` cannot run here, or None."""
    if options.env == "real" and options.toxiproxy:
        return toxiproxy_problem(options.toxiproxy)
    return None
