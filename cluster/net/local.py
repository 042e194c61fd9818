"""Local clusters: S node processes on loopback ports, each with its own data directory and log.

``LocalCluster`` writes the cluster file (``DIR/cluster.json``: settings, ports, the address each
node dials each peer at, and the pids of running nodes), starts ``python -m cluster.net`` per
node in ``DIR/<node>/``, waits until each answers an admin ping, and offers the process faults a
test needs: ``kill`` (SIGKILL), ``start_node`` / ``restart`` on the same data and port, ``pause``
(SIGSTOP) and ``resume`` (SIGCONT); and membership changes: ``join`` starts a new node (or one
that left) that joins the ring through the seeds, ``leave`` has a node hand its data to the
others and stops it. ``LocalCluster.load(DIR)`` re-attaches to a cluster another process started
(the ``zynamo cluster`` commands). A ``NodeHosting`` places nodes elsewhere than on loopback in
this network namespace: each node's own listen address, a command prefix that starts it (e.g.
``ip netns exec NS``) and a control address clients use instead (e.g. ``ipc://...``);
``nemesis.netns`` gives one that puts every node in its own network namespace. Does process,
file and network I/O.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import cluster
from cluster.core import ClientError, ClusterConfig, LeaveTimeout, Waiting, leave_and_wait
from cluster.net.client import Client
from cluster.net.server import tcp

HOST = "127.0.0.1"
CLUSTER_FILE = "cluster.json"
LOG_FILE = "node.log"
NODE_MODULE = "cluster.net"  # what ``python -m`` runs for a node (``cluster/net/__main__.py``)

# Ports are taken from below the kernel's ephemeral range (32768+ on Linux), so an outgoing
# connection never grabs a node's port while that node is down between a kill and a restart.
PORT_RANGE = (20000, 32000)

READY_TIMEOUT_S = 20.0
LINK_WAIT_S = 3.0
STOP_TIMEOUT_S = 5.0

Dial = Callable[[str, str], str]


class NodeHosting(Protocol):
    """Where nodes run and how they are reached, when not all on loopback here.

    ``host(node)``: the address the node listens on for its peers (and peers dial);
    ``launcher(node)``: the words put before the node's command (``[]``: run it directly);
    ``control(node)``: the address clients and the admin channel use instead of the peers'
    one (None: the same). Called for nodes that join later too."""

    def host(self, node: str) -> str: ...

    def launcher(self, node: str) -> list[str]: ...

    def control(self, node: str) -> str | None: ...


@dataclass(frozen=True)
class StaticHosting:
    """A ``NodeHosting`` read back from a cluster file (``LocalCluster.load``)."""

    hosts: Mapping[str, str]
    launchers: Mapping[str, list[str]]
    controls: Mapping[str, str | None]

    def host(self, node: str) -> str:
        return self.hosts.get(node, HOST)

    def launcher(self, node: str) -> list[str]:
        return list(self.launchers.get(node, []))

    def control(self, node: str) -> str | None:
        return self.controls.get(node)


_handed_out: set[int] = set()  # ports this process already allocated


class ClusterError(RuntimeError):
    """A node that would not start, or a cluster directory that cannot be used."""


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # ZeroMQ binds with SO_REUSEADDR, so a port with TIME_WAIT leftovers is usable by it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports that are free now, none handed out before by this process.

    The scan starts at an offset derived from the pid so parallel test workers rarely try the
    same ports; a port is only ever checked by binding it.
    """
    low, high = PORT_RANGE
    span = high - low
    start = (os.getpid() * 7919 + len(_handed_out)) % span
    ports: list[int] = []
    for i in range(span):
        port = low + (start + i) % span
        if port in _handed_out or not _port_is_free(port):
            continue
        _handed_out.add(port)
        ports.append(port)
        if len(ports) == count:
            return ports
    raise ClusterError(f"no {count} free loopback ports in {low}-{high}")


def _project_root() -> Path:
    return Path(cluster.__file__).resolve().parent.parent


def _kill(pid: int, signum: int) -> None:
    """Signal ``pid``; one that has just exited is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reap_if_child(pid: int, deadline: float) -> None:
    """Reap ``pid`` if it is a child of this process (started by an earlier ``LocalCluster``
    here, then re-attached with ``load``), so no zombie is left; others are reaped by their
    own parent. A process in the middle of exiting is waited for until ``deadline``."""
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _process_state(pid: int) -> str:
    """The state letter of ``pid`` in /proc (R, S, T for stopped, Z for zombie...); "" if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[0]


