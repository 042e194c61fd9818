"""Benchmark: what the embedded Toxiproxy adds to small messages, as the cluster's node-to-node
traffic sees it. Prints round-trip latency (p50/p99) and messages per second for many concurrent
ping-pong connections, direct to an echo server and through a proxy without toxics (the server runs
as a child process, as in the harness), plus bulk MB/s. Figures only, no pass/fail.

    .venv/bin/python -m bench.proxy_throughput [--seconds 3] [--connections 20]

Does network I/O and starts processes.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

from nemesis.toxiproxy import ToxiproxyClient, ToxiproxyProcess

MESSAGE = b"x" * 100


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


def _run_echo_server(ready: Connection) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", 0)
        ready.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def _ping_pong(port: int, count: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        writer.write(MESSAGE)
        await reader.readexactly(len(MESSAGE))
        times.append(time.perf_counter() - started)
    writer.close()
    return times


async def _throughput(port: int, connections: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            writer.write(MESSAGE)
            await reader.readexactly(len(MESSAGE))
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - started)


async def _bulk(port: int, size: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"y" * size
    started = time.perf_counter()
    writer.write(payload)
    await reader.readexactly(size)
    elapsed = time.perf_counter() - started
    writer.close()
    return size / elapsed / 1e6


def _measure(label: str, port: int, connections: int, seconds: float) -> None:
    times = asyncio.run(_ping_pong(port, 2000))[100:]
    rate = asyncio.run(_throughput(port, connections, seconds))
    bulk = asyncio.run(_bulk(port, 32 * 1024 * 1024))
    p50 = statistics.median(times) * 1e6
    p99 = statistics.quantiles(times, n=100)[98] * 1e6
    print(
        f"{label:<28} rtt_us_p50={p50:7.0f} rtt_us_p99={p99:7.0f} "
        f"msgs_per_s({connections} conns)={rate:8.0f} bulk_MB_per_s={bulk:6.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    echo = multiprocessing.Process(target=_run_echo_server, args=(sender,), daemon=True)
    echo.start()
    port = int(receiver.recv())
    try:
        _measure("direct", port, args.connections, args.seconds)
        with ToxiproxyProcess() as toxiproxy:
            client = ToxiproxyClient(toxiproxy.url)
            proxy = client.create_proxy("bench", "127.0.0.1:0", f"127.0.0.1:{port}")
            through = proxy.listen_port
            _measure("through proxy, no toxics", through, args.connections, args.seconds)
            client.add_toxic("bench", "noop", "upstream")
            client.add_toxic("bench", "noop", "downstream")
            _measure("through proxy, noop toxics", through, args.connections, args.seconds)
            client.reset()
            client.add_toxic("bench", "latency", "downstream", {"latency": 0})
            _measure("through proxy, latency 0", through, args.connections, args.seconds)
    finally:
        echo.terminate()
        echo.join()


if __name__ == "__main__":
    main()
