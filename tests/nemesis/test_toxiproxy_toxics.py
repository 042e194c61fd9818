"""What each toxic does to real TCP streams through the embedded Toxiproxy, mirroring Toxiproxy's
``toxics/*_test.go``. Toxics are added and removed with the real ``toxiproxy-python`` client;
updates (which it lacks) go through the nemesis client. Timing bounds are generous: only the
direction of an effect and its rough size are asserted, so a loaded machine does not make these
flaky."""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from toxiproxy import Proxy, Toxiproxy
from toxiproxy.api import APIConsumer

from nemesis.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from nemesis.toxiproxy.testing import (
    TcpServer,
    connect,
    elapsed,
    read_until_closed,
    recv_exactly,
)
from nemesis.toxiproxy.toxics import slice_bounds

SLACK_S = 0.25  # how much later than asked an effect may show on a busy machine


@dataclass
class Established:
    """A proxy with one connection through it: ``client`` and ``server`` are the two far ends."""

    proxy: Proxy
    client: socket.socket
    server: socket.socket
    nemesis: ToxiproxyClient


@pytest.fixture
def toxiproxy() -> Iterator[Toxiproxy]:
    with EmbeddedToxiproxy(seed=7) as embedded:
        saved = (APIConsumer.host, APIConsumer.port)
        APIConsumer.host, APIConsumer.port = embedded.host, embedded.port
        try:
            yield Toxiproxy()
        finally:
            APIConsumer.host, APIConsumer.port = saved


@pytest.fixture
def nemesis(toxiproxy: Toxiproxy) -> ToxiproxyClient:
    return ToxiproxyClient(f"http://{APIConsumer.host}:{APIConsumer.port}")


@pytest.fixture
def link(toxiproxy: Toxiproxy, nemesis: ToxiproxyClient) -> Iterator[Established]:
    """Toxiproxy's ``WithEstablishedProxy``: data already flowed both ways before the test."""
    with TcpServer(echo=False) as upstream:
        proxy = toxiproxy.create(upstream=upstream.address, name="test")
        with connect(proxy.listen) as client, upstream.accept() as server:
            server.settimeout(5)
            client.sendall(b"foobar")
            assert recv_exactly(server, 6) == b"foobar"
            server.sendall(b"foobar")
            assert recv_exactly(client, 6) == b"foobar"
            yield Established(proxy, client, server, nemesis)


@pytest.fixture
def echo_proxy(toxiproxy: Toxiproxy) -> Iterator[Proxy]:
    with TcpServer(echo=True) as upstream:
        yield toxiproxy.create(upstream=upstream.address, name="echo")


def round_trip(conn: socket.socket, message: bytes = b"ping") -> float:
    def exchange() -> None:
        conn.sendall(message)
        assert recv_exactly(conn, len(message)) == message

    return elapsed(exchange)


def send_and_receive(sender: socket.socket, receiver: socket.socket) -> None:
    sender.sendall(b"x")
    assert recv_exactly(receiver, 1) == b"x"


def assert_stays_open_and_silent(conn: socket.socket, for_s: float) -> None:
    conn.settimeout(for_s)
    with pytest.raises(TimeoutError):
        conn.recv(100)
    conn.settimeout(5)


def assert_closed(conn: socket.socket) -> bytes:
    data, error = read_until_closed(conn)
    assert error is None, f"expected a clean close, got {error!r}"
    return data


def assert_reset(conn: socket.socket) -> None:
    data, error = read_until_closed(conn)
    assert isinstance(error, ConnectionResetError), f"expected ECONNRESET, got {error!r} {data!r}"


# -- latency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_latency_delays_the_round_trip(echo_proxy: Proxy, stream: str) -> None:
    with connect(echo_proxy.listen) as conn:
        assert round_trip(conn) < 0.2
        echo_proxy.add_toxic(type="latency", stream=stream, attributes={"latency": 200})
        assert 0.2 <= round_trip(conn) < 0.2 + SLACK_S
        echo_proxy.destroy_toxic(f"latency_{stream}")
        assert round_trip(conn) < 0.2


