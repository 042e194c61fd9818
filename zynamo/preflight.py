"""Checks made before a run starts, so that a command that cannot work is refused at once
(exit 254) with nothing written: that an external Toxiproxy answers at its URL, and that
``--net kernel`` runs as root with ``ip`` and ``nft`` installed.

Does network I/O (one HTTP request, under a second).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from nemesis.netns import find_tool
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


def kernel_net_problem(
    euid: int | None = None, which: Callable[[str], str | None] = find_tool
) -> str | None:
    """Why ``--net kernel`` cannot run here (one line), or None: it creates network
    namespaces and nftables rules, which needs root and the ``ip`` and ``nft`` commands."""
    if (os.geteuid() if euid is None else euid) != 0:
        return (
            "--net kernel: must run as root (it creates network namespaces and nftables"
            " rules); use --net proxy, the default, otherwise"
        )
    missing = [tool for tool in ("ip", "nft") if which(tool) is None]
    if missing:
        packages = {"ip": "iproute2", "nft": "nftables"}
        return (
            f"--net kernel: {' and '.join(missing)} not found; install"
            f" {' '.join(packages[t] for t in missing)} (apt-get install -y"
            f" {' '.join(packages[t] for t in missing)}; ./run.sh does it when run as root)"
        )
    return None


def directory_problem(flag: str, path: Path) -> str | None:
    """Why ``path`` cannot be a directory this process writes into, or None. Called once
    everything else is validated: it creates the directory (only it) to find out."""
    if path.exists() and not path.is_dir():
        return f"{flag}: {path} is a file, not a directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"{flag}: {path} cannot be created ({err.strerror or err})"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{flag}: {path} is not writable"
    return None


def preflight(options: TestOptions) -> str | None:
    """The first reason ``options`` cannot run here, or None."""
    if options.env == "real" and options.net == "kernel":
        problem = kernel_net_problem()
        if problem:
            return problem
    if options.env == "real" and options.toxiproxy:
        problem = toxiproxy_problem(options.toxiproxy)
        if problem:
            return problem
    return directory_problem("--results", options.results_dir)  # last: it may create it
