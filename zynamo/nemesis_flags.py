"""The nemesis's flags of ``zynamo test``: one per ``nemesis.options.NemesisOptions`` field
(``kill_targets`` is ``--kill-targets``; ``partition_grudges`` is ``--grudge``, repeatable),
plus ``--pr``, ``--pw`` and ``--sync``, which set what the faults are measured against.

``add_nemesis_flags`` adds them; ``nemesis_values`` reads them back into ``TestOptions``
keyword arguments (a ``NemesisOptions`` for everything the user set). A bad value raises
``UsageError`` naming the flag and the accepted values (exit 254). No I/O.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

from cluster.storage import SYNC_MODES
from nemesis.options import (
    CHOICE_OPTIONS,
    TARGET_OPTIONS,
    NemesisOptions,
    option_flag,
)
from nemesis.targets import TARGETS
from zynamo.cli import UsageError

# Fields that have flags of their own already (``--partition``, ``--partition-mode``) or a
# shorter name.
OWN_FLAGS = {"partition_shapes": None, "partition_modes": None, "partition_grudges": "--grudge"}

HELP = {
    "clock_max_skew_ms": "largest clock bump, strobe delta or scramble offset (ms)",
    "clock_max_drift_ppm": "largest clock drift rate (parts per million, fast or slow)",
    "strobe_period_ms": "clock strobe: flip the clock this often (ms)",
    "strobe_duration_ms": "clock strobe: keep flipping for this long (ms)",
    "latency_ms": "latency added to every link from or to a latency target (ms)",
    "jitter_ms": "latency jitter (ms)",
    "bandwidth_kbps": "bandwidth limit on those links (KB/s; 0: none)",
    "hot_key": "the key whose preference list `primaries` means (default %(default)s)",
    "message_drop": "probability that a message a message target sends is dropped",
    "message_duplicate": "... is sent twice",
    "message_reorder": "... is held back so later messages overtake it",
    "message_delay": "... is delayed by --message-delay-ms",
    "message_delay_ms": "delay of a delayed message (ms)",
    "toxic_timeout_ms": "timeout toxic: close after this; reset_peer: reset after this (ms)",
    "slicer_average_bytes": "slicer toxic: average slice size (bytes)",
    "limit_data_bytes": "limit_data toxic: close a connection after this many bytes",
}


def _default_text(option: str, value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join("+".join(v) if isinstance(v, tuple) else str(v) for v in value)
    return str(value)


def add_nemesis_flags(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """The nemesis block of ``zynamo test`` (and ``test-all``)."""
    group = parser.add_argument_group("nemesis parameters")
    group.add_argument(
        "--pr", type=int, default=defaults.pr, help="primaries that must answer a read (0: none)"
    )
    group.add_argument(
        "--pw", type=int, default=defaults.pw, help="primaries that must acknowledge a write"
    )
    group.add_argument(
        "--sync",
        default=defaults.sync,
        help=f"SQLite synchronous on every node: {', '.join(SYNC_MODES)} (default %(default)s)",
    )
    group.add_argument(
        "--commit-ms",
        default=",".join(f"{v:g}" for v in defaults.commit_ms),
        metavar="LOW,HIGH",
        help="--env sim: a group commit takes between LOW and HIGH virtual ms (default"
        " %(default)s); longer widens the window in which a kill loses a batch",
    )
    group.add_argument(
        "--grudge",
        action="append",
        default=None,
        metavar="'n1:n2,n3;n4:n5'",
        help="an explicit partition (n1 stops hearing n2 and n3, n4 stops hearing n5);"
        " repeat for several; partitions then use these instead of shapes",
    )
    base = NemesisOptions()
    for f in dataclasses.fields(NemesisOptions):
        if f.name in OWN_FLAGS:
            continue
        default = _default_text(f.name, getattr(base, f.name))
        if f.name in TARGET_OPTIONS:
            text = (
                f"targets to choose from: {', '.join(TARGETS)}, primaries:KEY,"
                " or nodes joined by + (default %(default)s)"
            )
        elif f.name in CHOICE_OPTIONS:
            text = f"choose from: {', '.join(CHOICE_OPTIONS[f.name])} (default %(default)s)"
        else:
            text = HELP.get(f.name, "") + " (default %(default)s)"
        group.add_argument(option_flag(f.name), default=default, help=text)


def flag_message(message: str) -> str:
    """``kill_targets: ...`` as ``--kill-targets: ...``: errors name what the user typed."""
    fields = {f.name for f in dataclasses.fields(NemesisOptions)}

    def flag(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "partition_grudges":
            return "--grudge"
        return option_flag(name) if name in fields else name

    return re.sub(r"^(\w+)(?=:)", flag, message)


def nemesis_values(args: argparse.Namespace) -> dict[str, Any]:
    """``TestOptions`` keyword arguments from the parsed flags; ``UsageError`` for bad ones."""
    base = NemesisOptions()
    mapping: dict[str, Any] = {}
    for f in dataclasses.fields(NemesisOptions):
        if f.name in OWN_FLAGS:
            continue
        value = getattr(args, f.name, None)
        if value is not None and value != _default_text(f.name, getattr(base, f.name)):
            mapping[f.name] = value
    if getattr(args, "grudge", None):
        mapping["partition_grudges"] = list(args.grudge)
    try:
        options = NemesisOptions.from_mapping(mapping)
    except ValueError as err:
        raise UsageError(flag_message(str(err))) from None
    return {
        "nemesis_options": options,
        "pr": args.pr,
        "pw": args.pw,
        "sync": args.sync,
        "commit_ms": _commit_ms(args.commit_ms),
    }


def _commit_ms(text: str) -> tuple[float, ...]:
    """``--commit-ms LOW,HIGH`` (one number: a fixed duration) as numbers; the range itself is
    checked with the other options."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--commit-ms: LOW,HIGH in virtual ms, e.g. 20,40; got {text!r}") from None
    return values * 2 if len(values) == 1 else values
