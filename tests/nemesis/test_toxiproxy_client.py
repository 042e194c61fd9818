"""The nemesis's Toxiproxy client (typed calls, deadlines, clear errors) and the ways to run the
embedded server: in a thread, as ``python -m nemesis.toxiproxy`` child process, and as
``zynamo toxiproxy``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemesis.toxiproxy import (
    BadRequest,
    Conflict,
    EmbeddedToxiproxy,
    NotFound,
    ProxySpec,
    ToxiproxyApiError,
    ToxiproxyClient,
    ToxiproxyProcess,
    ToxiproxyStartError,
    ToxiproxyTimeout,
    ToxiproxyUnavailable,
    open_toxiproxy,
)
from nemesis.toxiproxy.testing import TcpServer, connect, free_port, is_listening, recv_exactly

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[EmbeddedToxiproxy]:
    with EmbeddedToxiproxy() as embedded:
        yield embedded


@pytest.fixture
def client(server: EmbeddedToxiproxy) -> ToxiproxyClient:
    return ToxiproxyClient(server.url, timeout_s=5)


@pytest.fixture
def echo() -> Iterator[TcpServer]:
    with TcpServer(echo=True) as upstream:
        yield upstream


def test_proxy_lifecycle(client: ToxiproxyClient, echo: TcpServer) -> None:
    created = client.create_proxy("n1->n2", "127.0.0.1:0", echo.address)
    assert created.name == "n1->n2" and created.enabled and created.listen_port > 0
    assert client.get_proxy("n1->n2") == created
    assert client.proxies() == {"n1->n2": created}
    with connect(created.listen) as conn:
        conn.sendall(b"hi")
        assert recv_exactly(conn, 2) == b"hi"
    disabled = client.disable_proxy("n1->n2")
    assert disabled.enabled is False and not is_listening(created.listen)
    assert client.enable_proxy("n1->n2").enabled is True
    client.delete_proxy("n1->n2")
    assert client.proxies() == {}


def test_toxic_lifecycle(client: ToxiproxyClient, echo: TcpServer) -> None:
    client.create_proxy("p", "127.0.0.1:0", echo.address)
    toxic = client.add_toxic("p", "latency", "upstream", {"latency": 50}, toxicity=0.5)
    assert (toxic.name, toxic.type, toxic.stream) == ("latency_upstream", "latency", "upstream")
    assert toxic.toxicity == 0.5 and toxic.attributes == {"latency": 50, "jitter": 0}
    named = client.add_toxic("p", "timeout", name="cut", attributes={"timeout": 0})
    assert named.stream == "downstream"
    updated = client.update_toxic("p", "latency_upstream", attributes={"jitter": 5}, toxicity=1)
    assert updated.attributes == {"latency": 50, "jitter": 5} and updated.toxicity == 1.0
    assert client.get_toxic("p", "cut") == named
    assert [t.name for t in client.toxics("p")] == ["latency_upstream", "cut"]
    assert [t.name for t in client.get_proxy("p").toxics] == ["latency_upstream", "cut"]
    client.remove_toxic("p", "cut")
    assert [t.name for t in client.toxics("p")] == ["latency_upstream"]
    client.reset()
    assert client.toxics("p") == []


def test_populate_and_update(client: ToxiproxyClient) -> None:
    first, second = free_port(), free_port()
    proxies = client.populate(
        [
            ProxySpec("a", f"127.0.0.1:{first}", "127.0.0.1:1"),
            {"name": "b", "listen": f"127.0.0.1:{second}", "upstream": "127.0.0.1:2"},
        ]
    )
    assert [(p.name, p.listen_port) for p in proxies] == [("a", first), ("b", second)]
    moved = client.update_proxy("b", listen="127.0.0.1:0", upstream="127.0.0.1:3")
    assert moved.upstream == "127.0.0.1:3" and moved.listen_port not in (0, second)


def test_version(client: ToxiproxyClient) -> None:
    assert client.version().startswith("2.")
    assert client.is_available()


def test_api_errors_carry_the_servers_message(client: ToxiproxyClient) -> None:
    with pytest.raises(NotFound) as missing:
        client.get_proxy("nope")
    assert missing.value.status == 404 and missing.value.message == "proxy not found"
    assert client.url in str(missing.value) and "GET /proxies/nope" in str(missing.value)
    client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:1")
    with pytest.raises(Conflict, match="proxy already exists"):
        client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:1")
    with pytest.raises(BadRequest, match="stream was invalid"):
        client.add_toxic("p", "latency", stream="sideways")
    with pytest.raises(NotFound, match="toxic not found"):
        client.remove_toxic("p", "nope")
    with pytest.raises(ToxiproxyApiError) as bind:
        client.create_proxy("q", client.get_proxy("p").listen, "127.0.0.1:1")
    assert bind.value.status == 500 and "address already in use" in bind.value.message


def test_names_with_odd_characters_round_trip(client: ToxiproxyClient) -> None:
    client.create_proxy("n1 -> n2/x?", "127.0.0.1:0", "127.0.0.1:1")
    assert client.get_proxy("n1 -> n2/x?").name == "n1 -> n2/x?"
    client.add_toxic("n1 -> n2/x?", "noop", name="a b")
    client.remove_toxic("n1 -> n2/x?", "a b")
    client.delete_proxy("n1 -> n2/x?")


def test_nothing_listening_is_reported_as_unavailable() -> None:
    port = free_port()
    client = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(ToxiproxyUnavailable) as raised:
        client.proxies()
    message = str(raised.value)
    assert f"http://127.0.0.1:{port}" in message and "refused" in message
    assert not client.is_available()


def test_a_server_that_never_answers_times_out() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody answers
    try:
        client = ToxiproxyClient(f"127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(ToxiproxyTimeout, match=r"did not answer GET /proxies within 0\.3 s"):
            client.proxies()
        assert time.monotonic() - started < 2.0
    finally:
        silent.close()


def test_a_server_that_answers_too_slowly_times_out() -> None:
    """Each byte arrives in time, but the whole answer does not: the deadline still holds."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def dribble() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
                if stop.wait(0.1):
                    return
                conn.sendall(bytes([byte]))

    thread = threading.Thread(target=dribble)
    thread.start()
    try:
        client = ToxiproxyClient(f"127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(ToxiproxyTimeout):
            client.proxies()
        assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize("url", ["https://127.0.0.1:8474", "http://", "ftp://x:1"])
def test_bad_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(ValueError, match="Toxiproxy URL"):
        ToxiproxyClient(url)


def test_url_without_scheme_means_http() -> None:
    assert ToxiproxyClient("localhost:8474").url == "http://localhost:8474"


def test_embedded_server_reports_a_taken_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ToxiproxyStartError, match=f"127.0.0.1:{port}"):
            EmbeddedToxiproxy(port=port).start()


