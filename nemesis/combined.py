"""The run's nemesis: the chosen fault packages composed into one ``Nemesis``.

``build_nemesis(packages, env=..., rng=..., options=...)`` builds one adapter per registered
fault (``nemesis.registry``) that the environment supports, each acting on the environment
(``nemesis.environment.FaultEnvironment``: its processes, network, membership and admin
channel), and returns a ``CombinedNemesis`` that dispatches each ``FaultOp`` to its adapter and
records nothing itself: ``invoke`` returns what was done, for the runner to record.

``heal`` is heal-all: whatever the packages, it heals every adapter in the order the registry
gives (links, paused nodes, killed nodes, nodes that left, clocks: a clock can only be reset on
a node that runs). A step that fails does not stop the others; a ``HealError`` lists what
failed. It is idempotent and thread-safe: the runner may call it from its main thread (on an
error or Ctrl-C) while the nemesis thread is inside ``invoke``; a clock strobe in progress is
cut short. Does process and network I/O through the adapters.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from nemesis.base import FaultOp
from nemesis.environment import FaultEnvironment, Placement, capability
from nemesis.errors import HealError
from nemesis.options import TARGET_OPTIONS, NemesisOptions, coerce_options
from nemesis.registry import FaultNemesis, fault_names, parse_packages, registered_faults
from nemesis.shapes import PRIMARIES_SHAPE
from nemesis.targets import primaries_key

NEEDS_PLACEMENT = (
    "the ring: the environment offers no preference_list(key) (nemesis.environment.Placement)"
)
# op -> the same op with ``primaries`` targets and shapes resolved to the key's nodes
Resolve = Callable[[FaultOp], FaultOp]


def _as_is(op: FaultOp) -> FaultOp:
    return op


def placement_resolver(env: FaultEnvironment, options: NemesisOptions) -> Resolve:
    """Resolves ``primaries`` / ``primaries:KEY`` targets and the ``primaries`` partition shape
    to the key's preference list in the ring in force when the op runs (so a membership change
    moves them)."""
    placement: Placement | None = capability(env, Placement)

    def resolve(op: FaultOp) -> FaultOp:
        value = dict(op.value)
        key = primaries_key(value.get("targets"))
        shape = value.get("shape") == PRIMARIES_SHAPE and "primaries" not in value
        if key is None and not shape:
            return op
        if placement is None:
            raise ValueError(f"nemesis op {op.f!r}: primaries need {NEEDS_PLACEMENT}")
        if key is not None:
            value["targets"] = list(placement.preference_list(key or options.hot_key))
            value["targets_key"] = key or options.hot_key
        if shape:
            value["key"] = str(value.get("key") or options.hot_key)
            value["primaries"] = list(placement.preference_list(value["key"]))
        return FaultOp(op.f, value)

    return resolve


def uses_placement(options: NemesisOptions, chosen: Sequence[str]) -> list[str]:
    """The options of the chosen faults that need the ring (``primaries`` targets or shape)."""
    needs = [
        option
        for option in TARGET_OPTIONS
        if option.split("_")[0] in chosen
        and any(primaries_key(spec) is not None for spec in getattr(options, option))
    ]
    if "partition" in chosen and PRIMARIES_SHAPE in options.partition_shapes:
        needs.append("partition_shapes")
    return needs


def check_op(op: FaultOp) -> str:
    """The fault ``op`` is about; ``ValueError`` naming the accepted forms (and the registered
    faults) otherwise."""
    kind, _, fault = op.f.partition("-")
    accepted = fault_names()
    if kind not in ("start", "stop") or fault not in accepted:
        raise ValueError(
            f"nemesis op {op.f!r}: expected start-<fault> or stop-<fault>,"
            f" fault one of {', '.join(accepted)}"
        )
    return fault


class CombinedNemesis:
    """Dispatches fault ops to their adapters; heals everything."""

    def __init__(
        self,
        packages: Sequence[str],
        adapters: dict[str, FaultNemesis],
        heal_steps: Sequence[tuple[str, Callable[[], None]]],
        on_teardown: Sequence[Callable[[], None]] = (),
        interrupts: Sequence[threading.Event] = (),
        resolve: Resolve = _as_is,
    ) -> None:
        self.packages = tuple(packages)
        self.adapters = adapters
        self.heal_steps = list(heal_steps)
        self._on_teardown = list(on_teardown)
        self._interrupts = tuple(interrupts)
        self._resolve = resolve
        self._lock = threading.RLock()

    def setup(self) -> None:
        """Nothing to prepare: the environment's network exists before the cluster starts
        (nodes dial through it)."""

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        fault = check_op(op)
        if fault not in self.packages:
            raise ValueError(
                f"nemesis op {op.f!r}: {fault} is not among this run's faults"
                f" ({', '.join(self.packages) or 'none'})"
            )
        with self._lock:
            return self.adapters[fault].invoke(self._resolve(op))

    def heal(self) -> None:
        for interrupt in self._interrupts:
            interrupt.set()  # before the lock: a strobe in progress holds it
        failures: list[str] = []
        with self._lock:
            for name, step in self.heal_steps:
                try:
                    step()
                except Exception as err:  # heal the rest, then report
                    failures.append(f"{name}: {err}")
        if failures:
            raise HealError(failures)

    def teardown(self) -> None:
        for close in self._on_teardown:
            close()
        self._on_teardown.clear()


def build_nemesis(
    packages: str | Sequence[str],
    *,
    env: FaultEnvironment,
    rng: random.Random,
    options: object = None,
) -> CombinedNemesis:
    """The nemesis for ``packages`` (registered fault names, see ``nemesis.registry``), acting
    on ``env``.

    A chosen fault the environment cannot support (partition and latency without a network,
    membership without join/leave) is a ``ValueError`` before anything is done. ``options`` is
    anything ``nemesis.options.coerce_options`` accepts. Each adapter draws from its own
    generator seeded from ``rng`` (in registration order), so adding a package does not change
    what the others do.
    """
    chosen = parse_packages(packages)
    opts = coerce_options(options)
    opts.check_nodes(env.processes.nodes)
    faults = registered_faults()
    lacking: dict[str, list[str]] = {}
    supported = []
    for fault in faults:
        reason = fault.needs(env)
        if reason is None:
            supported.append(fault)
        elif fault.name in chosen:
            lacking.setdefault(reason, []).append(fault.name)
    for reason, names in lacking.items():
        raise ValueError(f"nemesis packages {', '.join(names)} need {reason}")
    ring_options = uses_placement(opts, chosen)
    if ring_options and capability(env, Placement) is None:
        raise ValueError(f"{', '.join(ring_options)}: primaries need {NEEDS_PLACEMENT}")
    seeds = {fault.name: rng.getrandbits(64) for fault in faults}
    adapters: dict[str, FaultNemesis] = {
        fault.name: fault.build(env, random.Random(seeds[fault.name]), opts) for fault in supported
    }
    heal_steps: list[tuple[str, Callable[[], None]]] = [
        (fault.name, adapters[fault.name].heal)
        for fault in sorted(supported, key=lambda fault: fault.heal_order)
    ]
    interrupts = [
        event
        for adapter in adapters.values()
        if isinstance(event := getattr(adapter, "interrupt", None), threading.Event)
    ]
    return CombinedNemesis(
        chosen, adapters, heal_steps, interrupts=interrupts, resolve=placement_resolver(env, opts)
    )
