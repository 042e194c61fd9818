"""Storage: both stores keep what they are given; SQLite is in WAL mode and an acknowledged
write survives the writer being killed with SIGKILL."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.storage import MemoryStore, SqliteStore, Store

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = (
        SqliteStore(tmp_path / "data.sqlite3") if request.param == "sqlite" else MemoryStore()
    )
    yield made
    made.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


def test_keys_round_trip_and_delete(store: Store) -> None:
    store.put("b", [{"value": "x"}])
    store.put("a", {"nested": [1, 2]})
    store.put("b", [{"value": "y"}])  # overwrite
    assert store.get("a") == {"nested": [1, 2]}
    assert store.get("b") == [{"value": "y"}]
    assert store.get("missing") is None
    assert list(store.keys()) == ["a", "b"]
    store.delete("a")
    store.delete("never-there")  # not an error
    assert store.get("a") is None
    assert list(store.keys()) == ["b"]


def test_hints_are_kept_per_owner_and_key(store: Store) -> None:
    store.put_hint("n2", "k", ["for n2"])
    store.put_hint("n3", "k", ["for n3"])
    store.put_hint("n2", "j", ["j for n2"])
    assert store.get_hint("n2", "k") == ["for n2"]
    assert store.get_hint("n3", "k") == ["for n3"]
    assert store.get("k") is None  # a hint is not the node's own data
    assert list(store.hints()) == [("n2", "j", ["j for n2"]), ("n2", "k", ["for n2"]),
                                   ("n3", "k", ["for n3"])]  # fmt: skip
    store.delete_hint("n2", "k")
    assert store.get_hint("n2", "k") is None
    assert [(o, k) for o, k, _ in store.hints()] == [("n2", "j"), ("n3", "k")]


def test_meta(store: Store) -> None:
    assert store.get_meta("generation") is None
    store.set_meta("generation", "1")
    store.set_meta("generation", "2")
    assert store.get_meta("generation") == "2"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(min_size=1, max_size=30), state=json_values)
def test_any_json_state_round_trips(store: Store, key: str, state: Any) -> None:
    store.put(key, state)
    assert store.get(key) == state


def test_sqlite_uses_wal_and_reopens_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    first = SqliteStore(path)
    first.put("k", ["v"])
    first.put_hint("n2", "k", ["h"])
    first.set_meta("generation", "7")
    first.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteStore(path)
    assert (again.get("k"), again.get_hint("n2", "k"), again.get_meta("generation")) == (
        ["v"],
        ["h"],
        "7",
    )
    again.close()


def test_sqlite_rejects_an_unknown_sync_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sync must be one of normal, full"):
        SqliteStore(tmp_path / "x.sqlite3", sync="sometimes")


@pytest.mark.parametrize("sync", ["normal", "full"])
def test_acknowledged_writes_survive_sigkill_of_the_writer(tmp_path: Path, sync: str) -> None:
    """A process writes without end, reporting each write once ``put`` returned (the ack); it
    is SIGKILLed mid-stream, and every write it reported is there when the database reopens."""
    path = tmp_path / "data.sqlite3"
    writer = textwrap.dedent(
        f"""
        import itertools
        from cluster.storage import SqliteStore
        store = SqliteStore({str(path)!r}, sync={sync!r})
        for i in itertools.count():
            store.put(f"k{{i}}", {{"value": i}})
            store.put_hint("n9", f"k{{i}}", [i])
            print(i, flush=True)  # acknowledged: put() returned
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert proc.stdout is not None
        acknowledged = [int(proc.stdout.readline()) for _ in range(100)]
        proc.send_signal(signal.SIGKILL)
        acknowledged += [int(line) for line in proc.stdout.read().split()]
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # The log was never checkpointed by a clean close: what comes back comes from the WAL.
    assert (tmp_path / "data.sqlite3-wal").stat().st_size > 0
    reopened = SqliteStore(path)
    for i in acknowledged:
        assert reopened.get(f"k{i}") == {"value": i}
        assert reopened.get_hint("n9", f"k{i}") == [i]
    reopened.close()
