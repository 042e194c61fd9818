"""`zynamo serve`: lists the runs of a results store, serves their reports and zips, and
nothing outside the store (no `..`, no symbolic link out, no directory listing)."""

from __future__ import annotations

import io
import pathlib
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator

import pytest

from tests.zynamo.report_fixtures import write_lost_add_run
from zynamo.cli import build_parser
from zynamo.cmd_serve import make_server
from zynamo.report import write_report


@pytest.fixture()
def served(tmp_path: pathlib.Path) -> Iterator[tuple[str, pathlib.Path]]:
    results = tmp_path / "results"
    run_dir = write_lost_add_run(results)
    write_report(run_dir)
    (results / "latest").symlink_to(run_dir.relative_to(results), target_is_directory=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (run_dir / "escape.txt").symlink_to(secret)
    server = make_server(results, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", run_dir
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_run_list_names_each_run_with_its_verdict_and_failing_checkers(
    served: tuple[str, pathlib.Path],
) -> None:
    base, _ = served
    status, body = get(base + "/")
    page = body.decode()
    assert status == 200
    assert "set-kill" in page and "invalid" in page and ">set<" in page
    assert "/files/set-kill/20240101T000000.000000Z/index.html" in page
    assert page.count("/zip/") == 1  # `latest` is not listed a second time


def test_a_run_report_and_its_key_pages_are_served(served: tuple[str, pathlib.Path]) -> None:
    base, _ = served
    status, body = get(base + "/files/set-kill/20240101T000000.000000Z/index.html")
    assert status == 200 and b"What went wrong" in body
    status, body = get(base + "/files/latest/keys/k3.html")
    assert status == 200 and b"key k3" in body
    assert get(base + "/test/set-kill")[0] == 200 and get(base + "/matrix")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/set-kill/../../secret.txt",
        "/files/set-kill/20240101T000000.000000Z/escape.txt",
        "/files//etc/passwd",
        "/files/set-kill",
        "/files/set-kill/",
        "/zip/..",
        "/etc/passwd",
    ],
)
def test_nothing_outside_the_store_and_no_listing_is_served(
    served: tuple[str, pathlib.Path], path: str
) -> None:
    base, _ = served
    status, body = get(base + path)
    assert status == 404
    assert b"not for the web" not in body and b"root:" not in body


def test_a_run_downloads_as_a_zip_of_its_files(served: tuple[str, pathlib.Path]) -> None:
    base, _ = served
    status, body = get(base + "/zip/set-kill/20240101T000000.000000Z")
    assert status == 200
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    prefix = "20240101T000000.000000Z/"
    assert {prefix + "history.jsonl", prefix + "index.html", prefix + "keys/k3.html"} <= set(names)
    assert prefix + "escape.txt" not in names  # a symbolic link is not followed


def test_serve_binds_to_this_machine_by_default() -> None:
    args = build_parser("serve").parse_args(["serve"])
    assert args.host == "127.0.0.1"
