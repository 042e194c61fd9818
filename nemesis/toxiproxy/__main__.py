"""``python -m nemesis.toxiproxy [--host 127.0.0.1] [--port 8474]``: run the embedded
Toxiproxy-compatible server until SIGINT or SIGTERM. Exit codes: 0 stopped cleanly, 2 bad options,
1 could not listen. Does I/O (network, signals, the ready file)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from nemesis.toxiproxy.runner import port_number, serve_forever
from nemesis.toxiproxy.server import DEFAULT_HOST, DEFAULT_PORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nemesis.toxiproxy",
        description="Embedded Toxiproxy-compatible server (Toxiproxy 2.x HTTP API).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="API address (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="API port, 0 for a free one (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for toxicity, jitter, slicer")
    parser.add_argument(
        "--ready-file", type=Path, default=None, help="write host/port/pid as JSON once listening"
    )
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process dies"
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="(default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        serve_forever(
            args.host,
            args.port,
            seed=args.seed,
            ready_file=args.ready_file,
            exit_with_parent=args.exit_with_parent,
            announce=lambda url: print(f"Toxiproxy API listening on {url}", flush=True),
        )
    except OSError as err:
        print(f"toxiproxy: error: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