def test_latency_applies_only_to_its_stream(link: Established) -> None:
    link.proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 300})
    to_client = elapsed(lambda: send_and_receive(link.server, link.client))
    to_server = elapsed(lambda: send_and_receive(link.client, link.server))
    assert to_client < 0.15
    assert 0.3 <= to_server < 0.3 + SLACK_S


def test_latency_jitter_varies_the_delay_within_bounds(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="latency", attributes={"latency": 150, "jitter": 100})
    with connect(echo_proxy.listen) as conn:
        delays = [round_trip(conn) for _ in range(8)]
    assert all(0.05 <= delay < 0.25 + SLACK_S for delay in delays), delays
    assert max(delays) - min(delays) > 0.02, delays


def test_latency_toxics_add_up(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(name="a", type="latency", attributes={"latency": 100})
    echo_proxy.add_toxic(name="b", type="latency", attributes={"latency": 100})
    with connect(echo_proxy.listen) as conn:
        assert 0.2 <= round_trip(conn) < 0.2 + SLACK_S


def test_latency_does_not_limit_throughput(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="latency", attributes={"latency": 200})
    with connect(echo_proxy.listen) as conn:
        started = time.monotonic()
        for index in range(20):
            conn.sendall(b"%04d" % index)
            time.sleep(0.01)
        assert recv_exactly(conn, 80) == b"".join(b"%04d" % i for i in range(20))
        assert time.monotonic() - started < 0.2 + 0.2 + 2 * SLACK_S  # pipelined, not 20 x 200 ms


def test_updating_latency_applies_to_live_connections(
    echo_proxy: Proxy, nemesis: ToxiproxyClient
) -> None:
    echo_proxy.add_toxic(type="latency", attributes={"latency": 400})
    with connect(echo_proxy.listen) as conn:
        assert round_trip(conn) >= 0.4
        nemesis.update_toxic("echo", "latency_downstream", attributes={"latency": 0})
        assert round_trip(conn) < 0.15


def test_removing_latency_releases_held_data_at_once(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="latency", attributes={"latency": 3000})
    with connect(echo_proxy.listen) as conn:
        conn.sendall(b"held")
        time.sleep(0.1)
        echo_proxy.destroy_toxic("latency_downstream")
        assert elapsed(lambda: recv_exactly(conn, 4)) < 1.0


# -- bandwidth --------------------------------------------------------------------------------


def test_bandwidth_limits_the_rate(link: Established) -> None:
    link.proxy.add_toxic(type="bandwidth", stream="upstream", attributes={"rate": 100})  # KB/s
    payload = bytes(50_000)

    def transfer() -> None:
        link.client.sendall(payload)
        assert recv_exactly(link.server, len(payload)) == payload

    assert 0.45 <= elapsed(transfer) < 0.5 + 4 * SLACK_S


def test_bandwidth_of_zero_lets_nothing_through(link: Established) -> None:
    link.proxy.add_toxic(type="bandwidth", stream="downstream", attributes={"rate": 0})
    link.server.sendall(b"stuck")
    assert_stays_open_and_silent(link.client, 0.3)
    link.proxy.destroy_toxic("bandwidth_downstream")
    assert recv_exactly(link.client, 5) == b"stuck"  # removal passes the held data on


# -- slow_close -------------------------------------------------------------------------------


def test_slow_close_delays_the_close(link: Established) -> None:
    link.proxy.add_toxic(type="slow_close", stream="downstream", attributes={"delay": 300})
    link.server.sendall(b"last words")
    started = time.monotonic()
    link.server.close()
    assert assert_closed(link.client) == b"last words"
    assert 0.3 <= time.monotonic() - started < 0.3 + SLACK_S


# -- timeout ----------------------------------------------------------------------------------


def test_timeout_zero_drops_data_and_never_closes(link: Established) -> None:
    link.proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
    link.client.sendall(b"lost")
    assert_stays_open_and_silent(link.server, 0.4)
    assert_stays_open_and_silent(link.client, 0.1)


def test_removing_a_timeout_toxic_closes_its_connections(link: Established) -> None:
    link.proxy.add_toxic(name="to_delete", type="timeout", stream="upstream")
    link.proxy.destroy_toxic("to_delete")
    link.client.settimeout(1)
    link.server.settimeout(1)
    assert assert_closed(link.client) == b""
    assert assert_closed(link.server) == b""


def test_timeout_closes_the_connection_after_the_delay(link: Established) -> None:
    link.proxy.add_toxic(type="timeout", stream="downstream", attributes={"timeout": 200})
    link.server.sendall(b"never delivered")
    started = time.monotonic()
    assert assert_closed(link.client) == b""
    assert 0.2 - 0.05 <= time.monotonic() - started < 0.2 + SLACK_S
    assert assert_closed(link.server) == b""


def test_new_connections_time_out_too(toxiproxy: Toxiproxy) -> None:
    with TcpServer(echo=True) as upstream:
        proxy = toxiproxy.create(upstream=upstream.address, name="t")
        proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 150})
        with connect(proxy.listen) as conn:
            conn.sendall(b"hello")
            assert elapsed(lambda: assert_closed(conn)) < 0.15 + SLACK_S


