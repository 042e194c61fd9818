"""Ways to run the embedded Toxiproxy server: in the foreground until a signal (the CLIs), in a
daemon thread (``EmbeddedToxiproxy``, for tests), or in a child process (``ToxiproxyProcess``, what
the harness uses, so that proxying never competes with the test runner for the GIL). Does I/O:
threads, processes, signals, files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from nemesis.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from nemesis.toxiproxy.server import DEFAULT_HOST, ToxiproxyServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
PARENT_POLL_S = 0.5


class ToxiproxyStartError(RuntimeError):
    """The server could not start; the message says why (and shows the child's log, if any)."""


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535 (0 picks a free one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# -- foreground -------------------------------------------------------------------------------


def serve_forever(
    host: str,
    port: int,
    *,
    seed: int | None = None,
    ready_file: Path | None = None,
    exit_with_parent: bool = False,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run until SIGINT or SIGTERM (or, with ``exit_with_parent``, until the parent process dies).

    Once listening, writes ``{"host", "port", "url", "pid"}`` to ``ready_file`` (atomically) and
    calls ``announce`` with the URL. Raises ``OSError`` if the API address cannot be bound."""
    asyncio.run(_serve(host, port, seed, ready_file, exit_with_parent, announce))


async def _serve(
    host: str,
    port: int,
    seed: int | None,
    ready_file: Path | None,
    exit_with_parent: bool,
    announce: Callable[[str], None] | None,
) -> None:
    server = ToxiproxyServer(host, port, seed=seed)
    await server.start()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    watcher = None
    if exit_with_parent:
        watcher = loop.create_task(_watch_parent(os.getppid(), stopping))
    try:
        if ready_file is not None:
            _write_ready_file(ready_file, server)
        if announce is not None:
            announce(server.url)
        await stopping.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await server.stop()


async def _watch_parent(parent_pid: int, stopping: asyncio.Event) -> None:
    while os.getppid() == parent_pid:
        await asyncio.sleep(PARENT_POLL_S)
    stopping.set()


def _write_ready_file(path: Path, server: ToxiproxyServer) -> None:
    info = {"host": server.host, "port": server.port, "url": server.url, "pid": os.getpid()}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(info))
    os.replace(partial, path)


# -- for a run -------------------------------------------------------------------------------


@contextlib.contextmanager
def open_toxiproxy(
    url: str | None = None,
    *,
    seed: int | None = None,
    log_path: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[ToxiproxyClient]:
    """The Toxiproxy a run uses, as a client: the server at ``url`` if one is given (a real
    Toxiproxy, say; it must answer within ``timeout_s``), else an embedded server in a child process
    that is stopped on exit. Everything after this is the same code path for both."""
    if url is not None:
        client = ToxiproxyClient(url)
        try:
            client.wait_until_available(timeout_s)
        except ToxiproxyError as err:
            raise ToxiproxyStartError(f"no Toxiproxy answers at {client.url}: {err}") from None
        yield client
        return
    process = ToxiproxyProcess(seed=seed, log_path=log_path).start(timeout_s)
    try:
        yield ToxiproxyClient(process.url)
    finally:
        process.stop()


# -- thread -----------------------------------------------------------------------------------


class EmbeddedToxiproxy:
    """The server on its own event loop in a daemon thread of this process.

    ``with EmbeddedToxiproxy() as toxiproxy: ... toxiproxy.url`` (port 0, the default, picks a free
    port)."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, *, seed: int | None = None) -> None:
        self._server = ToxiproxyServer(host, port, seed=seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    def start(self, timeout_s: float = START_TIMEOUT_S) -> EmbeddedToxiproxy:
        if self._thread is not None:
            raise ToxiproxyStartError("this EmbeddedToxiproxy is already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._server.start())
            except BaseException as err:
                failure.append(err)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                _cancel_remaining(loop)
                loop.close()

        thread = threading.Thread(target=run, name="embedded-toxiproxy", daemon=True)
        thread.start()
        if not ready.wait(timeout_s):
            raise ToxiproxyStartError(f"embedded Toxiproxy did not start within {timeout_s} s")
        if failure:
            thread.join()
            raise ToxiproxyStartError(str(failure[0])) from failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        future = asyncio.run_coroutine_threadsafe(self._server.stop(), loop)
        try:
            future.result(timeout_s)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout_s)

    def __enter__(self) -> EmbeddedToxiproxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


# -- child process ----------------------------------------------------------------------------


class ToxiproxyProcess:
    """``python -m nemesis.toxiproxy`` as a child process, started and stopped from Python.

    ``start`` waits until the API listens (port 0, the default, picks a free port and ``port`` tells
    which); ``stop`` sends SIGTERM, then SIGKILL after ``timeout_s``. The child exits by itself if
    this process dies. Its output goes to ``log_path`` (default: a temporary file, shown in errors).
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        seed: int | None = None,
        log_path: Path | None = None,
        python: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.log_path = log_path
        self.python = python or sys.executable
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, timeout_s: float = START_TIMEOUT_S) -> ToxiproxyProcess:
        if self._process is not None:
            raise ToxiproxyStartError("this ToxiproxyProcess is already started")
        self._workdir = Path(tempfile.mkdtemp(prefix="toxiproxy-"))
        ready_file = self._workdir / "ready.json"
        log_path = self.log_path or self._workdir / "toxiproxy.log"
        command = [
            self.python,
            "-m",
            "nemesis.toxiproxy",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--ready-file",
            str(ready_file),
            "--exit-with-parent",
        ]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        with open(log_path, "ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C goes to the harness, which heals
            )
        deadline = time.monotonic() + timeout_s
        while not ready_file.exists():
            code = self._process.poll()
            if code is not None:
                output = _tail(log_path)
                self.stop()
                raise ToxiproxyStartError(
                    f"Toxiproxy server exited with code {code} before listening on "
                    f"{self.host}:{self.port}; its output:\n{output}"
                )
            if time.monotonic() > deadline:
                output = _tail(log_path)
                self.stop()
                raise ToxiproxyStartError(
                    f"Toxiproxy server did not listen on {self.host}:{self.port} within "
                    f"{timeout_s} s; its output:\n{output}"
                )
            time.sleep(0.01)
        info = json.loads(ready_file.read_text())
        self.host, self.port = str(info["host"]), int(info["port"])
        return self

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """Stop the child; returns its exit code (``None`` if it was not running)."""
        process, self._process = self._process, None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout_s)
            code = process.returncode
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        return code

    def __enter__(self) -> ToxiproxyProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"