# -- child processes --------------------------------------------------------------------------


def test_toxiproxy_process_serves_and_stops(echo: TcpServer) -> None:
    with ToxiproxyProcess(seed=1) as process:
        assert process.port > 0 and process.pid is not None
        client = ToxiproxyClient(process.url)
        assert client.version().startswith("2.")
        proxy = client.create_proxy("p", "127.0.0.1:0", echo.address)
        with connect(proxy.listen) as conn:
            conn.sendall(b"through a child")
            assert recv_exactly(conn, 15) == b"through a child"
        url = process.url
    assert not ToxiproxyClient(url, timeout_s=1).is_available()
    assert process.stop() is None  # already stopped


def test_toxiproxy_process_stop_returns_exit_code_zero() -> None:
    process = ToxiproxyProcess().start()
    assert process.stop() == 0


def test_toxiproxy_process_reports_a_taken_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ToxiproxyStartError, match="exited with code 1"):
            ToxiproxyProcess(port=port).start()


def test_open_toxiproxy_starts_and_stops_an_embedded_server() -> None:
    with open_toxiproxy(seed=3) as client:
        assert client.version().startswith("2.")
        url = client.url
    assert not ToxiproxyClient(url, timeout_s=1).is_available()


def test_open_toxiproxy_uses_the_server_at_a_url(server: EmbeddedToxiproxy) -> None:
    with open_toxiproxy(server.url) as client:
        client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:1")
    assert "p" in ToxiproxyClient(server.url).proxies()  # an external server is left running


def test_open_toxiproxy_names_an_unreachable_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    opening = open_toxiproxy(url, timeout_s=0.3)
    with pytest.raises(ToxiproxyStartError, match=f"no Toxiproxy answers at {url}"):
        opening.__enter__()


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "zynamo", "toxiproxy", "--port", "0"],
        ["-m", "nemesis.toxiproxy", "--port", "0"],
    ],
)
def test_command_line_server_runs_until_sigterm(args: list[str]) -> None:
    process = _spawn(args)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Toxiproxy API listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert ToxiproxyClient(url).version().startswith("2.")
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_zynamo_toxiproxy_rejects_a_bad_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zynamo", "toxiproxy", "--port", "70000"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=30,
    )
    assert result.returncode == 254
    assert "70000 is not a port number (0-65535)" in result.stderr


def test_zynamo_toxiproxy_reports_a_taken_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "zynamo", "toxiproxy", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=30,
        )
    assert result.returncode == 254
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
