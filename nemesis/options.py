"""The nemesis's settings and the names it accepts, validated, as one frozen value.

Which fault packages a run combines is the registry's business (``nemesis.registry``);
``NemesisOptions`` holds what each package may do
(partition shapes and modes, targets per fault, clock skew sizes, latency figures);
``NemesisOptions.from_mapping`` reads it from a dict of strings or values (a CLI or a test file)
and every bad value raises ``ValueError`` naming the option and the accepted values. Pure, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nemesis.shapes import PARTITION_MODES, PARTITION_SHAPES, check_choice
from nemesis.targets import TARGETS, TargetSpec, parse_targets

CLOCK_MODES = ("bump", "strobe")

# Options holding target specs: a tuple of specs, each a keyword or named nodes.
TARGET_OPTIONS = (
    "kill_targets",
    "pause_targets",
    "clock_targets",
    "latency_targets",
    "membership_targets",
)


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
    clock_modes: tuple[str, ...] = CLOCK_MODES
    clock_max_skew_ms: int = 5_000  # bumps and strobe deltas are drawn from ±this
    strobe_period_ms: int = 50  # strobe: flip the clock this often ...
    strobe_duration_ms: int = 1_000  # ... for this long
    latency_targets: tuple[TargetSpec, ...] = ("one", "minority", "all")
    latency_ms: int = 100  # on every link from or to a target node
    jitter_ms: int = 50
    bandwidth_kbps: int = 0  # 0: no bandwidth limit
    membership_targets: tuple[TargetSpec, ...] = ("one",)

    def __post_init__(self) -> None:
        for shape in self.partition_shapes:
            check_choice("partition_shapes", shape, PARTITION_SHAPES)
        for mode in self.partition_modes:
            check_choice("partition_modes", mode, PARTITION_MODES)
        for mode in self.clock_modes:
            check_choice("clock_modes", mode, CLOCK_MODES)
        for option in ("partition_shapes", "partition_modes", "clock_modes", *TARGET_OPTIONS):
            if not getattr(self, option):
                raise ValueError(f"{option}: at least one value is needed")
        minimums = {
            "clock_max_skew_ms": 1,
            "strobe_period_ms": 1,
            "strobe_duration_ms": 0,
            "latency_ms": 0,
            "jitter_ms": 0,
            "bandwidth_kbps": 0,
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
            elif option in ("partition_shapes", "partition_modes", "clock_modes"):
                parsed[option] = tuple(_split(value))
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
