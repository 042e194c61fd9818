"""Per-link proxies: one Toxiproxy proxy per ordered pair of nodes, and the faults applied to them.

Node ``src`` reaches node ``dst`` only through proxy ``src->dst`` (``ProxyNet.dial`` is the
``dial`` hook of ``cluster.net.local.LocalCluster``). Every message from ``src`` to ``dst`` travels
*upstream* on that proxy (``src``'s DEALER to ``dst``'s ROUTER; a node answers a peer on its own
DEALER, through the reverse proxy), so "``dst`` no longer hears ``src``" is exactly "cut
``src->dst``". A cut link behaves in one of two modes:

- ``refuse``: the proxy is disabled: its connections are closed and reconnects are refused, as
  when a host is down or a firewall rejects.
- ``drop``: a black hole: a ``timeout`` toxic with ``timeout: 0`` on both streams of the proxy
  swallows every byte while the TCP connection stays open. Both streams, because ZeroMQ's
  heartbeats are what detects it: the receiver's ROUTER stops getting the sender's PINGs and
  PONGs, the sender's DEALER stops getting the receiver's, and each drops the connection after
  its heartbeat timeout; reconnects then stall in the handshake until the heal. Only ZMTP
  control traffic flows downstream on a node-to-node link, so a one-way cut stays one-way for
  the data.

Latency (with jitter) and bandwidth limits are toxics on the upstream stream of chosen links.
``heal`` re-enables every proxy of this net and removes every toxic on them; it is idempotent
and looks at Toxiproxy's state rather than its own notes, so it also heals what an interrupted
run left. Only proxies this net created are touched (their names carry ``prefix``), so a shared,
external Toxiproxy serving others is safe to use; its global ``POST /reset`` is never called.

Does network I/O (Toxiproxy's HTTP API).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.net import free_ports
from nemesis.shapes import PARTITION_MODES, check_choice
from nemesis.toxiproxy.client import NotFound, ProxyInfo, ToxiproxyClient

Link = tuple[str, str]  # (sender, receiver)

LINK_ARROW = "->"
DROP_TOXIC = "zynamo-drop"  # + "-upstream" / "-downstream"
LATENCY_TOXIC = "zynamo-latency"
OTHER_TOXIC = "zynamo-toxic-"  # + kind: the toxic nemesis's (reset_peer, slicer, ...)
BANDWIDTH_TOXIC = "zynamo-bandwidth"
STREAMS = ("upstream", "downstream")


def link_label(link: Link) -> str:
    """``("n1", "n2")`` as ``"n1->n2"``, the form histories and proxy names use."""
    return f"{link[0]}{LINK_ARROW}{link[1]}"


def links_touching(nodes: Iterable[str], all_nodes: Sequence[str]) -> list[Link]:
    """Every directed link from or to one of ``nodes``, in a stable order."""
    chosen = set(nodes)
    return [
        (src, dst)
        for src in all_nodes
        for dst in all_nodes
        if src != dst and (src in chosen or dst in chosen)
    ]


@dataclass(frozen=True)
class LinkState:
    """What Toxiproxy says about one link's proxy."""

    link: Link
    enabled: bool
    toxics: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return self.enabled and not self.toxics


