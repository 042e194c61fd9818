"""Bytes through the embedded Toxiproxy's proxies, mirroring Toxiproxy's ``proxy_test.go``: simple,
big and two-part messages, an upstream that is down, and what disabling, moving and deleting a proxy
does to live connections. Proxies are managed through the real ``toxiproxy-python`` client."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from toxiproxy import Proxy, Toxiproxy
from toxiproxy.api import APIConsumer

from nemesis.toxiproxy import EmbeddedToxiproxy, ToxiproxyApiError, ToxiproxyClient
from nemesis.toxiproxy.testing import (
    TcpServer,
    connect,
    free_port,
    is_listening,
    read_until_closed,
    recv_exactly,
)


@pytest.fixture
def client() -> Iterator[Toxiproxy]:
    with EmbeddedToxiproxy() as server:
        saved = (APIConsumer.host, APIConsumer.port)
        APIConsumer.host, APIConsumer.port = server.host, server.port
        try:
            yield Toxiproxy()
        finally:
            APIConsumer.host, APIConsumer.port = saved


def nemesis_client() -> ToxiproxyClient:
    """Our own client, for the HTTP 500s that toxiproxy-python does not turn into errors."""
    return ToxiproxyClient(f"http://{APIConsumer.host}:{APIConsumer.port}")


@pytest.fixture
def echo() -> Iterator[TcpServer]:
    with TcpServer(echo=True) as server:
        yield server


@pytest.fixture
def sink() -> Iterator[TcpServer]:
    """A server whose connections the test reads and writes itself."""
    with TcpServer(echo=False) as server:
        yield server


def test_simple_message_reaches_the_upstream(client: Toxiproxy, sink: TcpServer) -> None:
    proxy = client.create(upstream=sink.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"hello world")
        conn.close()
        with sink.accept() as upstream:
            upstream.settimeout(5)
            assert read_until_closed(upstream) == (b"hello world", None)


def test_two_part_message_arrives_whole(client: Toxiproxy, sink: TcpServer) -> None:
    proxy = client.create(upstream=sink.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"hello world")
        conn.sendall(b"hello world")
        conn.close()
        with sink.accept() as upstream:
            upstream.settimeout(5)
            assert read_until_closed(upstream) == (b"hello worldhello world", None)


def test_big_message_round_trip(client: Toxiproxy, echo: TcpServer) -> None:
    proxy = client.create(upstream=echo.address, name="test")
    message = os.urandom(4 * 1024 * 1024)
    with connect(proxy.listen, timeout_s=20) as conn:
        writer = threading.Thread(target=conn.sendall, args=(message,))
        writer.start()
        assert recv_exactly(conn, len(message)) == message
        writer.join()


def test_many_connections_at_once(client: Toxiproxy, echo: TcpServer) -> None:
    proxy = client.create(upstream=echo.address, name="test")
    conns = [connect(proxy.listen) for _ in range(50)]
    try:
        for index, conn in enumerate(conns):
            conn.sendall(f"message {index}".encode())
        for index, conn in enumerate(conns):
            expected = f"message {index}".encode()
            assert recv_exactly(conn, len(expected)) == expected
    finally:
        for conn in conns:
            conn.close()


def test_upstream_closing_closes_the_client(client: Toxiproxy, sink: TcpServer) -> None:
    proxy = client.create(upstream=sink.address, name="test")
    with connect(proxy.listen) as conn:
        with sink.accept() as upstream:
            upstream.sendall(b"bye")
        assert read_until_closed(conn) == (b"bye", None)


def test_an_upstream_that_greets_and_hangs_up_at_once(client: Toxiproxy) -> None:
    """Bytes and the close that come before the proxy has finished dialling are not lost."""
    listener = socket.create_server(("127.0.0.1", 0))
    rounds = 20

    def greet() -> None:
        for _ in range(rounds):
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"hello")

    greeter = threading.Thread(target=greet)
    greeter.start()
    try:
        proxy = client.create(upstream=f"127.0.0.1:{listener.getsockname()[1]}", name="test")
        for _ in range(rounds):
            with connect(proxy.listen) as conn:
                assert read_until_closed(conn) == (b"hello", None)
    finally:
        greeter.join(10)
        listener.close()


def test_proxy_to_a_down_upstream_closes_the_client(client: Toxiproxy) -> None:
    proxy = client.create(upstream=f"127.0.0.1:{free_port()}", name="test")
    with connect(proxy.listen) as conn:
        conn.settimeout(2)
        data, error = read_until_closed(conn)
        assert data == b"" and not isinstance(error, TimeoutError)


def test_disabling_closes_connections_and_refuses_new_ones(
    client: Toxiproxy, echo: TcpServer
) -> None:
    proxy = client.create(upstream=echo.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"ping")
        assert recv_exactly(conn, 4) == b"ping"
        with proxy.down():
            data, error = read_until_closed(conn)
            assert data == b"" and not isinstance(error, TimeoutError)
            with pytest.raises(ConnectionRefusedError):
                connect(proxy.listen)
    with connect(proxy.listen) as again:  # enabled again on the same address
        again.sendall(b"pong")
        assert recv_exactly(again, 4) == b"pong"


def test_deleting_closes_connections(client: Toxiproxy, echo: TcpServer) -> None:
    proxy = client.create(upstream=echo.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"ping")
        assert recv_exactly(conn, 4) == b"ping"
        proxy.destroy()
        data, error = read_until_closed(conn)
        assert data == b"" and not isinstance(error, TimeoutError)
    assert not is_listening(proxy.listen)


def test_changing_upstream_drops_connections_and_uses_the_new_one(
    client: Toxiproxy, echo: TcpServer, sink: TcpServer
) -> None:
    proxy: Proxy = client.create(upstream=echo.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"ping")
        assert recv_exactly(conn, 4) == b"ping"
        nemesis_client().update_proxy("test", upstream=sink.address)
        data, error = read_until_closed(conn)
        assert data == b"" and not isinstance(error, TimeoutError)
    with connect(proxy.listen) as conn:
        conn.sendall(b"to the sink")
        with sink.accept() as upstream:
            upstream.settimeout(5)
            assert recv_exactly(upstream, 11) == b"to the sink"


def test_two_proxies_cannot_share_an_address(client: Toxiproxy, echo: TcpServer) -> None:
    first = client.create(upstream=echo.address, name="first")
    with pytest.raises(ToxiproxyApiError, match="address already in use") as raised:
        nemesis_client().create_proxy("second", first.listen, echo.address)
    assert raised.value.status == 500
    assert list(client.proxies()) == ["first"]


def test_restart_after_a_conflict_goes_away(client: Toxiproxy, echo: TcpServer) -> None:
    blocker = socket.create_server(("127.0.0.1", 0))
    taken = f"127.0.0.1:{blocker.getsockname()[1]}"
    proxy = client.create(upstream=echo.address, name="test", listen=taken, enabled=False)
    with pytest.raises(ToxiproxyApiError, match="address already in use"):
        nemesis_client().enable_proxy("test")
    assert client.get_proxy("test").enabled is False
    blocker.close()
    proxy.enable()
    with connect(taken) as conn:
        conn.sendall(b"ok")
        assert recv_exactly(conn, 2) == b"ok"


def test_toxics_reach_connections_opened_before_them(client: Toxiproxy, echo: TcpServer) -> None:
    proxy = client.create(upstream=echo.address, name="test")
    with connect(proxy.listen) as conn:
        conn.sendall(b"a")
        assert recv_exactly(conn, 1) == b"a"
        proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
        conn.sendall(b"lost")
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(10)
        proxy.destroy_toxic("timeout_upstream")
        conn.settimeout(5)
        data, error = read_until_closed(conn)  # removing a timeout toxic closes what it held
        assert data == b"" and not isinstance(error, TimeoutError)
