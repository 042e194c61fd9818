"""`zynamo serve [--results DIR] [--host 127.0.0.1] [--port 8080]`: a web page over the results
store, as Jepsen's ``serve``: every run (sortable, filterable), each run's report, a page per
test (its seed sweep), the matrix of workloads by nemeses, and any run as a zip.

It binds to 127.0.0.1 unless told otherwise and serves only files inside the results directory:
no ``..``, no symbolic link that leads out, no directory listings (``zynamo.report.runs``
decides). Does network and file I/O (reads only).
"""

from __future__ import annotations

import argparse
import io
import mimetypes
import os
import pathlib
import sys
import zipfile
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from zynamo.report.runlist import render_matrix, render_run_list
from zynamo.report.runs import safe_path, scan_runs

DEFAULT_PORT = 8080


class ResultsHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD over one results directory."""

    server_version = "zynamo-serve"

    def __init__(self, *args: Any, results_dir: pathlib.Path, **kwargs: Any) -> None:
        self.results_dir = results_dir
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"serve: {self.address_string()} {format % args}\n")

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        shown = str(self.results_dir)
        if path in ("/", "/index.html"):
            self._send(render_run_list(scan_runs(self.results_dir), shown), "text/html", head)
        elif path == "/matrix":
            self._send(render_matrix(scan_runs(self.results_dir), shown), "text/html", head)
        elif path.startswith("/test/"):
            name = path[len("/test/") :]
            runs = [r for r in scan_runs(self.results_dir) if r.test == name]
            if not runs:
                self._refuse(HTTPStatus.NOT_FOUND, f"no runs of test {name!r}")
                return
            self._send(render_run_list(runs, shown, f"Runs of {name}"), "text/html", head)
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :], head)
        elif path.startswith("/zip/"):
            self._zip(path[len("/zip/") :], head)
        else:
            self._refuse(HTTPStatus.NOT_FOUND, "no such page")

    def _file(self, relative: str, head: bool) -> None:
        target = safe_path(self.results_dir, relative)
        if target is None:
            self._refuse(HTTPStatus.NOT_FOUND, "not in the results directory")
            return
        if target.is_dir():
            if (target / "index.html").is_file():
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", "/files/" + relative.rstrip("/") + "/index.html")
                self.end_headers()
            else:
                self._refuse(HTTPStatus.NOT_FOUND, "directories are not listed")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".jsonl":
            kind = "text/plain"
        self._send(target.read_bytes(), kind, head)

    def _zip(self, relative: str, head: bool) -> None:
        run_dir = safe_path(self.results_dir, relative)
        if (
            run_dir is None
            or not run_dir.is_dir()
            or not ((run_dir / "test.json").is_file() or (run_dir / "history.jsonl").is_file())
        ):
            self._refuse(HTTPStatus.NOT_FOUND, "not a run directory of the results store")
            return
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for folder, _dirs, files in os.walk(run_dir):  # does not follow symbolic links
                for name in sorted(files):
                    path = pathlib.Path(folder) / name
                    if path.is_symlink():
                        continue
                    archive.write(path, pathlib.Path(run_dir.name) / path.relative_to(run_dir))
        name = f"{run_dir.parent.name}-{run_dir.name}.zip"
        self._send(buffer.getvalue(), "application/zip", head, attachment=name)

    def _send(
        self, body: str | bytes, kind: str, head: bool, attachment: str | None = None
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(HTTPStatus.OK)
        charset = "; charset=utf-8" if kind.startswith("text/") else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if attachment:
            self.send_header("Content-Disposition", f'attachment; filename="{attachment}"')
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self.send_error(status, why)


def make_server(results_dir: pathlib.Path, host: str, port: int) -> ThreadingHTTPServer:
    """The server (not yet serving); port 0 picks a free one (``server.server_address``)."""
    handler = partial(ResultsHandler, results_dir=results_dir.resolve())
    return ThreadingHTTPServer((host, port), handler)


def handle(args: argparse.Namespace) -> int:
    from zynamo.cli import UsageError

    results_dir: pathlib.Path = args.results
    if not results_dir.is_dir():
        raise UsageError(f"--results: {results_dir} is not a directory")
    try:
        server = make_server(results_dir, args.host, args.port)
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err}") from None
    port = server.server_address[1]
    print(
        f"serving {results_dir.resolve()} at http://{args.host}:{port}/ (Ctrl-C stops)", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="a web page over the results store: every run, its report, zips"
    )
    parser.add_argument("--results", type=pathlib.Path, default=pathlib.Path("results"))
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"TCP port, 0-65535; 0 picks a free one (default {DEFAULT_PORT})",
    )
    parser.set_defaults(handler=handle)
