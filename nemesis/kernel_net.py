"""Links cut by the kernel: nftables rules in the nodes' network namespaces (``--net kernel``),
Jepsen's mechanism — packets dropped (or refused) by the kernel, not by a proxy.

``KernelNet`` is a ``nemesis.environment.Network`` over a ``nemesis.netns.NamespaceTopology``:
the same grudges and shapes as the proxy net reach it through ``PartitionNemesis``
(``nemesis.grudge.links_to_cut``). All traffic from node ``src`` to node ``dst`` travels on one
TCP connection, ``src``'s DEALER to ``dst``'s ROUTER at ``dst``'s port, so "``dst`` no longer
hears ``src``" is exactly that connection. Cutting ``src->dst`` adds two rules to the table
``inet zynamo`` in ``dst``'s namespace, each with a counter and the comment ``"src->dst"``:

- chain ``input``:  ``ip saddr SRC ip daddr DST tcp dport PORT``  (what ``src`` sends)
- chain ``output``: ``ip saddr DST ip daddr SRC tcp sport PORT``  (``dst``'s acks and ZMTP
  heartbeats back on that connection)

whose verdict is ``drop`` (mode ``drop``: a black hole, the connection hangs until ZeroMQ's
heartbeats give up, reconnects time out) or ``reject with tcp reset`` (mode ``refuse``: both
ends see the connection reset, reconnects are refused; the output rule lets pass the resets
the kernel sends for the input rule). The reverse connection (``dst``
dialling ``src``) matches neither rule, so a one-way cut stays one-way. Healing deletes the
rules (found by comment, by handle), adding their counters to ``dropped_packets`` first.
Latency and toxics are not offered: those faults need ``--net proxy``.

Does process I/O (``ip netns exec ... nft``). Needs root and nftables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from nemesis.netns import NamespaceTopology, in_namespace, run_command
from nemesis.network import LINK_ARROW, link_label
from nemesis.shapes import PARTITION_MODES, check_choice

Link = tuple[str, str]  # (sender, receiver)

TABLE = "zynamo"
CHAINS = ("input", "output")
VERDICTS = {"drop": "drop", "refuse": "reject with tcp reset"}
NO_SLOW = "--net kernel cuts links but does not slow them: latency and toxics need --net proxy"


class KernelNet:
    """The links between ``nodes``, cut by nftables rules in each receiver's namespace.
    ``port(node)`` is the port the node listens on for its peers."""

    def __init__(
        self, topology: NamespaceTopology, nodes: Iterable[str], port: Callable[[str], int]
    ) -> None:
        self.topology = topology
        self._nodes: tuple[str, ...] = ()
        self._port = port
        self._healed_packets = 0  # counted by rules already deleted
        for node in nodes:
            self.add_node(node)

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    @property
    def links(self) -> list[Link]:
        return [(src, dst) for src in self._nodes for dst in self._nodes if src != dst]

    def add_node(self, node: str, port: int | None = None) -> list[Link]:
        """Place ``node`` (namespace, address) and give it an empty rule table; its links."""
        if node in self._nodes:
            return []
        self.topology.place(node)
        self._nft(node, _table_script())
        self._nodes = (*self._nodes, node)
        return [link for link in self.links if node in link]

    # ------------------------------------------------------------------ faults

    def _check_links(self, links: Iterable[Link]) -> list[Link]:
        checked = sorted(set(links))
        for src, dst in checked:
            if src == dst or src not in self._nodes or dst not in self._nodes:
                names = ", ".join(self._nodes)
                raise ValueError(f"no link {src}{LINK_ARROW}{dst}; nodes: {names}")
        return checked

    def cut(self, links: Iterable[Link], mode: str) -> list[Link]:
        """Cut each link in ``mode`` (``refuse`` or ``drop``); returns the links cut. A link
        already cut is cut again in the new mode."""
        check_choice("partition mode", mode, PARTITION_MODES)
        checked = self._check_links(links)
        self.uncut(checked)
        by_receiver: dict[str, list[Link]] = {}
        for link in checked:
            by_receiver.setdefault(link[1], []).append(link)
        for dst, incoming in by_receiver.items():
            self._nft(dst, "".join(self._rules(link, VERDICTS[mode]) for link in incoming))
        return checked

    def _rules(self, link: Link, verdict: str) -> str:
        src, dst = link
        source, me = self.topology.address(src), self.topology.address(dst)
        port, comment = int(self._port(dst)), json.dumps(link_label(link))
        # The resets ``reject`` sends leave through the output hook too: let them pass.
        not_reset = " tcp flags & rst == 0" if verdict != VERDICTS["drop"] else ""
        return (
            f"add rule inet {TABLE} input ip saddr {source} ip daddr {me} tcp dport {port}"
            f" counter {verdict} comment {comment}\n"
            f"add rule inet {TABLE} output ip saddr {me} ip daddr {source} tcp sport {port}"
            f"{not_reset} counter {verdict} comment {comment}\n"
        )

    def uncut(self, links: Iterable[Link] | None = None) -> None:
        """Delete the rules of ``links`` (default: every link), looking at each namespace's
        rules rather than notes of our own; their packets join ``dropped_packets``."""
        wanted = {
            link_label(link) for link in self._check_links(self.links if links is None else links)
        }
        receivers = {dst for src, dst in self.links if link_label((src, dst)) in wanted}
        for dst in sorted(receivers):
            deletes = []
            for rule in self._rules_in(dst):
                if rule.get("comment") in wanted:
                    self._healed_packets += _packets(rule)
                    deletes.append(
                        f"delete rule inet {TABLE} {rule['chain']} handle {int(rule['handle'])}\n"
                    )
            if deletes:
                self._nft(dst, "".join(deletes))

    def heal(self) -> None:
        """Every link whole. Idempotent."""
        self.uncut()

    def slow(
        self, links: Iterable[Link], latency_ms: int, jitter_ms: int = 0, bandwidth_kbps: int = 0
    ) -> list[Link]:
        raise ValueError(NO_SLOW)

    def unslow(self, links: Iterable[Link] | None = None) -> None:
        """Nothing to undo: no link is ever slowed here."""

    # ------------------------------------------------------------------ what the kernel says

    def state(self) -> dict[Link, int]:
        """Each link cut now, with the packets its rules dropped (or refused) so far."""
        by_label = {link_label(link): link for link in self.links}
        found: dict[Link, int] = {}
        for node in self._nodes:
            for rule in self._rules_in(node):
                link = by_label.get(str(rule.get("comment")))
                if link is not None:
                    found[link] = found.get(link, 0) + _packets(rule)
        return found

    def dropped_packets(self) -> int:
        """Packets the kernel dropped or refused on cut links, since this net was made."""
        return self._healed_packets + sum(self.state().values())

    # ------------------------------------------------------------------ nft

    def _nft(self, node: str, script: str) -> None:
        namespace = self.topology.namespace(node)
        run_command(in_namespace(namespace, ["nft", "-f", "-"]), stdin=script)

    def _rules_in(self, node: str) -> list[dict[str, Any]]:
        namespace = self.topology.namespace(node)
        out = run_command(
            in_namespace(namespace, ["nft", "-j", "-a", "list", "table", "inet", TABLE])
        )
        items = json.loads(out).get("nftables", [])
        return [item["rule"] for item in items if isinstance(item, dict) and "rule" in item]


def _table_script() -> str:
    """The empty table: an input and an output chain that accept by default."""
    lines = [f"add table inet {TABLE}\n"]
    for chain in CHAINS:
        lines.append(
            f"add chain inet {TABLE} {chain}"
            f" {{ type filter hook {chain} priority 0; policy accept; }}\n"
        )
    return "".join(lines)


def _packets(rule: dict[str, Any]) -> int:
    for expression in rule.get("expr", []):
        if isinstance(expression, dict) and "counter" in expression:
            return int(expression["counter"].get("packets", 0))
    return 0