def _process_alive(pid: int, name: str) -> bool:
    """True if ``pid`` is a running (or stopped) Zynamo node called ``name``.

    Checks the command line too, so a recycled pid is never mistaken for (and signalled as)
    one of our nodes.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if _process_state(pid) in ("", "Z"):  # gone, or a zombie: exited
        return False
    return NODE_MODULE.encode() in cmdline and name.encode() in cmdline


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class LocalCluster:
    """A cluster of node processes on this machine. Use as a context manager to always stop it.

    ``dial(src, dst)`` gives the address ``src`` connects to for peer ``dst``; the default is
    ``dst``'s own port, and a nemesis passes one that routes through a proxy per link.
    ``detach=True`` starts nodes in their own sessions so they outlive this process.
    ``hosting`` places the nodes elsewhere than on loopback here (``NodeHosting``).
    """

    def __init__(
        self,
        directory: str | Path,
        config: ClusterConfig,
        dial: Dial | None = None,
        base_port: int | None = None,
        *,
        seed: int = 0,
        sync: str = "normal",
        detach: bool = False,
        ports: Mapping[str, int] | None = None,
        hosting: NodeHosting | None = None,
    ) -> None:
        self.hosting = hosting
        self.directory = Path(directory).resolve()
        self.config = config
        self.seed = seed
        self.sync = sync
        self.detach = detach
        if ports is not None:
            if set(ports) != set(config.nodes):
                raise ValueError(
                    f"ports: expected one port for each of {', '.join(config.nodes)},"
                    f" got {sorted(ports)}"
                )
            self.ports = dict(ports)
        elif base_port is not None:
            self.ports = {name: base_port + i for i, name in enumerate(config.nodes)}
        else:
            self.ports = dict(zip(config.nodes, free_ports(len(config.nodes)), strict=True))
        self._dial = dial
        self.pids: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._dial_map: dict[str, dict[str, str]] | None = None
        # Every node this directory has had: the initial ones, then those that joined later.
        self.members: list[str] = list(config.nodes)
        self.departed: set[str] = set()  # nodes that left the cluster (and are stopped)

    # ------------------------------------------------------------------ addresses and files

    @property
    def nodes(self) -> tuple[str, ...]:
        """The cluster's nodes: the initial ones and those that joined, minus those that left."""
        return tuple(n for n in self.members if n not in self.departed)

    def host(self, node: str) -> str:
        """The address ``node`` listens on for its peers."""
        return HOST if self.hosting is None else self.hosting.host(node)

    @property
    def endpoints(self) -> dict[str, str]:
        """The address a client connects to, by node."""
        hosting = self.hosting
        return {
            name: (hosting.control(name) if hosting else None) or tcp(self.host(name), port)
            for name, port in self.ports.items()
        }

    def dial_map(self) -> dict[str, dict[str, str]]:
        """For each node, the address it dials each peer at. Links to and from a node that
        joined later go through the ``dial`` hook too when it knows them, else directly."""
        if self._dial_map is None:
            self._dial_map = {}
        direct = {name: tcp(self.host(name), port) for name, port in self.ports.items()}
        for src in self.members:
            row = self._dial_map.setdefault(src, {})
            for dst in self.members:
                if dst != src and dst not in row:
                    row[dst] = self._dial_address(src, dst, direct[dst])
        return self._dial_map

    def _dial_address(self, src: str, dst: str, direct: str) -> str:
        if self._dial is None:
            return direct
        if src in self.config.nodes and dst in self.config.nodes:
            return self._dial(src, dst)
        try:  # a proxy net built for the initial nodes does not know the newcomers
            return self._dial(src, dst)
        except (KeyError, ValueError, RuntimeError):
            return direct

    def node_dir(self, node: str) -> Path:
        self._check(node)
        return self.directory / node

    def log_path(self, node: str) -> Path:
        return self.node_dir(node) / LOG_FILE

    @property
    def cluster_file(self) -> Path:
        return self.directory / CLUSTER_FILE

    def save(self) -> None:
        """Write ``cluster.json``: what a node, or a later command re-attaching, needs."""
        dial = self.dial_map()
        data: dict[str, Any] = {
            "config": self.config.to_json(),
            "seed": self.seed,
            "sync": self.sync,
            "nodes": {
                name: {
                    "host": self.host(name),
                    "port": self.ports[name],
                    "dir": name,
                    "dial": dial[name],
                    "pid": self.pids.get(name),
                    "left": name in self.departed,
                    **self._hosting_json(name),
                }
                for name in self.members
            },
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.cluster_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.cluster_file)  # atomic: a starting node never reads half a file

    def _hosting_json(self, node: str) -> dict[str, Any]:
        if self.hosting is None:
            return {}
        return {
            "launcher": self.hosting.launcher(node),
            "control": self.hosting.control(node),
        }

    @classmethod
    def load(cls, directory: str | Path) -> LocalCluster:
        """Re-attach to the cluster whose ``cluster.json`` is in ``directory``."""
        path = Path(directory) / CLUSTER_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ClusterError(f"{path}: no cluster here (no {CLUSTER_FILE})") from None
        except (OSError, ValueError) as err:
            raise ClusterError(f"{path}: cannot read the cluster file: {err}") from None
        try:
            config = ClusterConfig.from_json(data["config"])
            nodes = data["nodes"]
            members = list(nodes)  # the initial nodes first, then those that joined
            ports = {name: int(nodes[name]["port"]) for name in members}
            dial_map = {name: dict(nodes[name]["dial"]) for name in members}
            pids = {name: int(nodes[name]["pid"]) for name in members if nodes[name]["pid"]}
            departed = {name for name in members if nodes[name].get("left")}
            hosting = StaticHosting(
                hosts={name: str(nodes[name].get("host", HOST)) for name in members},
                launchers={name: list(nodes[name].get("launcher") or []) for name in members},
                controls={name: nodes[name].get("control") for name in members},
            )
            placed = any(h != HOST for h in hosting.hosts.values()) or any(
                [*hosting.launchers.values(), *hosting.controls.values()]
            )
            loaded = cls(
                directory,
                config,
                ports={name: ports[name] for name in config.nodes},
                seed=int(data.get("seed", 0)),
                sync=str(data.get("sync", "normal")),
                detach=True,
                hosting=hosting if placed else None,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ClusterError(f"{path}: bad cluster file: {err}") from None
        loaded.members = members
        loaded.ports = ports
        loaded.departed = departed
        loaded._dial_map = dial_map
        loaded.pids = pids
        return loaded

    # ------------------------------------------------------------------ processes

    def _check(self, node: str) -> None:
        if node not in self.ports:
            raise ValueError(f"unknown node {node!r}; nodes: {', '.join(self.nodes)}")

    def is_running(self, node: str) -> bool:
        """True while the node's process exists (paused counts as running)."""
        self._check(node)
        proc = self._procs.get(node)
        if proc is not None:
            return proc.poll() is None
        pid = self.pids.get(node)
        return pid is not None and _process_alive(pid, node)

    def pid(self, node: str) -> int:
        self._check(node)
        if node not in self.pids:
            raise ClusterError(f"node {node} has not been started")
        return self.pids[node]

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start every node that is not running and wait until all answer a ping. If one does
        not come up, the nodes this call started are stopped again and ``ClusterError`` says
        which node failed, with the end of its log."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.save()
        started: list[str] = []
        try:
            for name in self.nodes:
                if not self.is_running(name):
                    self._spawn(name)
                    started.append(name)
            self.save()
            self.wait_ready(started, timeout_s)
        except BaseException:
            for name in started:
                self.stop_node(name)
            self.save()
            raise

    def start_node(self, node: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start one node on its old data and port, and wait until it answers."""
        if self.is_running(node):
            raise ClusterError(f"node {node} is already running (pid {self.pids[node]})")
        self._spawn(node)
        self.save()
        self.wait_ready([node], timeout_s)

    def _spawn(self, node: str) -> None:
        node_dir = self.node_dir(node)
        node_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        root = str(_project_root())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        command = [
            *(self.hosting.launcher(node) if self.hosting else []),
            sys.executable,
            "-m",
            NODE_MODULE,
            "--name",
            node,
            "--dir",
            str(node_dir),
            "--cluster",
            str(self.cluster_file),
            "--log",
            "-",  # to stderr, which goes to node.log: log lines and any traceback, in order
        ]
        with open(node_dir / LOG_FILE, "ab") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=node_dir,
                start_new_session=self.detach,
            )
        self._procs[node] = proc
        self.pids[node] = proc.pid

    def wait_ready(
        self, nodes: Iterable[str] | None = None, timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        """Wait until every node in ``nodes`` (default: all) answers an admin ping, then (for
        at most ``LINK_WAIT_S``) until the running nodes are connected to one another.

        Answering pings is required (``ClusterError`` otherwise, with the tail of the node's
        log). Links are waited for but not required: a nemesis may restart a node behind a
        cut link. Without the wait, the first requests after a start would often be dropped
        by a peer whose connection is still being made (sends never queue for a down link).
        """
        waiting = list(self.nodes if nodes is None else nodes)
        deadline = time.monotonic() + timeout_s
        with Client(self.endpoints, timeout_ms=200) as client:
            while waiting:
                node = waiting[0]
                if not self.is_running(node):
                    raise ClusterError(
                        f"node {node} exited during start-up; its log ({self.log_path(node)})"
                        f" ends with:\n{_tail(self.log_path(node))}"
                    )
                try:
                    client.admin(node, "ping")
                    waiting.pop(0)
                    continue
                except ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"node {node} did not answer a ping within {timeout_s:g} s; its log"
                        f" ({self.log_path(node)}) ends with:\n{_tail(self.log_path(node))}"
                    )
                time.sleep(0.02)
            self._wait_links(client, time.monotonic() + LINK_WAIT_S)

    def _wait_links(self, client: Client, deadline: float) -> bool:
        """Wait until every running, unpaused node has a live link to every other; False if
        the deadline passed first."""
        while True:
            live = [n for n in self.nodes if self.is_running(n) and not self.is_paused(n)]
            missing = False
            for node in live:
                try:
                    links = client.admin(node, "shell")["links"]
                except ClientError:
                    missing = True
                    break
                if not all(links.get(peer, True) for peer in live if peer != node):
                    missing = True
                    break
            if not missing:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def _signal(self, node: str, signum: int) -> None:
        if not self.is_running(node):
            raise ClusterError(f"node {node} is not running")
        _kill(self.pids[node], signum)

    def _wait_exit(self, node: str, timeout_s: float) -> bool:
        proc = self._procs.get(node)
        if proc is not None:
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while self.is_running(node):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        pid = self.pids.get(node)
        if pid is not None:
            _reap_if_child(pid, deadline)
        return True

    def _forget(self, node: str) -> None:
        """Drop an exited node's process handle and pid (the pid may be reused later)."""
        self._procs.pop(node, None)
        self.pids.pop(node, None)

    def _save_if_written(self) -> None:
        if self.cluster_file.exists():
            self.save()

    def kill(self, node: str) -> None:
        """``kill -9`` the node and wait until it is gone."""
        self._signal(node, signal.SIGKILL)
        if self._wait_exit(node, STOP_TIMEOUT_S):
            self._forget(node)
        self._save_if_written()

    def stop_node(self, node: str, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (and SIGCONT, in case it is paused), then SIGKILL if it lingers."""
        self._stop([node], timeout_s)

    def restart(self, node: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Stop the node (cleanly if it is running) and start it again on the same data."""
        self.stop_node(node)
        self.start_node(node, timeout_s)

    def pause(self, node: str) -> None:
        """SIGSTOP: the process keeps its sockets but does nothing until ``resume``. Returns
        once the kernel reports it stopped (signals are delivered asynchronously)."""
        self._signal(node, signal.SIGSTOP)
        self._wait_state(node, stopped=True)

    def resume(self, node: str) -> None:
        """SIGCONT a paused node; returns once it runs again."""
        self._signal(node, signal.SIGCONT)
        self._wait_state(node, stopped=False)

    def _wait_state(self, node: str, stopped: bool, timeout_s: float = 2.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.is_paused(node) != stopped and self.is_running(node):
            if time.monotonic() > deadline:
                state = "stop" if stopped else "continue"
                raise ClusterError(f"node {node} did not {state} within {timeout_s:g} s")
            time.sleep(0.002)

    def is_paused(self, node: str) -> bool:
        self._check(node)
        return self.is_running(node) and _process_state(self.pids[node]) == "T"

    def stop(self) -> None:
        """Stop every node: SIGTERM all at once, then SIGKILL whatever is left."""
        self._stop(list(self.nodes), STOP_TIMEOUT_S)

    def _stop(self, nodes: list[str], timeout_s: float) -> None:
        running = [name for name in nodes if self.is_running(name)]
        for name in running:
            _kill(self.pids[name], signal.SIGTERM)
            _kill(self.pids[name], signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        deadline = time.monotonic() + timeout_s
        for name in running:
            if not self._wait_exit(name, max(0.0, deadline - time.monotonic())):
                _kill(self.pids[name], signal.SIGKILL)
                self._wait_exit(name, timeout_s)
        for name in running:
            if not self.is_running(name):
                self._forget(name)
        self._save_if_written()

    # ------------------------------------------------------------------ membership

    def join(
        self,
        node: str | None = None,
        timeout_s: float = READY_TIMEOUT_S,
        before_start: Callable[[str, int], None] | None = None,
    ) -> str:
        """Start a node that joins the cluster: a new one (named ``node``, default the next
        free ``nK``) on a new port, or one that left, again on its old data and port. Returns
        its name once it answers; the ring includes it after the next gossip rounds
        (``wait_settled``), and partitions move to it by handoff meanwhile.
        ``before_start(name, port)`` runs once its port is known and before anyone dials it
        (a proxy net adds its links there, so the newcomer's traffic crosses proxies too)."""
        if node is None:
            taken = set(self.members)
            node = next(f"n{i}" for i in range(1, len(taken) + 2) if f"n{i}" not in taken)
        if node in self.nodes:
            raise ClusterError(f"node {node} is already a member of the cluster")
        if node in self.departed:
            self.departed.discard(node)  # started again, with a new generation: it rejoins
        else:
            if not node or any(c in node for c in "/\\ ") or node.startswith("."):
                raise ValueError(f"bad node name {node!r}: use letters, digits, - and _")
            self.members.append(node)
            self.ports[node] = free_ports(1)[0]
        if before_start is not None:
            before_start(node, self.ports[node])
        self.save()
        try:
            self.start_node(node, timeout_s)
        except BaseException:
            self.departed.add(node)  # never started: leave it out of the cluster
            self.save()
            raise
        return node

    def leave(self, node: str, timeout_s: float = 120.0) -> bool:
        """Have ``node`` leave: ask a member to take it out of the ring, wait until it has
        handed all its data to the new owners and every member knows it left, then stop it.
        A node that is not running is removed without handoff (its replicas elsewhere restore
        the replication). True if it handed off its data. ``join(node)`` brings it back.

        A node that joined moments ago is not in the ring yet: the request waits until it is
        (the steps, shared with ``SimEnvironment.leave``, are ``cluster.core.leave_and_wait``)."""
        self._check(node)
        if node not in self.nodes:
            raise ClusterError(f"node {node} has already left the cluster")
        others = [n for n in self.nodes if n != node and self.is_running(n)]
        if not others:
            raise ClusterError(f"cannot remove {node}: no other node of the cluster is running")
        running = self.is_running(node) and not self.is_paused(node)
        wall_clock = Waiting(now_s=time.monotonic, sleep_s=time.sleep, poll_s=0.1)
        with Client(self.endpoints, timeout_ms=2000) as client:
            try:
                leave_and_wait(
                    client.admin,
                    node,
                    running=running,
                    via=others[0],
                    others=lambda: others,
                    waiting=wall_clock,
                    timeout_s=timeout_s,
                )
            except ClientError as err:
                raise ClusterError(f"leave {node}: {err}") from None
            except LeaveTimeout as err:
                raise ClusterError(str(err)) from None
        self.stop_node(node)
        self.departed.add(node)
        self.save()
        return running

    def wait_settled(self, timeout_s: float = 60.0) -> None:
        """Wait until every running member has the same ring, holding exactly the cluster's
        nodes, and no join or leave is in progress anywhere."""
        expected = set(self.nodes)
        with Client(self.endpoints, timeout_ms=2000) as client:

            def settled() -> bool:
                live = [n for n in self.nodes if self.is_running(n) and not self.is_paused(n)]
                rings = set()
                for n in live:
                    ring = client.admin(n, "ring")
                    status = client.admin(n, "status")
                    rings.add((ring["version"], tuple(ring["owners"])))
                    views = [status["status"]] + [p["status"] for p in status["peers"].values()]
                    if set(ring["owners"]) != expected or not set(views) <= {"member", "left"}:
                        return False
                return len(rings) == 1

            self._wait(settled, timeout_s, "the ring to settle")

    def _wait(self, check: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if check():
                    return
            except ClientError:
                pass  # a node busy or restarting: ask again
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {timeout_s:g} s waiting for {what}")
            time.sleep(0.1)

    # ------------------------------------------------------------------ conveniences

    def client(self, timeout_ms: int = 1000, **kwargs: Any) -> Client:
        return Client(self.endpoints, timeout_ms=timeout_ms, **kwargs)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