def test_timeout_toxic_does_not_cause_hang(link: Established) -> None:
    add = link.proxy.add_toxic
    add(name="might_block", type="latency", stream="upstream", attributes={"latency": 10})
    add(name="timeout", type="timeout", stream="upstream", attributes={"timeout": 0})
    for _ in range(5):
        link.client.sendall(b"hello")
        time.sleep(0.05)
    assert elapsed(lambda: link.proxy.destroy_toxic("might_block")) < 1.0


# -- reset_peer -------------------------------------------------------------------------------


def test_reset_peer_resets_at_once(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="reset_peer", stream="upstream")
    with connect(echo_proxy.listen) as conn:
        conn.sendall(b"reset toxic payload\n")
        assert_reset(conn)


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_resets_after_its_timeout(echo_proxy: Proxy, stream: str) -> None:
    echo_proxy.add_toxic(type="reset_peer", stream=stream, attributes={"timeout": 100})
    with connect(echo_proxy.listen) as conn:
        started = time.monotonic()
        conn.sendall(b"reset toxic payload\n")
        assert_reset(conn)
        assert 0.1 <= time.monotonic() - started < 0.1 + SLACK_S


def test_reset_peer_resets_the_upstream_too(link: Established) -> None:
    link.proxy.add_toxic(type="reset_peer", stream="upstream")
    link.client.sendall(b"x")
    assert_reset(link.server)


# -- slicer -----------------------------------------------------------------------------------


def test_slicer_cuts_data_into_small_pieces(link: Established) -> None:
    link.proxy.add_toxic(
        type="slicer",
        stream="downstream",
        attributes={"average_size": 10, "size_variation": 5, "delay": 2000},
    )
    payload = bytes(range(256)) * 4
    link.server.sendall(payload)
    pieces: list[bytes] = []
    while sum(len(piece) for piece in pieces) < len(payload):
        pieces.append(link.client.recv(65536))
        assert pieces[-1], "closed early"
    assert b"".join(pieces) == payload
    assert len(pieces) >= 10
    assert min(len(piece) for piece in pieces) <= 15


