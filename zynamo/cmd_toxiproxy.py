"""``zynamo toxiproxy [--host 127.0.0.1] [--port 8474]``: run the embedded Toxiproxy-compatible
server in the foreground until SIGINT or SIGTERM (then exit 0). It binds loopback by default; any
Toxiproxy 2.x client can drive it. Does I/O (network, signals)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nemesis.toxiproxy.runner import port_number, serve_forever
from nemesis.toxiproxy.server import DEFAULT_HOST, DEFAULT_PORT
from zynamo.cli import EXIT_BAD_ARGS, EXIT_VALID


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "toxiproxy",
        help="run the embedded Toxiproxy-compatible server",
        description=(
            "Run the embedded Toxiproxy-compatible server (Toxiproxy 2.x HTTP API: proxies, "
            "toxics, populate, reset) until interrupted."
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address of the HTTP API (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port of the HTTP API, 0 for a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for toxicity, jitter and slicer randomness"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        serve_forever(
            args.host,
            args.port,
            seed=args.seed,
            announce=lambda url: print(f"Toxiproxy API listening on {url}", flush=True),
        )
    except OSError as err:
        print(
            f"zynamo toxiproxy: error: {err.strerror or err} (choose another --host or --port)",
            file=sys.stderr,
        )
        return EXIT_BAD_ARGS
    return EXIT_VALID
