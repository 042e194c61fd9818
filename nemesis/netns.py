"""Network namespaces for a cluster whose links the kernel cuts (``--net kernel``): one
namespace per node, all joined by a bridge in a hub namespace, each node with its own address.

Layout of one run (``P`` = ``zyn-<pid>-<seq>-``, the run's prefix)::

    P+"hub"   bridge br0, with one veth end per node (v1, v2, ...), no address
    P+"n1"    lo, eth0 = 10.213.0.2/24 (the other end of v1)     python -m cluster.net n1
    P+"n2"    lo, eth0 = 10.213.0.3/24                            python -m cluster.net n2 ...

Every device and address lives inside a namespace the run created; nothing is added to the
host's namespace (the veth pairs are created inside the hub). Because each run has its own
bridge, runs side by side may reuse the same addresses.

How the harness reaches the nodes. Peer traffic crosses the bridge, where ``nemesis.kernel_net``
cuts it with nftables rules. The harness's clients and admin channel do not: every node also
binds a Unix-domain socket (``ipc://<tmp>/P/n1.sock``, ``LocalCluster``'s control address). A
filesystem socket belongs to no network namespace, so the harness, which stays in the host's
namespace, reaches each node without any address, route or veth in the host namespace — and a
kernel partition, like a proxy one, never cuts the client from the node it talks to. (An
abstract socket would not do: those are per network namespace.)

``NamespaceTopology`` is a context manager: entering it sweeps namespaces left by a killed
earlier run of ours (``sweep_stale``: names ``zyn-<pid>-...`` whose pid is gone; no other name
is ever touched), then creates the hub; ``host(node)`` places a node (namespace, veth, address)
on first use, so nodes that join later get theirs too; leaving deletes every namespace with
the run's prefix — their veths go with them — and the control sockets' directory. Leaving runs
on a normal end, on an exception, and (``atexit``) when the interpreter exits after Ctrl-C.
Needs root and ``ip`` (iproute2). Does process (``ip``) and file I/O.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

PREFIX = "zyn-"
SUBNET = "10.213.0"  # node k (1-based, in the order placed) is SUBNET.(k+1)/24
PREFIX_LEN = 24
BRIDGE = "br0"
NODE_DEVICE = "eth0"
COMMAND_TIMEOUT_S = 10.0
_STALE = re.compile(rf"^{re.escape(PREFIX)}(\d+)-\d+-")

_sequence = itertools.count(1)  # runs created by this process
SYSTEM_BIN = "/usr/sbin:/sbin"  # where Debian puts ip and nft, often not on a user's PATH


def find_tool(name: str) -> str | None:
    """The path of the command ``name`` (``ip``, ``nft``): on PATH, else in /usr/sbin or /sbin."""
    return shutil.which(name) or shutil.which(name, path=SYSTEM_BIN)


class NamespaceError(RuntimeError):
    """An ``ip`` or ``nft`` command failed: its command line and its error output."""


def run_command(argv: Sequence[str], stdin: str | None = None) -> str:
    """Run ``argv``; its output, or ``NamespaceError`` with what it printed on failure."""
    argv = [find_tool(argv[0]) or argv[0], *argv[1:]]
    try:
        proc = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NamespaceError(f"{' '.join(argv)}: {err}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise NamespaceError(f"{' '.join(argv)}: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def in_namespace(namespace: str, argv: Sequence[str]) -> list[str]:
    """``argv`` run inside ``namespace``."""
    return ["ip", "netns", "exec", namespace, find_tool(argv[0]) or argv[0], *argv[1:]]


def list_namespaces() -> list[str]:
    """The names of every named network namespace (``ip netns list``)."""
    return [line.split()[0] for line in run_command(["ip", "netns", "list"]).splitlines() if line]


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def sweep_stale(alive: Callable[[int], bool] = _pid_alive) -> list[str]:
    """Delete the namespaces (and control directories) that runs of ours left behind when
    they were killed: names ``zyn-<pid>-<seq>-...`` whose process is gone. A pid that is alive
    (even reused by someone else) keeps its namespaces. Returns the namespaces deleted."""
    deleted = []
    for name in list_namespaces():
        match = _STALE.match(name)
        if match and not alive(int(match.group(1))):
            with contextlib.suppress(NamespaceError):  # deleted meanwhile by another sweeper
                run_command(["ip", "netns", "delete", name])
                deleted.append(name)
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        match = _STALE.match(directory.name + "-")
        if match and directory.is_dir() and not alive(int(match.group(1))):
            shutil.rmtree(directory, ignore_errors=True)
    return deleted


class NamespaceTopology:
    """One run's namespaces (see the module docstring); a ``cluster.net.NodeHosting``."""

    def __init__(self) -> None:
        self.prefix = f"{PREFIX}{os.getpid()}-{next(_sequence)}-"
        self.hub = self.prefix + "hub"
        self.control_dir = Path(tempfile.gettempdir()) / self.prefix.rstrip("-")
        self._index: dict[str, int] = {}  # node -> its place (1-based): address and veth
        self._entered = False

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> NamespaceTopology:
        sweep_stale()
        atexit.register(self.close)  # Ctrl-C: the interpreter exits after the stack unwinds
        self._entered = True
        try:
            run_command(["ip", "netns", "add", self.hub])
            self._ip(self.hub, "link", "add", BRIDGE, "type", "bridge")
            self._ip(self.hub, "link", "set", BRIDGE, "up")
            self.control_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete every namespace of this run (their veths and addresses go with them) and
        the control sockets. Idempotent; also deletes what a half-made ``host`` left."""
        if not self._entered:
            return
        self._entered = False
        atexit.unregister(self.close)
        errors = []
        for name in self.namespaces():
            try:
                run_command(["ip", "netns", "delete", name])
            except NamespaceError as err:
                errors.append(str(err))
        shutil.rmtree(self.control_dir, ignore_errors=True)
        if errors:
            raise NamespaceError("; ".join(errors))

    def namespaces(self) -> list[str]:
        """The namespaces of this run that exist now."""
        return [name for name in list_namespaces() if name.startswith(self.prefix)]

    # ------------------------------------------------------------------ nodes

    def namespace(self, node: str) -> str:
        return self.prefix + node

    def place(self, node: str) -> str:
        """Give ``node`` its namespace, veth to the bridge and address (once); its address."""
        if node in self._index:
            return self.address(node)
        if not self._entered:
            raise RuntimeError("NamespaceTopology: enter it (with ...) before placing nodes")
        index = len(self._index) + 1
        if index > 253:
            raise NamespaceError(f"{node}: no address left in {SUBNET}.0/{PREFIX_LEN}")
        namespace, hub_end = self.namespace(node), f"v{index}"
        address = f"{SUBNET}.{index + 1}"
        run_command(["ip", "netns", "add", namespace])
        self._index[node] = index  # from here on ``close`` deletes what exists
        self._ip(
            self.hub, "link", "add", hub_end, "type", "veth",
            "peer", "name", NODE_DEVICE, "netns", namespace,
        )  # fmt: skip
        self._ip(self.hub, "link", "set", hub_end, "master", BRIDGE, "up")
        self._ip(namespace, "link", "set", "lo", "up")
        self._ip(namespace, "addr", "add", f"{address}/{PREFIX_LEN}", "dev", NODE_DEVICE)
        self._ip(namespace, "link", "set", NODE_DEVICE, "up")
        return address

    def address(self, node: str) -> str:
        if node not in self._index:
            raise ValueError(f"node {node!r} has no namespace yet")
        return f"{SUBNET}.{self._index[node] + 1}"

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._index)

    # --- cluster.net.NodeHosting

    def host(self, node: str) -> str:
        return self.place(node)

    def launcher(self, node: str) -> list[str]:
        self.place(node)
        return [find_tool("ip") or "ip", "netns", "exec", self.namespace(node)]

    def control(self, node: str) -> str | None:
        return f"ipc://{self.control_dir / node}.sock"

    def _ip(self, namespace: str, *args: str) -> None:
        run_command(["ip", "-n", namespace, *args])