@given(
    size=st.integers(0, 5000),
    average=st.integers(1, 300),
    variation_share=st.floats(0, 0.99),
    seed=st.integers(0, 2**32),
)
def test_slice_bounds_cover_the_data_in_order(
    size: int, average: int, variation_share: float, seed: int
) -> None:
    variation = int(average * variation_share)  # Toxiproxy asks for variation < average
    bounds = slice_bounds(size, average, variation, random.Random(seed))
    starts = [start for start, _ in bounds]
    ends = [end for _, end in bounds]
    assert starts == [0, *ends[:-1]] or size == 0
    assert (ends[-1] if ends else 0) == size
    assert all(0 < end - start <= average + variation for start, end in bounds)


# -- limit_data -------------------------------------------------------------------------------


def test_limit_data_closes_after_the_limit(link: Established) -> None:
    link.proxy.add_toxic(type="limit_data", stream="downstream", attributes={"bytes": 100})
    link.server.sendall(bytes(range(200)))
    assert assert_closed(link.client) == bytes(range(100))


def test_limit_data_counts_across_chunks(link: Established) -> None:
    link.proxy.add_toxic(type="limit_data", stream="upstream", attributes={"bytes": 100})
    for index in range(5):
        link.client.sendall(bytes([index]) * 30)
        time.sleep(0.02)
    expected = b"".join(bytes([i]) * 30 for i in range(4))[:100]
    assert assert_closed(link.server) == expected


# -- toxicity and noop ------------------------------------------------------------------------


def test_toxicity_zero_never_applies(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="latency", toxicity=0.0, attributes={"latency": 1000})
    with connect(echo_proxy.listen) as conn:
        assert round_trip(conn) < 0.2


def test_toxicity_is_decided_per_connection(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="latency", toxicity=0.5, attributes={"latency": 400})
    conns = [connect(echo_proxy.listen) for _ in range(16)]
    arrived: list[float] = []
    try:
        with selectors.DefaultSelector() as selector:
            for conn in conns:
                selector.register(conn, selectors.EVENT_READ)
            started = time.monotonic()
            for conn in conns:
                conn.sendall(b"p")
            while len(arrived) < len(conns) and time.monotonic() - started < 5:
                for key, _ in selector.select(timeout=1):
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    assert ready.recv(1) == b"p"
                    selector.unregister(ready)
                    arrived.append(time.monotonic() - started)
    finally:
        for conn in conns:
            conn.close()
    assert len(arrived) == len(conns)
    assert any(t < 0.2 for t in arrived) and any(t >= 0.4 for t in arrived), arrived


def test_noop_passes_everything(echo_proxy: Proxy) -> None:
    echo_proxy.add_toxic(type="noop", stream="upstream")
    echo_proxy.add_toxic(type="noop", stream="downstream")
    with connect(echo_proxy.listen) as conn:
        assert round_trip(conn, b"x" * 100_000) < 1.0


# -- toxics changing under a busy stream ------------------------------------------------------


def test_stream_stays_whole_while_toxics_come_and_go(echo_proxy: Proxy) -> None:
    messages = [b"<%05d>" % index for index in range(600)]
    expected = b"".join(messages)
    with connect(echo_proxy.listen, timeout_s=20) as conn:

        def write() -> None:
            for message in messages:
                conn.sendall(message)
                time.sleep(0.001)

        writer = threading.Thread(target=write)
        writer.start()
        toxics = [
            ("latency", {"latency": 20, "jitter": 10}),
            ("slicer", {"average_size": 5, "size_variation": 2, "delay": 100}),
            ("bandwidth", {"rate": 1000}),
            ("noop", {}),
        ]
        for round_number in range(3):
            for type_name, attributes in toxics:
                stream = "upstream" if round_number % 2 else "downstream"
                echo_proxy.add_toxic(type=type_name, stream=stream, attributes=attributes)
                time.sleep(0.02)
            for type_name, _ in toxics:
                stream = "upstream" if round_number % 2 else "downstream"
                echo_proxy.destroy_toxic(f"{type_name}_{stream}")
                time.sleep(0.02)
        writer.join()
        assert recv_exactly(conn, len(expected)) == expected
