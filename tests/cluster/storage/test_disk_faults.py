"""Storage faults on a real SQLite store: a power loss loses exactly what ``sync`` left
unsynced (acknowledged writes with ``off`` and ``normal``, none with ``full``), and a database
file that was bit-flipped or truncated while the node was down is refused on open, never read."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cluster.storage import CorruptStoreError, SqliteStore, encode_state, lose_unsynced_writes
from cluster.storage.pagesums import sums_path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _write_then_kill(path: Path, sync: str, count: int) -> list[int]:
    """A process acknowledges ``count`` writes (after ``put`` returned), then is SIGKILLed."""
    writer = textwrap.dedent(
        f"""
        import itertools, time
        from cluster.storage import SqliteStore, encode_state
        store = SqliteStore({str(path)!r}, sync={sync!r})
        store.set_meta("generation", "1")
        store.sync()  # what a node does at start-up
        for i in range({count}):
            store.put_text(f"k{{i}}", encode_state({{"value": i}}))
            print(i, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert proc.stdout is not None
        acknowledged = [int(proc.stdout.readline()) for _ in range(count)]
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    return acknowledged


@pytest.mark.parametrize("sync", ["off", "normal"])
def test_power_loss_loses_acknowledged_writes_that_were_not_synced(
    tmp_path: Path, sync: str
) -> None:
    path = tmp_path / "data.sqlite3"
    acknowledged = _write_then_kill(path, sync, 50)
    lost = lose_unsynced_writes(path, sync)
    assert lost.transactions_lost == 50 and lost.keys_rolled_back == 50
    reopened = SqliteStore(path, sync=sync)
    missing = [i for i in acknowledged if reopened.get(f"k{i}") is None]
    assert missing == acknowledged  # every write since the start-up sync is gone
    assert reopened.get_meta("generation") == "1"  # what was synced stays
    reopened.close()


def test_power_loss_loses_nothing_with_sync_full(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    acknowledged = _write_then_kill(path, "full", 50)
    lost = lose_unsynced_writes(path, "full")
    assert lost.transactions_lost == 0 and lost.keys_rolled_back == 0
    reopened = SqliteStore(path, sync="full")
    assert all(reopened.get(f"k{i}") == {"value": i} for i in acknowledged)
    reopened.close()


def _closed_store(path: Path, keys: int = 300) -> None:
    store = SqliteStore(path)
    for i in range(keys):
        store.put_text(f"k{i}", encode_state({"value": f"v{i}" * 10}))
    store.close()


def test_a_bit_flipped_while_the_node_was_down_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    _closed_store(path)
    data = bytearray(path.read_bytes())
    offset = random.Random(3).randrange(len(data) // 2, len(data))
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match=r"page \d+ of \d+ fails its checksum"):
        SqliteStore(path)


def test_a_truncated_file_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    _closed_store(path)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(CorruptStoreError, match="truncated or extended"):
        SqliteStore(path)


def test_a_flip_in_a_value_is_caught_though_sqlite_itself_would_read_it(tmp_path: Path) -> None:
    """The damage that matters most: a value's text changes, and the file is still valid."""
    path = tmp_path / "data.sqlite3"
    _closed_store(path, keys=3)
    data = path.read_bytes()
    at = data.index(b"v1v1v1")
    path.write_bytes(data[:at] + b"v7" + data[at + 2 :])
    with pytest.raises(CorruptStoreError, match="fails its checksum"):
        SqliteStore(path)


def test_an_undamaged_store_reopens_after_a_clean_close_and_after_kill(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    _closed_store(path, keys=5)
    assert SqliteStore(path).get("k4") == {"value": "v4" * 10}
    killed = tmp_path / "killed.sqlite3"
    acknowledged = _write_then_kill(killed, "normal", 20)
    assert sums_path(killed).exists()
    reopened = SqliteStore(killed)
    assert all(reopened.get(f"k{i}") == {"value": i} for i in acknowledged)
    reopened.close()


def test_an_interrupted_checkpoint_is_not_judged(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    _closed_store(path, keys=5)
    sums_path(path).write_text('{"state": "checkpointing"}')
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # a page the interrupted checkpoint may have been writing
    path.write_bytes(bytes(data))
    SqliteStore(path).close()  # opens; its next checkpoint records the file afresh
    assert '"clean"' in sums_path(path).read_text()
