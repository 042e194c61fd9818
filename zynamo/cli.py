"""The `zynamo` command line: one argparse parser whose subcommands live in their own modules.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` (a function taking the parsed namespace and returning an exit code) as a default.
Exit codes follow Jepsen: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 the harness
itself failed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNKNOWN = 2
EXIT_BAD_ARGS = 254
EXIT_HARNESS_FAILED = 255

# Subcommand modules, in the order `zynamo --help` lists them.
COMMAND_MODULES = (
    "zynamo.cmd_test",
    "zynamo.cmd_analyze",
    "zynamo.cmd_check",
    "zynamo.cmd_cluster",
    "zynamo.cmd_kv",
    "zynamo.cmd_toxiproxy",
)


class UsageError(Exception):
    """A bad option or argument; the message names it and what is accepted."""


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that exits with 254 (Jepsen's "bad arguments") instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_ARGS, f"{self.prog}: error: {message}\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="zynamo",
        description="Dynamo over ZeroMQ in a Jepsen-style harness.",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # a subcommand not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as err:
        print(f"zynamo {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_ARGS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
