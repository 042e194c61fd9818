"""The nemesis's settings and the names it accepts, validated, as one frozen value.

Which fault packages a run combines is the registry's business (``nemesis.registry``);
``NemesisOptions`` holds what each package may do (partition shapes, modes and explicit
grudges, targets per fault, clock skew sizes and strobe timing, latency figures, storage fault
modes, message-fault probabilities, Toxiproxy toxics and their figures);
``NemesisOptions.from_mapping`` reads it from a dict of strings or values (a CLI or a test file)
and every bad value raises ``ValueError`` naming the option and the accepted values. Every
field is a ``zynamo test`` flag of the same name with dashes (``kill_targets`` is
``--kill-targets``: ``option_flag``). Pure, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nemesis.grudge import parse_grudge
from nemesis.shapes import ACCEPTED_SHAPES, PARTITION_MODES, PARTITION_SHAPES, check_choice
from nemesis.targets import TARGETS, TargetSpec, parse_targets

CLOCK_MODES = ("bump", "strobe", "scramble", "drift")
DISK_MODES = ("power-loss", "bitflip", "truncate")
TOXIC_KINDS = ("reset_peer", "slicer", "limit_data", "timeout")
MEMBERSHIP_MODES = ("leave-rejoin", "join", "force-remove")

# Options that hold several names, each checked against the accepted ones.
CHOICE_OPTIONS = {
    "partition_shapes": ACCEPTED_SHAPES,
    "partition_modes": PARTITION_MODES,
    "clock_modes": CLOCK_MODES,
    "disk_modes": DISK_MODES,
    "toxic_kinds": TOXIC_KINDS,
    "membership_modes": MEMBERSHIP_MODES,
}
# Probabilities, per message, of each message-level fault.
PROBABILITY_OPTIONS = ("message_drop", "message_duplicate", "message_reorder", "message_delay")

# Options holding target specs: a tuple of specs, each a keyword or named nodes.
TARGET_OPTIONS = (
    "kill_targets",
    "pause_targets",
    "clock_targets",
    "latency_targets",
    "membership_targets",
    "disk_targets",
    "message_targets",
    "toxic_targets",
)


def option_flag(option: str) -> str:
    """The ``zynamo test`` flag of a nemesis option: ``kill_targets`` -> ``--kill-targets``."""
    return "--" + option.replace("_", "-")


def _grudges(value: Any) -> tuple[str, ...]:
    """Explicit grudges: one string (several separated by ``|``) or a list of strings, each
    checked by ``nemesis.grudge.parse_grudge``."""
    items = value.split("|") if isinstance(value, str) else list(value)
    grudges = tuple(str(item).strip() for item in items if str(item).strip())
    for grudge in grudges:
        try:
            parse_grudge(grudge)
        except ValueError as err:
            raise ValueError(f"partition_grudges: {err}") from None
    return grudges


def _split(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def _target_specs(option: str, value: Any) -> tuple[TargetSpec, ...]:
    """Target specs from ``"one,minority"``, ``"n1+n2"`` (named nodes joined by ``+``) or a
    list whose items are keywords, names or lists of names."""
    specs: list[TargetSpec] = []
    for item in _split(value):
        if isinstance(item, str) and "+" in item:
            specs.append(tuple(part.strip() for part in item.split("+")))
        elif isinstance(item, str):
            specs.append(item)
        else:
            specs.append(tuple(str(part) for part in item))
    if not specs:
        raise ValueError(f"{option}: at least one target is needed; accepted: {', '.join(TARGETS)}")
    return tuple(specs)


@dataclass(frozen=True)
class NemesisOptions:
    """What the fault packages may do. Times in milliseconds, bandwidth in KB/s (Toxiproxy's)."""

    partition_shapes: tuple[str, ...] = PARTITION_SHAPES
    partition_modes: tuple[str, ...] = PARTITION_MODES
    kill_targets: tuple[TargetSpec, ...] = ("one", "minority")
    pause_targets: tuple[TargetSpec, ...] = ("one", "minority")
    clock_targets: tuple[TargetSpec, ...] = ("one", "minority", "majority", "all")
    clock_modes: tuple[str, ...] = ("bump", "strobe", "scramble")
    clock_max_skew_ms: int = 5_000  # bumps and strobe deltas are drawn from ±this
    clock_max_drift_ppm: int = 100_000  # drift: each target runs up to 10 % fast or slow
    strobe_period_ms: int = 50  # strobe: flip the clock this often ...
    strobe_duration_ms: int = 1_000  # ... for this long
    latency_targets: tuple[TargetSpec, ...] = ("one", "minority", "all")
    latency_ms: int = 100  # on every link from or to a target node
    jitter_ms: int = 50
    bandwidth_kbps: int = 0  # 0: no bandwidth limit
    membership_targets: tuple[TargetSpec, ...] = ("one",)
    membership_modes: tuple[str, ...] = ("leave-rejoin",)
    # Explicit grudges ("n1:n2,n3;n4:n5": n1 no longer hears n2 and n3, n4 no longer hears
    # n5); when given, partitions apply these (one at random each time) instead of shapes.
    partition_grudges: tuple[str, ...] = ()
    # The key whose preference list the ``primaries`` shape and target mean (the workload's
    # first key is k0; ``primaries:KEY`` in a target names another).
    hot_key: str = "k0"
    # Storage faults (``disk``): power loss on the targets (what was not synced is lost), or a
    # stopped target's database file bit-flipped or truncated.
    disk_targets: tuple[TargetSpec, ...] = ("one", "majority")
    disk_modes: tuple[str, ...] = DISK_MODES
    # Message-level faults (``message``), injected in the targets' transport, per message sent.
    message_targets: tuple[TargetSpec, ...] = ("one", "minority", "all")
    message_drop: float = 0.05
    message_duplicate: float = 0.05
    message_reorder: float = 0.1
    message_delay: float = 0.1
    message_delay_ms: int = 100
    # Toxiproxy toxics (``toxic``) on every link from or to the targets.
    toxic_targets: tuple[TargetSpec, ...] = ("one", "minority")
    toxic_kinds: tuple[str, ...] = TOXIC_KINDS
    toxic_timeout_ms: int = 1000  # timeout: close after this; reset_peer: reset after this
    slicer_average_bytes: int = 64  # slicer: slice data into chunks of about this many bytes
    limit_data_bytes: int = 65536  # limit_data: close the connection after this many bytes

    def __post_init__(self) -> None:
        for option, accepted in CHOICE_OPTIONS.items():
            for value in getattr(self, option):
                check_choice(option, value, accepted)
        for option in (*CHOICE_OPTIONS, *TARGET_OPTIONS):
            if not getattr(self, option):
                raise ValueError(f"{option}: at least one value is needed")
        for option in PROBABILITY_OPTIONS:
            value = getattr(self, option)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{option}: expected a probability from 0 to 1, got {value!r}")
        if not self.hot_key:
            raise ValueError("hot_key: expected a key name, got ''")
        _grudges(self.partition_grudges)
        minimums = {
            "clock_max_skew_ms": 1,
            "clock_max_drift_ppm": 1,
            "strobe_period_ms": 1,
            "strobe_duration_ms": 0,
            "latency_ms": 0,
            "jitter_ms": 0,
            "bandwidth_kbps": 0,
            "message_delay_ms": 0,
            "toxic_timeout_ms": 0,
            "slicer_average_bytes": 1,
            "limit_data_bytes": 1,
        }
        for option, least in minimums.items():
            value = getattr(self, option)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{option}: expected an integer >= {least}, got {value!r}")

    def check_nodes(self, nodes: Sequence[str]) -> None:
        """Raise ``ValueError`` if a named target is not one of ``nodes``."""
        for option in TARGET_OPTIONS:
            for spec in getattr(self, option):
                parse_targets(spec, nodes, option)
        for text in self.partition_grudges:
            grudge = parse_grudge(text)
            strangers = sorted({n for k, v in grudge.items() for n in (k, *v)} - set(nodes))
            if strangers:
                raise ValueError(
                    f"partition_grudges: unknown node {', '.join(map(repr, strangers))} in"
                    f" {text!r}; nodes: {', '.join(nodes)}"
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> NemesisOptions:
        """Options from ``{"partition_shapes": "halves,isolate", "latency_ms": "50", ...}``."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"unknown nemesis options {', '.join(unknown)}; accepted: {', '.join(known)}"
            )
        parsed: dict[str, Any] = {}
        for option, value in values.items():
            if option in TARGET_OPTIONS:
                parsed[option] = _target_specs(option, value)
            elif option in CHOICE_OPTIONS:
                parsed[option] = tuple(_split(value))
            elif option == "partition_grudges":
                parsed[option] = _grudges(value)
            elif option == "hot_key":
                parsed[option] = str(value).strip()
            elif option in PROBABILITY_OPTIONS:
                try:
                    if isinstance(value, bool):
                        raise TypeError
                    parsed[option] = float(value)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"{option}: expected a probability from 0 to 1, got {value!r}"
                    ) from None
            else:
                try:
                    if isinstance(value, bool | float):
                        raise TypeError
                    parsed[option] = int(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{option}: expected an integer, got {value!r}") from None
        return cls(**parsed)

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: (
                [list(v) if isinstance(v, tuple) else v for v in value]
                if isinstance(value := getattr(self, f.name), tuple)
                else value
            )
            for f in dataclasses.fields(self)
        }


def coerce_options(options: object) -> NemesisOptions:
    """``NemesisOptions`` from whatever a caller holds: ``None`` (the defaults), a
    ``NemesisOptions``, a mapping (``from_mapping``), or a wider settings object such as the
    runner's test options, whose attributes named like our fields are used (a singular
    ``partition_mode`` counts as ``partition_modes``; a ``nemesis_options`` attribute wins)."""
    if options is None:
        return NemesisOptions()
    if isinstance(options, NemesisOptions):
        return options
    if isinstance(options, Mapping):
        return NemesisOptions.from_mapping(options)
    nested = getattr(options, "nemesis_options", None)
    if nested is not None:
        return coerce_options(nested)
    values: dict[str, Any] = {}
    mode = getattr(options, "partition_mode", None)
    if isinstance(mode, str):
        values["partition_modes"] = (mode,)
    for f in dataclasses.fields(NemesisOptions):
        value = getattr(options, f.name, None)
        if value is not None:
            values[f.name] = value
    return NemesisOptions.from_mapping(values)
