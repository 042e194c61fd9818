"""Storage: both stores keep what they are given; SQLite is in WAL mode and an acknowledged
write survives the writer being killed with SIGKILL."""

from __future__ import annotations

import contextlib
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

from cluster.storage import DurableStore, MemoryStore, SqliteStore, encode_state

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DurableStore]:
    made: DurableStore = (
        SqliteStore(tmp_path / "data.sqlite3") if request.param == "sqlite" else MemoryStore()
    )
    yield made
    made.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


def test_keys_round_trip_and_delete(store: DurableStore) -> None:
    store.put_text("b", encode_state([{"value": "x"}]))
    store.put_text("a", encode_state({"nested": [1, 2]}))
    store.put_text("b", encode_state([{"value": "y"}]))  # overwrite
    assert store.get("a") == {"nested": [1, 2]}
    assert store.get("b") == [{"value": "y"}]
    assert store.get("missing") is None
    assert list(store.keys()) == ["a", "b"]
    store.delete("a")
    store.delete("never-there")  # not an error
    assert store.get("a") is None
    assert list(store.keys()) == ["b"]


def test_hints_are_kept_per_owner_and_key(store: DurableStore) -> None:
    store.put_hint_text("n2", "k", encode_state(["for n2"]))
    store.put_hint_text("n3", "k", encode_state(["for n3"]))
    store.put_hint_text("n2", "j", encode_state(["j for n2"]))
    assert store.get_hint("n2", "k") == ["for n2"]
    assert store.get_hint("n3", "k") == ["for n3"]
    assert store.get("k") is None  # a hint is not the node's own data
    assert list(store.hints()) == [("n2", "j", ["j for n2"]), ("n2", "k", ["for n2"]),
                                   ("n3", "k", ["for n3"])]  # fmt: skip
    store.delete_hint("n2", "k")
    assert store.get_hint("n2", "k") is None
    assert [(o, k) for o, k, _ in store.hints()] == [("n2", "j"), ("n3", "k")]


def test_meta(store: DurableStore) -> None:
    assert store.get_meta("generation") is None
    store.set_meta("generation", "1")
    store.set_meta("generation", "2")
    assert store.get_meta("generation") == "2"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(min_size=1, max_size=30), state=json_values)
def test_any_json_state_round_trips(store: DurableStore, key: str, state: Any) -> None:
    store.put_text(key, encode_state(state))
    assert store.get(key) == state


def test_sqlite_uses_wal_and_reopens_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    first = SqliteStore(path)
    first.put_text("k", encode_state(["v"]))
    first.put_hint_text("n2", "k", encode_state(["h"]))
    first.set_meta("generation", "7")
    first.close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteStore(path)
    assert (again.get("k"), again.get_hint("n2", "k"), again.get_meta("generation")) == (
        ["v"],
        ["h"],
        "7",
    )
    again.close()


def test_a_second_store_cannot_open_a_database_in_use(tmp_path: Path) -> None:
    """A node owns its database while it runs: a second process (or connection) pointed at
    the same directory fails instead of sharing it."""
    path = tmp_path / "data.sqlite3"
    owner = SqliteStore(path)
    owner.put_text("k", encode_state(["v"]))
    try:
        intruder = sqlite3.connect(path, timeout=0.1)
        with contextlib.closing(intruder), pytest.raises(sqlite3.OperationalError, match="locked"):
            intruder.execute("SELECT count(*) FROM kv").fetchone()
    finally:
        owner.close()
    again = SqliteStore(path)
    assert again.get("k") == ["v"]
    again.close()


def test_sqlite_rejects_an_unknown_sync_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sync must be one of off, normal, full"):
        SqliteStore(tmp_path / "x.sqlite3", sync="sometimes")


@pytest.mark.parametrize("sync", ["off", "normal", "full"])
def test_acknowledged_writes_survive_sigkill_of_the_writer(tmp_path: Path, sync: str) -> None:
    """A process writes without end, reporting each write once ``put`` returned (the ack); it
    is SIGKILLed mid-stream, and every write it reported is there when the database reopens."""
    path = tmp_path / "data.sqlite3"
    writer = textwrap.dedent(
        f"""
        import itertools
        from cluster.storage import SqliteStore, encode_state
        store = SqliteStore({str(path)!r}, sync={sync!r})
        for i in itertools.count():
            store.put_text(f"k{{i}}", encode_state({{"value": i}}))
            store.put_hint_text("n9", f"k{{i}}", encode_state([i]))
            print(i, flush=True)  # acknowledged: the writes returned
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


def test_a_batch_commits_its_writes_together(store: DurableStore) -> None:
    store.begin_batch()
    store.put_text("a", encode_state([1]))
    store.put_text("b", "[2]")
    store.put_hint_text("n2", "a", encode_state(["h"]))
    store.commit_batch()
    assert (store.get("a"), store.get("b"), store.get_hint("n2", "a")) == ([1], [2], ["h"])
    store.begin_batch()
    store.commit_batch()  # nothing written: nothing to commit, no error
    store.put_text("c", encode_state([3]))  # and after the batch, writes commit one by one again
    assert store.get("c") == [3]


def test_a_failed_block_inside_a_batch_undoes_only_its_own_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "data.sqlite3")
    store.begin_batch()
    store.put_text("before", encode_state([1]))
    with pytest.raises(RuntimeError), store.transaction():
        store.put_text("inside", encode_state([2]))
        raise RuntimeError("abandon")
    with store.transaction():
        store.put_text("after", encode_state([3]))
    store.commit_batch()
    store.close()
    reopened = SqliteStore(tmp_path / "data.sqlite3")
    assert dict(reopened.items()) == {"before": [1], "after": [3]}
    reopened.close()


def test_a_batch_is_durable_once_committed(tmp_path: Path) -> None:
    """The group-commit rule a node's acknowledgements rely on: a writer SIGKILLed in the
    middle of a batch leaves every batch it committed (of the open one, some writes may have
    reached the log already: nothing was acknowledged for them, so either way is right)."""
    path = tmp_path / "data.sqlite3"
    writer = textwrap.dedent(
        f"""
        import itertools, time
        from cluster.storage import SqliteStore
        store = SqliteStore({str(path)!r})
        for batch in itertools.count():
            store.begin_batch()
            for i in range(3):
                store.put_text(f"b{{batch}}-{{i}}", "[%d]" % batch)
            if batch == 20:
                print("open", flush=True)  # a batch written, not committed
                time.sleep(60)
            store.commit_batch()
            print(batch, flush=True)  # committed: its acknowledgements may leave now
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(21)]
        assert lines[-1] == "open"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    reopened = SqliteStore(path)
    for batch in range(20):
        assert [reopened.get(f"b{batch}-{i}") for i in range(3)] == [[batch]] * 3
    assert reopened.get("b20-2") is None  # the open batch's last write was not committed
    reopened.close()


def test_a_store_hands_out_copies_of_what_it_keeps(store: DurableStore) -> None:
    state = [{"value": ["a"]}]
    store.put_text("k", encode_state(state))
    state[0]["value"].append("changed by the caller")
    got = store.get("k")
    assert got == [{"value": ["a"]}]
    got[0]["value"].append("changed again")
    assert store.get("k") == [{"value": ["a"]}]
