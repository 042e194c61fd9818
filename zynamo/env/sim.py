"""The simulator environment: the same test, on the deterministic simulator, in virtual time.

Every node is a ``cluster.core.Node`` inside one ``cluster.sim.Simulator`` (in-memory stores, a
seeded network), and the runner's asyncio code — workload, generator, nemesis schedule,
progress — runs on a ``VirtualTimeLoop`` whose clock is the simulator's: nothing waits in wall
time, and a run is a function of its seed and the code alone (``--check-determinism`` proves
it). The faults are the real environment's, acting on the simulator:

- processes: ``kill`` crashes a node (what it committed survives, as with ``kill -9`` on
  SQLite; the writes of a group commit still under way are lost with the replies it held),
  ``start_node`` restarts it with a new generation, ``pause``/``resume`` freeze it (what
  reaches it waits; its timers fire when it resumes);
- network: ``cut`` drops every message on a directed link (``refuse`` and ``drop`` alike: the
  simulator has no connections to refuse), ``slow`` adds latency and jitter;
- membership: ``leave`` asks the node to hand off and leave, and waits in virtual time until
  every member knows it left; ``join`` brings a node (back) in;
- admin: answered at once, as the harness's control channel — not part of the network under
  test (clock offsets, replica dumps, status);
- storage (``nemesis.environment.StorageFaults``): ``power_loss`` crashes a node and its
  in-memory store loses what its ``sync`` mode had not synced (``cluster.storage.MemoryStore``
  models SQLite's log and checkpoints); ``corrupt`` stops a node whose store the node will then
  find damaged and refuse to start on, as the real node does with its page checksums;
- messages (``MessageFaults``): drop, duplicate, reorder, delay a node's peer messages, with the
  real transport's fault model (``cluster.core.MessageFaults``);
- placement: a key's primaries in the simulated cluster's current ring.

Toxiproxy's toxics have no meaning here (there is no proxy): ``--nemesis toxic`` says so.

A blocking fault operation (a strobe, a leave) runs in turns with the loop
(``cluster.sim.workers``), so the workload goes on meanwhile, deterministically. Node log lines
of every level are kept (a warning is evidence for the report, not a crash of the harness) and
written as ``<node>.log``; each node's event journal is read just before the node is killed
(nothing is lost, unlike a real ``kill -9``) and at the end, and written as
``<node>.events.jsonl`` on the history's (virtual) clock. No I/O but writing the logs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from cluster.core import ClientError, ClusterConfig, LeaveTimeout, Waiting, leave_and_wait
from cluster.sim import (
    SimClient,
    Simulator,
    VirtualTimeLoop,
    in_worker,
    run_blocking,
    worker_sleep,
)
from cluster.storage import REFUSAL
from nemesis.environment import Link, Network
from nemesis.membership import MembershipCluster
from nemesis.process import ProcessCluster
from nemesis.timekeeping import Clock
from workloads.client import Client
from workloads.protocol_client import ProtocolClient
from zynamo.env.journals import JournalCollector

T = TypeVar("T")

# How often a waiting membership change looks again (virtual time).
POLL_S = 0.25
LEAVE_TIMEOUT_S = 120.0


class SimClock:
    """Virtual time: the simulator's clock. ``sleep`` from a fault operation running in turns
    with the loop waits while everything else goes on; from outside the loop (the final phase)
    it runs the simulator for that long."""

    def __init__(self, env: SimEnvironment) -> None:
        self._env = env

    def now(self) -> float:
        return self._env.sim.now_ms / 1000.0

    def sleep(self, seconds: float) -> None:
        if in_worker():
            worker_sleep(seconds)
        elif self._env.loop.is_running():
            raise RuntimeError(
                "a blocking sleep on the virtual-time loop would stop time for everything;"
                " run the call through env.run_blocking"
            )
        else:
            self._env.sim.run_for(max(0.0, seconds) * 1000.0)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if not event.is_set():
            self.sleep(seconds)
        return event.is_set()


class SimNetwork:
    """``nemesis.environment.Network`` over the simulator's links."""

    def __init__(self, sim: Simulator, nodes: tuple[str, ...]) -> None:
        self._sim = sim
        self._nodes = nodes
        self._slowed: set[Link] = set()

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    def cut(self, links: Iterable[Link], mode: str) -> list[Link]:
        chosen = sorted(set(links))
        self._sim.cut_links(chosen)
        return chosen

    def uncut(self, links: Iterable[Link] | None = None) -> None:
        if links is None:
            self._sim.heal()
        else:
            self._sim.cut -= set(links)

    def slow(
        self, links: Iterable[Link], latency_ms: int, jitter_ms: int = 0, bandwidth_kbps: int = 0
    ) -> list[Link]:
        chosen = sorted(set(links))
        self._sim.slow_links(chosen, float(latency_ms), float(jitter_ms))
        self._slowed.update(chosen)
        return chosen

    def unslow(self, links: Iterable[Link] | None = None) -> None:
        chosen = set(self._slowed if links is None else links)
        self._sim.slow_links(chosen, 0.0)
        self._slowed -= chosen

    def heal(self) -> None:
        self.uncut()
        self.unslow()


