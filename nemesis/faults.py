"""The built-in fault packages, as registry entries: partition and latency on the network's
links, kill and pause on the node processes, clock through the admin channel, membership through
join and leave. Each says what its start op carries and what it needs. No I/O here; the
adapters it builds do theirs.
"""

from __future__ import annotations

import random
from typing import Any

from nemesis.clock import ClockNemesis
from nemesis.environment import FaultEnvironment, Network
from nemesis.link_faults import LatencyNemesis, PartitionNemesis
from nemesis.membership import MembershipNemesis
from nemesis.options import NemesisOptions
from nemesis.process import KillNemesis, PauseNemesis, live_nodes
from nemesis.registry import Fault, FaultNemesis, register_fault
from nemesis.schedule import spec_to_json
from nemesis.targets import TargetSpec

NEEDS_NETWORK = "the per-link proxies (a ProxyNet)"
NEEDS_MEMBERSHIP = (
    "cluster join/leave: the environment's cluster has no `join(node)` and `leave(node)`"
)


def _network(env: FaultEnvironment) -> Network:
    if env.network is None:
        raise ValueError(f"this fault needs {NEEDS_NETWORK}")
    return env.network


def _lacks_network(env: FaultEnvironment) -> str | None:
    return NEEDS_NETWORK if env.network is None else None


def _lacks_membership(env: FaultEnvironment) -> str | None:
    return NEEDS_MEMBERSHIP if env.membership is None else None


def _targets_value(option: str) -> Any:
    def start_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
        targets: tuple[TargetSpec, ...] = getattr(options, option)
        return {"targets": spec_to_json(rng.choice(targets))}

    return start_value


def _partition_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {
        "shape": rng.choice(options.partition_shapes),
        "mode": rng.choice(options.partition_modes),
    }


def _clock_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {
        "mode": rng.choice(options.clock_modes),
        "targets": spec_to_json(rng.choice(options.clock_targets)),
    }


def _latency_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {
        "targets": spec_to_json(rng.choice(options.latency_targets)),
        "latency_ms": options.latency_ms,
        "jitter_ms": options.jitter_ms,
        "bandwidth_kbps": options.bandwidth_kbps,
    }


def _partition(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return PartitionNemesis(_network(env), rng, opts)


def _latency(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return LatencyNemesis(_network(env), rng, opts)


def _kill(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return KillNemesis(env.processes, rng)


def _pause(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return PauseNemesis(env.processes, rng)


def _clock(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    processes = env.processes
    return ClockNemesis(
        env.admin, processes.nodes, lambda: live_nodes(processes), rng, opts, env.clock
    )


def _membership(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    processes = env.processes
    return MembershipNemesis(env.membership, lambda: live_nodes(processes), rng)


# Heal order: links first (so healed nodes can talk), then processes, then membership (a
# node joins back through the others), clocks last (only a running node's clock can be reset).
BUILTIN_FAULTS = (
    Fault("partition", _partition, _partition_value, _lacks_network, heal_order=10),
    Fault("kill", _kill, _targets_value("kill_targets"), heal_order=30),
    Fault("pause", _pause, _targets_value("pause_targets"), heal_order=20),
    Fault("clock", _clock, _clock_value, heal_order=90),
    Fault("latency", _latency, _latency_value, _lacks_network, heal_order=11),
    Fault(
        "membership",
        _membership,
        _targets_value("membership_targets"),
        _lacks_membership,
        heal_order=40,
    ),
)

for _fault in BUILTIN_FAULTS:
    register_fault(_fault)
