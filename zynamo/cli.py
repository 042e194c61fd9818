"""The `zynamo` command line: one argparse parser whose subcommands live in their own modules.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` (a function taking the parsed namespace and returning an exit code) as a default.
Exit codes follow Jepsen: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or input, 255 the
harness itself failed (its traceback is printed); Ctrl-C gives 130. ``main`` guarantees them: a
closed stdout (``zynamo check ... | head -1``) drops the rest of the output silently and keeps
the verdict's code, and no exception reaches the user without its traceback and 255.
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
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

# Subcommand modules, in the order `zynamo --help` lists them, with the commands each adds.
COMMAND_MODULES = {
    "zynamo.cmd_test": ("test", "test-all"),
    "zynamo.cmd_analyze": ("analyze",),
    "zynamo.cmd_serve": ("serve",),
    "zynamo.cmd_check": ("check",),
    "zynamo.cmd_cluster": ("cluster",),
    "zynamo.cmd_kv": ("kv",),
    "zynamo.cmd_toxiproxy": ("toxiproxy",),
    "zynamo.cmd_replay": ("replay", "shrink"),
}


EXIT_CODES_HELP = """exit codes (Jepsen's):
  0    valid            1    invalid            2    unknown
  254  bad arguments or input (one line names it; nothing is written)
  255  the harness itself failed (its traceback is printed)
  130  interrupted (Ctrl-C)"""


class UsageError(Exception):
    """A bad option or argument; the message names it and what is accepted."""


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that exits with 254 (Jepsen's "bad arguments") instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_ARGS, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> ArgumentParser:
    """The parser; with ``command`` only that subcommand's module is imported (start-up time:
    `zynamo check` need not load the cluster client or Toxiproxy)."""
    parser = ArgumentParser(
        prog="zynamo",
        description="Dynamo over ZeroMQ in a Jepsen-style harness.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", "-V", action="version", version=f"zynamo {version()}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    subparsers.required = True
    modules = [m for m, commands in COMMAND_MODULES.items() if command in commands]
    for name in modules or COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def version() -> str:
    """The installed package's version (pyproject.toml), or "unknown" when run from a tree
    that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("zynamo")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    from zynamo.exits import guard_stdout

    guard_stdout()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] in (["--version"], ["-V"]):
        print(f"zynamo {version()}")
        return EXIT_VALID
    command = next((a for a in arguments if not a.startswith("-")), None)
    try:
        parser = build_parser(command)
        args = parser.parse_args(arguments)
        code: int = args.handler(args)
    except UsageError as err:
        name = getattr(locals().get("args"), "command", None) or command or ""
        print(f"zynamo {name}: error: {err}".replace("  ", " "), file=sys.stderr)
        return EXIT_BAD_ARGS
    except KeyboardInterrupt:
        print("interrupted (exit 130)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit:
        raise  # argparse's own exits: --help (0) and bad arguments (254)
    except BaseException:
        from zynamo.exits import report_harness_failure

        report_harness_failure()
        return EXIT_HARNESS_FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
