"""ProxyNet on the embedded Toxiproxy, with echo servers standing in for nodes: one proxy per
directed link, cuts in ``refuse`` and ``drop`` modes, latency, heal, and a shared Toxiproxy's
other proxies left alone."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from nemesis import grudge as g
from nemesis.network import ProxyNet
from nemesis.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from nemesis.toxiproxy.testing import TcpServer, connect

NODES = ("n1", "n2", "n3")


@pytest.fixture(scope="module")
def toxiproxy() -> Iterator[ToxiproxyClient]:
    with EmbeddedToxiproxy() as server:
        yield ToxiproxyClient(server.url, timeout_s=5)


@pytest.fixture
def net(toxiproxy: ToxiproxyClient) -> Iterator[ProxyNet]:
    servers = {node: TcpServer(echo=True) for node in NODES}
    proxies = ProxyNet(toxiproxy, NODES, prefix="test-")
    proxies.setup({node: server.port for node, server in servers.items()})
    try:
        yield proxies
    finally:
        proxies.teardown()
        for server in servers.values():
            server.close()


def address(net: ProxyNet, src: str, dst: str) -> str:
    return net.dial(src, dst).removeprefix("tcp://")


def round_trip(net: ProxyNet, src: str, dst: str, timeout_s: float = 2.0) -> bytes:
    with connect(address(net, src, dst), timeout_s) as sock:
        sock.sendall(b"ping")
        return sock.recv(4)


def test_one_proxy_per_directed_link_each_reaching_its_node(net: ProxyNet) -> None:
    proxies = net.toxiproxy.proxies()
    names = {f"test-{a}->{b}" for a in NODES for b in NODES if a != b}
    assert names <= set(proxies)
    dials = {net.dial(a, b) for a in NODES for b in NODES if a != b}
    assert len(dials) == len(names)  # every link its own port
    for src, dst in net.links:
        proxy = proxies[net.proxy_name((src, dst))]
        assert net.dial(src, dst) == f"tcp://{proxy.listen}"
        assert (
            proxy.upstream == proxies[net.proxy_name(("n1" if dst != "n1" else "n2", dst))].upstream
        )
        assert round_trip(net, src, dst) == b"ping"
    upstreams = {proxies[net.proxy_name((src, dst))].upstream for src, dst in net.links}
    assert len(upstreams) == len(NODES)  # one upstream per destination node


def test_refuse_mode_resets_connections_and_refuses_new_ones_on_cut_links_only(
    net: ProxyNet,
) -> None:
    open_conn = connect(address(net, "n1", "n2"))
    cut = net.cut(g.links_to_cut(g.isolate(NODES, "n1")), "refuse")
    assert set(cut) == {("n1", "n2"), ("n1", "n3"), ("n2", "n1"), ("n3", "n1")}
    with open_conn:
        open_conn.settimeout(2)
        try:
            closed = open_conn.recv(1) == b""
        except ConnectionResetError:
            closed = True
        assert closed
    with pytest.raises(ConnectionRefusedError):
        connect(address(net, "n2", "n1"))
    assert round_trip(net, "n2", "n3") == b"ping"  # the majority side still talks
    net.uncut()
    assert round_trip(net, "n2", "n1") == b"ping"


def test_drop_mode_is_a_black_hole_that_keeps_connections_open(net: ProxyNet) -> None:
    net.cut([("n1", "n2")], "drop")
    with connect(address(net, "n1", "n2"), timeout_s=0.5) as sock:
        sock.sendall(b"ping")  # accepted: nothing is refused ...
        with pytest.raises(socket.timeout):
            sock.recv(4)  # ... and nothing comes back
    assert round_trip(net, "n2", "n1") == b"ping"  # one direction only
    state = net.state()[("n1", "n2")]
    assert state.enabled and not state.healthy
    net.uncut([("n1", "n2")])
    assert round_trip(net, "n1", "n2") == b"ping"


def test_latency_slows_chosen_links_and_unslow_removes_it(net: ProxyNet) -> None:
    net.slow([("n1", "n2")], latency_ms=300, jitter_ms=0)
    started = time.monotonic()
    assert round_trip(net, "n1", "n2", timeout_s=3) == b"ping"
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    round_trip(net, "n2", "n1")
    assert time.monotonic() - started < 0.3
    net.cut([("n1", "n2")], "drop")
    net.uncut()  # a partition heal leaves the latency in place
    assert net.state()[("n1", "n2")].toxics == ("zynamo-latency",)
    net.unslow()
    assert net.state()[("n1", "n2")].healthy


def test_heal_restores_every_link_and_is_idempotent(net: ProxyNet) -> None:
    net.cut(g.links_to_cut(g.halves(NODES)), "refuse")
    net.cut([("n2", "n3")], "drop")
    net.slow([("n3", "n1")], latency_ms=10, bandwidth_kbps=100)
    assert not all(state.healthy for state in net.state().values())
    net.heal()
    net.heal()
    states = net.state()
    assert len(states) == len(net.links)
    assert all(state.healthy for state in states.values())
    assert all(round_trip(net, src, dst) == b"ping" for src, dst in net.links)


def test_heal_and_teardown_leave_other_proxies_on_a_shared_toxiproxy_alone(
    net: ProxyNet, toxiproxy: ToxiproxyClient
) -> None:
    with TcpServer(echo=True) as other:
        toxiproxy.create_proxy("someone-else", "127.0.0.1:0", other.address, enabled=False)
        toxiproxy.add_toxic("someone-else", "latency", attributes={"latency": 5})
        try:
            net.heal()
            mine = toxiproxy.get_proxy("someone-else")
            assert not mine.enabled and len(mine.toxics) == 1
            net.teardown()
            assert set(toxiproxy.proxies()) == {"someone-else"}
        finally:
            toxiproxy.delete_proxy("someone-else")


def test_bad_links_and_modes_are_refused(net: ProxyNet) -> None:
    with pytest.raises(ValueError, match=r"partition mode: 'sever'.*accepted: refuse, drop"):
        net.cut([("n1", "n2")], "sever")
    with pytest.raises(ValueError, match="no link n1->n9"):
        net.cut([("n1", "n9")], "drop")
    with pytest.raises(ValueError, match="no link n1->n1"):
        net.dial("n1", "n1")


def test_a_joining_node_gets_a_proxy_on_every_link_and_those_links_can_be_cut(
    net: ProxyNet,
) -> None:
    newcomer = TcpServer(echo=True)
    try:
        added = net.add_node("n9", newcomer.port)
        assert set(added) == {(n, "n9") for n in NODES} | {("n9", n) for n in NODES}
        assert round_trip(net, "n1", "n9") == b"ping"
        assert round_trip(net, "n9", "n2") == b"ping"
        net.cut([("n1", "n9")], "refuse")
        with pytest.raises(OSError):
            round_trip(net, "n1", "n9", timeout_s=1.0)
        net.heal()
        assert round_trip(net, "n1", "n9") == b"ping"
        assert net.add_node("n9", newcomer.port) == []  # already there
    finally:
        newcomer.close()


def test_toxics_of_the_toxic_fault_go_on_and_come_off_without_touching_cuts(
    net: ProxyNet,
) -> None:
    net.cut([("n2", "n3")], "drop")
    net.add_toxic([("n1", "n2")], "limit_data", {"bytes": 2})
    assert net.state()[("n1", "n2")].toxics == ("zynamo-toxic-limit_data",)
    net.remove_toxics()
    assert net.state()[("n1", "n2")].healthy
    assert not net.state()[("n2", "n3")].healthy  # the partition is the partition's to heal
    net.heal()
