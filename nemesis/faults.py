"""The built-in fault packages, as registry entries: partition, latency and toxic on the
network's links, kill and pause on the node processes, clock through the admin channel,
membership through join and leave, disk (power loss, a damaged file) on the nodes' stores, and
message (drop, duplicate, reorder, delay) in the nodes' transport. Each says what its start op
carries and what it needs. No I/O here; the adapters it builds do theirs.
"""

from __future__ import annotations

import random
from typing import Any

from nemesis.clock import ClockNemesis
from nemesis.disk import DiskNemesis
from nemesis.environment import (
    FaultEnvironment,
    MessageFaults,
    Network,
    StorageFaults,
    Toxics,
    capability,
)
from nemesis.grudge import describe, parse_grudge
from nemesis.link_faults import LatencyNemesis, PartitionNemesis
from nemesis.membership import MembershipNemesis
from nemesis.messages import MessageNemesis
from nemesis.messages import start_value as _message_value
from nemesis.options import NemesisOptions
from nemesis.process import KillNemesis, PauseNemesis, live_nodes
from nemesis.registry import Fault, FaultNemesis, register_fault
from nemesis.schedule import spec_to_json
from nemesis.shapes import PRIMARIES_SHAPE
from nemesis.targets import TargetSpec
from nemesis.toxics import ToxicNemesis
from nemesis.toxics import start_value as _toxic_value

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
    if options.partition_grudges:  # explicit grudges replace the shapes
        grudge = parse_grudge(rng.choice(options.partition_grudges))
        return {"grudge": describe(grudge), "mode": rng.choice(options.partition_modes)}
    value: dict[str, Any] = {
        "shape": rng.choice(options.partition_shapes),
        "mode": rng.choice(options.partition_modes),
    }
    if value["shape"] == PRIMARIES_SHAPE:
        value["key"] = options.hot_key
    return value


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


def dropped_sends(env: FaultEnvironment) -> int | None:
    """Sends the live nodes dropped so far (their ``shell`` admin op), summed; None if a
    node's shell does not say (another environment, a node that does not answer)."""
    total = 0
    for node in live_nodes(env.processes):
        try:
            total += int(env.admin(node, "shell")["dropped_sends"])
        except Exception:
            return None
    return total


def _membership_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {
        "targets": spec_to_json(rng.choice(options.membership_targets)),
        "mode": rng.choice(options.membership_modes),
    }


def _partition(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return PartitionNemesis(_network(env), rng, opts, lambda: dropped_sends(env), env.clock)


def _latency(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return LatencyNemesis(_network(env), rng, opts)


def _kill(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return KillNemesis(env.processes, rng, env.clock)


def _pause(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return PauseNemesis(env.processes, rng, env.clock)


def _clock(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    processes = env.processes
    return ClockNemesis(
        env.admin, processes.nodes, lambda: live_nodes(processes), rng, opts, env.clock
    )


def _membership(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    processes = env.processes
    return MembershipNemesis(env.membership, lambda: live_nodes(processes), rng, processes.kill)


NEEDS_STORAGE = (
    "storage faults: the environment offers no power_loss(node), corrupt(node, mode, rng),"
    " restart(node) and sync_mode (nemesis.environment.StorageFaults)"
)
NEEDS_MESSAGES = (
    "message faults in the nodes' transport: the environment offers no set_message_faults and"
    " clear_message_faults (nemesis.environment.MessageFaults)"
)
NEEDS_TOXICS = (
    "Toxiproxy toxics: the environment's network offers no add_toxic and remove_toxics"
    " (nemesis.environment.Toxics)"
)


def _lacks_storage(env: FaultEnvironment) -> str | None:
    return None if capability(env, StorageFaults) is not None else NEEDS_STORAGE


def _lacks_messages(env: FaultEnvironment) -> str | None:
    return None if capability(env, MessageFaults) is not None else NEEDS_MESSAGES


def _lacks_toxics(env: FaultEnvironment) -> str | None:
    return None if capability(env.network, Toxics) is not None else NEEDS_TOXICS


def _disk_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {
        "mode": rng.choice(options.disk_modes),
        "targets": spec_to_json(rng.choice(options.disk_targets)),
    }


def _disk(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return DiskNemesis(
        capability(env, StorageFaults), env.processes, env.membership, rng, opts, env.clock
    )


def _message(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    processes = env.processes
    return MessageNemesis(
        capability(env, MessageFaults), processes.nodes, lambda: live_nodes(processes), rng, opts
    )


def _toxic(env: FaultEnvironment, rng: random.Random, opts: NemesisOptions) -> FaultNemesis:
    return ToxicNemesis(_network(env), capability(env.network, Toxics), rng, opts)


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
        _membership_value,
        _lacks_membership,
        heal_order=40,
    ),
    # Nodes a storage fault left down come back after the links heal, with the killed ones.
    Fault("disk", _disk, _disk_value, _lacks_storage, heal_order=31),
    Fault("message", _message, _message_value, _lacks_messages, heal_order=12),
    Fault("toxic", _toxic, _toxic_value, _lacks_toxics, heal_order=13),
)

for _fault in BUILTIN_FAULTS:
    register_fault(_fault)