class ProxyNet:
    """The proxies between ``nodes``, on a Toxiproxy reached through ``toxiproxy``.

    ``setup(ports)`` creates one proxy per link, forwarding to ``node_host`` at each node's own
    port and listening on ``listen_host`` at ports from ``listen_ports`` (default: free loopback
    ports below the ephemeral range, so a disabled proxy's port is never taken by an outgoing
    connection before it is re-enabled); ``teardown`` deletes them. Proxy names are
    ``prefix + "n1->n2"``.
    """

    def __init__(
        self,
        toxiproxy: ToxiproxyClient,
        nodes: Sequence[str],
        *,
        prefix: str = "",
        node_host: str = "127.0.0.1",
        listen_host: str = "127.0.0.1",
    ) -> None:
        if not nodes:
            raise ValueError("nodes: the net needs at least one node")
        if len(set(nodes)) != len(nodes):
            raise ValueError(f"nodes: names must be distinct, got {list(nodes)}")
        self.toxiproxy = toxiproxy
        self.nodes = tuple(nodes)
        self.prefix = prefix
        self.node_host = node_host
        self.listen_host = listen_host
        self._listen: dict[Link, str] = {}  # link -> "host:port" its proxy listens on
        self._upstream: dict[str, str] = {}  # node -> "host:port" of the node itself

    # ------------------------------------------------------------------ wiring

    @property
    def links(self) -> list[Link]:
        return [(src, dst) for src in self.nodes for dst in self.nodes if src != dst]

    def proxy_name(self, link: Link) -> str:
        return self.prefix + link_label(link)

    def setup(self, ports: Mapping[str, int], listen_ports: Sequence[int] | None = None) -> None:
        """Create one proxy per link towards ``ports`` (each node's own port), replacing a
        leftover proxy of the same name."""
        missing = [node for node in self.nodes if node not in ports]
        if missing:
            raise ValueError(f"ports: no port for {', '.join(missing)}")
        links = self.links
        if listen_ports is None:
            listen_ports = free_ports(len(links))
        if len(listen_ports) != len(links):
            raise ValueError(f"listen_ports: need {len(links)} ports, got {len(listen_ports)}")
        existing = set(self.toxiproxy.proxies())
        for link, port in zip(links, listen_ports, strict=True):
            name = self.proxy_name(link)
            if name in existing:  # left by an interrupted run with the same prefix
                self.toxiproxy.delete_proxy(name)
            info = self.toxiproxy.create_proxy(
                name,
                listen=f"{self.listen_host}:{port}",
                upstream=f"{self.node_host}:{int(ports[link[1]])}",
            )
            self._listen[link] = info.listen
            self._upstream[link[1]] = f"{self.node_host}:{int(ports[link[1]])}"

    def add_node(self, node: str, port: int) -> list[Link]:
        """A node joins: create the proxies of its links with every node of the net (towards
        ``port``, its own); returns the new links. A node already in the net is left alone."""
        if node in self.nodes:
            return []
        self.nodes = (*self.nodes, node)
        new = [link for link in self.links if node in link]
        upstream = {dst: self._upstream.get(dst) for _, dst in new}
        upstream[node] = f"{self.node_host}:{int(port)}"
        for link, listen_port in zip(new, free_ports(len(new)), strict=True):
            info = self.toxiproxy.create_proxy(
                self.proxy_name(link),
                listen=f"{self.listen_host}:{listen_port}",
                upstream=str(upstream[link[1]]),
            )
            self._listen[link] = info.listen
        return new

    def dial(self, src: str, dst: str) -> str:
        """The ZeroMQ address node ``src`` connects to for peer ``dst``: its proxy."""
        try:
            listen = self._listen[(src, dst)]
        except KeyError:
            if (src, dst) in self.links:
                raise RuntimeError("ProxyNet.setup() must run before dialling") from None
            raise ValueError(
                f"no link {src}{LINK_ARROW}{dst}; nodes: {', '.join(self.nodes)}"
            ) from None
        host, port = listen.rsplit(":", 1)
        host = self.listen_host if host in ("", "0.0.0.0", "[::]") else host
        return f"tcp://{host}:{port}"

    def teardown(self) -> None:
        """Delete this net's proxies (those already gone are skipped). Idempotent."""
        for link in list(self._listen):
            with contextlib.suppress(NotFound):
                self.toxiproxy.delete_proxy(self.proxy_name(link))
            del self._listen[link]

    # ------------------------------------------------------------------ faults

    def _check_links(self, links: Iterable[Link]) -> list[Link]:
        checked = sorted(set(links))
        for src, dst in checked:
            if src == dst or src not in self.nodes or dst not in self.nodes:
                raise ValueError(f"no link {src}{LINK_ARROW}{dst}; nodes: {', '.join(self.nodes)}")
        return checked

    def cut(self, links: Iterable[Link], mode: str) -> list[Link]:
        """Cut each link in ``mode`` (``refuse`` or ``drop``); returns the links cut."""
        check_choice("partition mode", mode, PARTITION_MODES)
        checked = self._check_links(links)
        for link in checked:
            name = self.proxy_name(link)
            if mode == "refuse":
                self.toxiproxy.disable_proxy(name)
            else:
                present = {t.name for t in self.toxiproxy.toxics(name)}
                for stream in STREAMS:
                    toxic = f"{DROP_TOXIC}-{stream}"
                    if toxic not in present:
                        self.toxiproxy.add_toxic(name, "timeout", stream, {"timeout": 0}, toxic)
        return checked

    def uncut(self, links: Iterable[Link] | None = None) -> None:
        """Undo ``cut`` on ``links`` (default: every link); latency and bandwidth stay."""
        self._restore(self._check_links(self.links if links is None else links), partition=True)

    def slow(
        self,
        links: Iterable[Link],
        latency_ms: int,
        jitter_ms: int = 0,
        bandwidth_kbps: int = 0,
    ) -> list[Link]:
        """Delay every message on ``links`` by ``latency_ms`` ± ``jitter_ms``, and if
        ``bandwidth_kbps`` > 0 limit them to that many KB/s; returns the links slowed."""
        for option, value in (
            ("latency_ms", latency_ms),
            ("jitter_ms", jitter_ms),
            ("bandwidth_kbps", bandwidth_kbps),
        ):
            if value < 0:
                raise ValueError(f"{option}: expected >= 0, got {value}")
        checked = self._check_links(links)
        for link in checked:
            name = self.proxy_name(link)
            present = {t.name for t in self.toxiproxy.toxics(name)}
            for toxic in (LATENCY_TOXIC, BANDWIDTH_TOXIC):
                if toxic in present:  # a new setting replaces the old one
                    self.toxiproxy.remove_toxic(name, toxic)
            if latency_ms or jitter_ms:
                self.toxiproxy.add_toxic(
                    name,
                    "latency",
                    "upstream",
                    {"latency": latency_ms, "jitter": jitter_ms},
                    LATENCY_TOXIC,
                )
            if bandwidth_kbps:
                self.toxiproxy.add_toxic(
                    name, "bandwidth", "upstream", {"rate": bandwidth_kbps}, BANDWIDTH_TOXIC
                )
        return checked

    def unslow(self, links: Iterable[Link] | None = None) -> None:
        """Remove latency and bandwidth limits from ``links`` (default: every link)."""
        self._restore(self._check_links(self.links if links is None else links), partition=False)

    def add_toxic(self, links: Iterable[Link], kind: str, attributes: dict[str, Any]) -> list[Link]:
        """Put a toxic of ``kind`` with ``attributes`` on the upstream of each link (replacing
        one of the same kind); returns the links."""
        checked = self._check_links(links)
        name = OTHER_TOXIC + kind
        for link in checked:
            proxy = self.proxy_name(link)
            if name in {t.name for t in self.toxiproxy.toxics(proxy)}:
                self.toxiproxy.remove_toxic(proxy, name)
            self.toxiproxy.add_toxic(proxy, kind, "upstream", attributes, name)
        return checked

    def remove_toxics(self, links: Iterable[Link] | None = None) -> None:
        """Take the toxics ``add_toxic`` put on ``links`` off (default: every link)."""
        wanted = {
            self.proxy_name(link)
            for link in self._check_links(self.links if links is None else links)
        }
        for info in self._our_proxies():
            if info.name in wanted:
                self._heal_proxy(info, _is_other, enable=False)

    def heal(self) -> None:
        """Every link of this net enabled and free of toxics. Idempotent."""
        for info in self._our_proxies():
            self._heal_proxy(info, lambda _name: True, enable=True)

    def state(self) -> dict[Link, LinkState]:
        """Each link's proxy as Toxiproxy reports it (enabled, toxic names)."""
        by_name = {self.proxy_name(link): link for link in self.links}
        return {
            by_name[name]: LinkState(
                by_name[name], info.enabled, tuple(sorted(t.name for t in info.toxics))
            )
            for name, info in self.toxiproxy.proxies().items()
            if name in by_name
        }

    # ------------------------------------------------------------------ helpers

    def _our_proxies(self) -> list[ProxyInfo]:
        names = {self.proxy_name(link) for link in self.links}
        return [info for name, info in self.toxiproxy.proxies().items() if name in names]

    def _restore(self, links: list[Link], partition: bool) -> None:
        wanted = {self.proxy_name(link) for link in links}
        for info in self._our_proxies():
            if info.name in wanted:
                self._heal_proxy(info, _is_drop if partition else _is_slow, enable=partition)

    def _heal_proxy(self, info: ProxyInfo, remove: Callable[[str], bool], enable: bool) -> None:
        for toxic in info.toxics:
            if remove(toxic.name):
                # Removed meanwhile (NotFound): healed all the same.
                with contextlib.suppress(NotFound):
                    self.toxiproxy.remove_toxic(info.name, toxic.name)
        if enable and not info.enabled:
            self.toxiproxy.enable_proxy(info.name)


def _is_drop(toxic: str) -> bool:
    return toxic.startswith(DROP_TOXIC)


def _is_other(toxic: str) -> bool:
    return toxic.startswith(OTHER_TOXIC)


def _is_slow(toxic: str) -> bool:
    return toxic in (LATENCY_TOXIC, BANDWIDTH_TOXIC)