class SimEnvironment:
    """``zynamo.env.base.Environment`` on the deterministic simulator (see the module)."""

    def __init__(
        self,
        config: ClusterConfig,
        seed: int,
        sync: str = "normal",
        commit_ms: tuple[float, float] | None = None,
    ) -> None:
        self.config = config
        self.seed = seed
        # Warnings are kept in the node logs for the report, never fatal to the harness.
        self.sim = Simulator(config, seed=seed, expected_logs=[""], sync=sync, commit_ms=commit_ms)
        self.damaged: dict[str, str] = {}  # node -> how its store was damaged
        self.loop = VirtualTimeLoop(self.sim)
        self._clock = SimClock(self)
        self._net = SimNetwork(self.sim, config.nodes)
        self.departed: set[str] = set()
        self._started_ms = self.sim.now_ms
        self._journals = JournalCollector(self.admin, 0, self._virtual_ns)

    def _virtual_ns(self) -> int:
        return int(self.sim.now_ms * 1_000_000)

    def __enter__(self) -> SimEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if not self.loop.is_closed():
            self.loop.close()

    # --- time

    @property
    def clock(self) -> Clock:
        return self._clock

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(main)

    async def run_blocking(self, call: Callable[[], T]) -> T:
        return await run_blocking(call)

    # --- ProcessCluster

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n for n in self.sim.names if n not in self.departed)

    @property
    def endpoints(self) -> dict[str, str]:
        """Every node ever started, members or not: a request to one that left (or refuses to
        start) fails as a connection would, rather than being refused by the client."""
        return {node: f"sim://{node}" for node in self.sim.names}

    def is_running(self, node: str) -> bool:
        return node in self.sim.nodes and node not in self.sim.down

    def is_paused(self, node: str) -> bool:
        return node in self.sim.paused

    def kill(self, node: str) -> None:
        self._journals.poll([node])  # a crash loses the node's memory: read it first
        self.sim.crash(node)

    def start_node(self, node: str, timeout_s: float = 0.0) -> None:
        if self.is_running(node):
            return
        if node in self.damaged:
            raise RuntimeError(f"node {node}: {REFUSAL} {self.damaged[node]}")
        self.sim.restart(node)

    def pause(self, node: str) -> None:
        self.sim.pause(node)

    def resume(self, node: str) -> None:
        self.sim.resume(node)

    # --- MembershipCluster

    def leave(self, node: str) -> bool:
        """Have ``node`` leave (handing its data off when it runs), wait in virtual time until
        every running member knows it left, then stop it. True if it handed off its data."""
        if node not in self.nodes:
            raise ValueError(f"node {node} has already left the cluster")
        others = [n for n in self.nodes if n != node and self.is_running(n)]
        if not others:
            raise ValueError(f"cannot remove {node}: no other node of the cluster is running")
        running = self.is_running(node) and not self.is_paused(node)
        virtual_clock = Waiting(now_s=self._clock.now, sleep_s=self._clock.sleep, poll_s=POLL_S)

        def watching() -> list[str]:
            return [o for o in others if self.is_running(o) and not self.is_paused(o)]

        try:
            leave_and_wait(
                self.admin,
                node,
                running=running,
                via=others[0],
                others=watching,
                waiting=virtual_clock,
                timeout_s=LEAVE_TIMEOUT_S,
            )
        except (ClientError, LeaveTimeout) as err:
            raise ValueError(f"leave {node}: {err}") from None
        self._journals.poll([node])
        self.sim.crash(node)
        self.departed.add(node)
        return running

    def join(self, node: str) -> str:
        """Bring ``node`` into the cluster: one that left starts again (a new generation makes
        it a joiner), a new name starts empty and joins through the seeds."""
        if node in self.departed:
            self.departed.discard(node)
            self.sim.restart(node)
        elif node in self.sim.nodes:
            raise ValueError(f"node {node} is already a member of the cluster")
        else:
            self.sim.join(node)
        return node

    # --- optional fault capabilities (nemesis.environment)

    @property
    def sync_mode(self) -> str:
        return self.sim.sync

    def power_loss(self, node: str) -> dict[str, Any]:
        """Crash ``node``; its store keeps only what its sync mode had synced."""
        self._journals.poll([node])
        lost, rolled_back = self.sim.power_loss(node)
        return {"sync": self.sim.sync, "transactions_lost": lost, "keys_rolled_back": rolled_back}

    def corrupt(self, node: str, mode: str, rng: random.Random) -> dict[str, Any]:
        """Stop ``node``; its store is damaged (``bitflip`` or ``truncate``), which the node
        finds when it starts again, and refuses to serve from."""
        if mode not in ("bitflip", "truncate"):
            raise ValueError(f"damage mode {mode!r}: accepted: bitflip, truncate")
        self.kill(node)
        where = rng.randrange(1 << 20)
        self.damaged[node] = f"{mode} at byte {where} of its store"
        return {"file": f"sim://{node}/store", "mode": mode, "offset": where}

    def restart(self, node: str) -> dict[str, Any]:
        """Start a node a storage fault left down; a damaged one refuses, with its line."""
        if node in self.damaged:
            return {"started": False, "refused": f"{REFUSAL} {self.damaged[node]}"}
        self.start_node(node)
        return {"started": True, "refused": None}

    def set_message_faults(
        self,
        node: str,
        *,
        drop: float,
        duplicate: float,
        reorder: float,
        delay: float,
        delay_ms: int,
        seed: int,
    ) -> dict[str, int]:
        settings = {"drop": drop, "duplicate": duplicate, "reorder": reorder, "delay": delay}
        reply = self.sim.set_message_faults(node, {**settings, "delay_ms": delay_ms, "seed": seed})
        return dict(reply["counts"])

    def clear_message_faults(self, node: str) -> dict[str, int]:
        return dict(self.sim.set_message_faults(node, {})["counts"])

    def preference_list(self, key: str) -> tuple[str, ...]:
        return tuple(self.sim.ring().primaries(key, self.config.n))

    # --- FaultEnvironment

    @property
    def processes(self) -> ProcessCluster:
        return self

    @property
    def network(self) -> Network | None:
        return self._net

    @property
    def membership(self) -> MembershipCluster | None:
        return self

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        args.pop("timeout_ms", None)
        if op == "shell" and self.is_running(node) and not self.is_paused(node):
            # What the real node's shell says of its transport: sends its cut links dropped.
            return {"dropped_sends": self.sim.dropped_sends.get(node, 0)}
        reply = self.sim.admin_now(node, op, args)
        if reply is None:
            raise ClientError("timeout: no reply (node down or paused)", False, node)
        if not reply.ok:
            raise ClientError(reply.error or f"admin {op} failed", True, node)
        return reply.data

    # --- the run around the faults

    def describe(self) -> str:
        return f"{len(self.config.nodes)} simulated nodes (virtual time, seed {self.seed})"

    def start(self) -> None:
        """The simulator booted every node when it was made; the journals' times count from
        now, as the history's do."""
        self._journals = JournalCollector(self.admin, self._virtual_ns(), self._virtual_ns)

    def wait_ready(self, timeout_s: float) -> None:
        down = [n for n in self.nodes if not self.is_running(n) or self.is_paused(n)]
        if down:
            raise RuntimeError(f"nodes not running: {', '.join(down)}")

    def client(self, timeout_ms: int) -> Client:
        return ProtocolClient(
            lambda: SimClient(self.loop, self.endpoints, timeout_ms=timeout_ms, n=self.config.n)
        )

    def collect_logs(self, directory: Path) -> None:
        lines: dict[str, list[str]] = {node: [] for node in self.sim.names}
        for at_ms, node, level, text in self.sim.logs:
            seconds = (at_ms - self._started_ms) / 1000.0
            lines.setdefault(node, []).append(f"{seconds:10.3f} {level:<7} {text}\n")
        for node, node_lines in lines.items():
            (directory / f"{node}.log").write_text("".join(node_lines))
        self._journals.poll(n for n in self.sim.names if self.is_running(n))
        self._journals.write(directory)

    def stop(self) -> None:
        """Nothing runs outside this process: stopping is forgetting."""
