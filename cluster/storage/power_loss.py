"""Power loss for a stopped node's SQLite store: drop what it never synced to disk.

Jepsen uses LazyFS, a FUSE file system that keeps unsynced writes in its own cache and can
throw them away ("lose-unfsynced-writes"), to show what a database loses when the power fails.
This machine has no FUSE, so the model rests on what ``SqliteStore`` guarantees about when it
syncs (see ``cluster.storage.sqlite``):

- In WAL mode the database file changes only at checkpoints, and the store runs every one
  itself, as ``TRUNCATE`` checkpoints that SQLite syncs (``normal``, ``full``, and the explicit
  ``sync()``); with ``off`` it runs none but ``sync()``'s. So the database file on disk is
  always exactly what the last synced checkpoint left.
- The write-ahead log holds every commit since. With ``full`` each commit synced it: all of it
  survives. With ``normal`` and ``off`` SQLite never syncs it between checkpoints: none of it
  is guaranteed, and LazyFS's model (unsynced data is gone) keeps none of it.

So a power loss of a node killed with ``kill -9`` is, on the files it left: with ``full``
nothing; otherwise the log truncated to nothing, as the disk would have it. The commits that
took with them are counted from the log's frame headers (a frame whose "database size after
commit" field is set ends a transaction; frames of an older log generation, whose salt differs
from the header's, are not counted), and the keys whose stored state goes back (or away) are
counted by reading a copy of the store before and after. The page cache of a real machine
would usually have written some of that log back by itself before the power failed; this is the
worst case, which is what a test of "no acknowledged write lost" must survive. Does file I/O.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24


@dataclass(frozen=True)
class PowerLoss:
    """What a power loss took from one store."""

    sync: str
    transactions_lost: int  # commits that were in the log and not synced
    keys_rolled_back: int  # keys whose stored state went back to an older one or away
    bytes_dropped: int

    def to_json(self) -> dict[str, object]:
        return {
            "sync": self.sync,
            "transactions_lost": self.transactions_lost,
            "keys_rolled_back": self.keys_rolled_back,
            "bytes_dropped": self.bytes_dropped,
        }


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-wal")


def count_commits(wal: bytes) -> int:
    """Transactions in a write-ahead log: commit frames of its current generation."""
    if len(wal) < WAL_HEADER_BYTES:
        return 0
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    commits = 0
    offset = WAL_HEADER_BYTES
    while offset + FRAME_HEADER_BYTES + page_size <= len(wal):
        header = wal[offset : offset + FRAME_HEADER_BYTES]
        if header[8:16] != salts:
            break  # an older generation's frame: the current log ends here
        if struct.unpack(">I", header[4:8])[0]:
            commits += 1
        offset += FRAME_HEADER_BYTES + page_size
    return commits


def _rows(directory: Path, db: Path, wal: Path | None) -> dict[str, str]:
    """The kv rows of a copy of the store (with its log, or without)."""
    copy = directory / ("with-log.sqlite3" if wal is not None else "without-log.sqlite3")
    if db.exists():
        shutil.copyfile(db, copy)
    if wal is not None and wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    conn = sqlite3.connect(str(copy))
    try:
        return dict(conn.execute("SELECT key, state FROM kv").fetchall())
    except sqlite3.DatabaseError:
        return {}
    finally:
        conn.close()


def lose_unsynced_writes(db_path: Path, sync: str) -> PowerLoss:
    """Apply a power loss to the (stopped) store at ``db_path`` that ran with ``sync``."""
    wal = wal_path(db_path)
    data = wal.read_bytes() if wal.exists() else b""
    if sync == "full" or not data:
        return PowerLoss(sync, 0, 0, 0)
    with tempfile.TemporaryDirectory(prefix="zynamo-power-loss-") as tmp:
        before = _rows(Path(tmp), db_path, wal)
        after = _rows(Path(tmp), db_path, None)
    rolled_back = sum(1 for key, state in before.items() if after.get(key) != state)
    commits = count_commits(data)
    with open(wal, "r+b") as f:
        f.truncate(0)
    shm = db_path.with_name(db_path.name + "-shm")
    if shm.exists():
        shm.unlink()
    return PowerLoss(sync, commits, rolled_back, len(data))
