"""``SqliteStore``: a node's durable ``Store``, one SQLite database in WAL mode. Does file I/O.

Every write is its own committed transaction, part of a ``transaction()`` block (committed when
the block ends), or part of a *group commit*: between ``begin_batch()`` and ``commit_batch()``
the writes share one transaction, so a server that handled a burst of messages pays for one
commit, and sends the acknowledgements only after ``commit_batch()`` returned. Either way a write
the node acknowledged survives ``kill -9``: a commit is in the operating system's page cache
once it returns. What survives *power loss* is what was synced to disk, and ``sync`` says when:

- ``full``: every commit fsyncs the log: nothing acknowledged is lost;
- ``normal`` (the default): the log is synced only by checkpoints, so a power loss loses what
  was committed since the last one;
- ``off``: nothing is ever synced, and (so that a power loss model stays exact, see
  ``cluster.storage.power_loss``) the log is not checkpointed while the node runs: everything
  since the node's start-up sync is at the mercy of the power.

The store runs its checkpoints itself (SQLite's automatic ones are off), when the log passes
``CHECKPOINT_PAGES`` pages (SQLite's own default), at ``sync()`` and at ``close()``, each
``TRUNCATE`` (the log restarts empty) and each followed by a record of the database file's page
checksums (``cluster.storage.pagesums``). Opening a store checks the file against that record
and raises ``CorruptStoreError`` if a page changed or the file was cut short, rather than
serving what a flipped bit made of a value.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cluster.storage import pagesums
from cluster.storage.pagesums import CorruptStoreError

SYNC_MODES = ("off", "normal", "full")
# Checkpoint when the log holds this many pages (SQLite's wal_autocheckpoint default).
CHECKPOINT_PAGES = 1000
# How many commits pass between looks at the log's size (a stat call).
CHECKPOINT_CHECK_EVERY = 16

# Keyed tables without a rowid: a row lives in its key's B-tree, so a write changes one tree
# (and a commit appends one page to the log) instead of a table and its key index.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hints (
    owner TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hints_by_key ON hints (key);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_PUT_SQL = (
    "INSERT INTO kv (key, state) VALUES (?, ?)"
    " ON CONFLICT(key) DO UPDATE SET state = excluded.state"
)
_PUT_HINT_SQL = (
    "INSERT INTO hints (owner, key, state) VALUES (?, ?, ?)"
    " ON CONFLICT(owner, key) DO UPDATE SET state = excluded.state"
)


__all__ = ["SYNC_MODES", "CorruptStoreError", "SqliteStore"]


class SqliteStore:
    """A ``DurableStore`` in one SQLite file in WAL mode; each write commits before returning,
    unless it is part of a ``transaction()`` block or a batch (``begin_batch``)."""

    def __init__(self, path: str | Path, sync: str = "normal") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {sync!r}")
        self.path = Path(path)
        self.sync_mode = sync
        self._wal = self.path.with_name(self.path.name + "-wal")
        # Before SQLite reads a page of it: a damaged file is refused, never served.
        pagesums.verify(self.path)
        # Autocommit mode: every statement is its own transaction, committed when it returns.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # One process owns a node's database, and holds its lock until it closes it: that
        # spares every transaction its file-lock system calls and keeps the log's index in
        # this process's memory (measured: a write with its commit costs under half). Another
        # connection to the same file waits for the lock (5 s), then fails: never two nodes on
        # one store.
        self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={sync.upper()}")
        self._db.execute("PRAGMA wal_autocheckpoint=0")  # ours: see the module docstring
        try:
            self._db.executescript(_SCHEMA)
            self._page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        except sqlite3.DatabaseError as err:  # damage no checksum record covered
            self._db.close()
            raise CorruptStoreError(f"{self.path}: {err}") from None
        self._commits = 0
        self._batching = False  # between begin_batch and commit_batch
        self._batch_writes = 0  # statements written since begin_batch outside a transaction
        self._savepoints = 0  # transaction() blocks open inside a batch

    def _write(self, sql: str, params: tuple[str, ...]) -> None:
        """One writing statement. In a batch, the first write commits on its own (most
        batches hold one: a transaction around it would only add two statements), and the
        second opens the transaction the rest join, committed by ``commit_batch``."""
        db = self._db
        if self._batching and not db.in_transaction:
            if self._batch_writes:
                db.execute("BEGIN")
            self._batch_writes += 1
        db.execute(sql, params)
        if not db.in_transaction:  # committed on its own
            self._committed()

    def _committed(self) -> None:
        """After each commit: checkpoint now and then, when the log has grown (not with
        ``sync=off``, whose log waits for an explicit ``sync``)."""
        self._commits += 1
        if self._commits % CHECKPOINT_CHECK_EVERY or self.sync_mode == "off":
            return
        try:
            size = self._wal.stat().st_size
        except FileNotFoundError:
            return
        if size > CHECKPOINT_PAGES * (self._page_size + 24):
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the log into the database file, empty the log, record the file's pages."""
        durable = self.sync_mode != "off"
        pagesums.mark_checkpointing(self.path, durable)
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pagesums.record(self.path, self._page_size, durable)

    def sync(self) -> None:
        """Make every committed write durable now (a synced checkpoint, whatever ``sync``
        says): what a node does once at start-up, so that its generation survives a power
        loss even with ``sync=off``."""
        if self._db.in_transaction:
            raise RuntimeError("sync inside a transaction")
        db = self._db
        if self.sync_mode == "off":
            db.execute("PRAGMA synchronous=FULL")
        try:
            pagesums.mark_checkpointing(self.path, True)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pagesums.record(self.path, self._page_size, True)
        finally:
            if self.sync_mode == "off":
                db.execute("PRAGMA synchronous=OFF")

    def get(self, key: str) -> Any | None:
        row = self._db.execute("SELECT state FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_text(self, key: str, encoded: str) -> None:
        self._write(_PUT_SQL, (key, encoded))

    def delete(self, key: str) -> None:
        self._write("DELETE FROM kv WHERE key = ?", (key,))

    def keys(self) -> Iterator[str]:
        return iter([row[0] for row in self._db.execute("SELECT key FROM kv ORDER BY key")])

    def items(self) -> Iterator[tuple[str, Any]]:
        rows = self._db.execute("SELECT key, state FROM kv ORDER BY key")
        return iter([(k, json.loads(s)) for k, s in rows])

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None:
        self._write(_PUT_HINT_SQL, (owner, key, encoded))

    def get_hint(self, owner: str, key: str) -> Any | None:
        row = self._db.execute(
            "SELECT state FROM hints WHERE owner = ? AND key = ?", (owner, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        rows = self._db.execute("SELECT owner, key, state FROM hints ORDER BY owner, key")
        return iter([(o, k, json.loads(s)) for o, k, s in rows])

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        rows = self._db.execute(
            "SELECT owner, state FROM hints WHERE key = ? ORDER BY owner", (key,)
        )
        return [(o, json.loads(s)) for o, s in rows]

    def delete_hint(self, owner: str, key: str) -> None:
        self._write("DELETE FROM hints WHERE owner = ? AND key = ?", (owner, key))

    def get_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        db = self._db
        if self._batching:
            # Inside a batch: a savepoint, so that an exception undoes this block's writes
            # and not the rest of the batch, whose acknowledgements are waiting for its commit.
            if not db.in_transaction:
                db.execute("BEGIN")
            self._savepoints += 1
            name = f"block{self._savepoints}"
            db.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                db.execute(f"ROLLBACK TO {name}")
                db.execute(f"RELEASE {name}")
                raise
            finally:
                self._savepoints -= 1
            db.execute(f"RELEASE {name}")
            return
        if db.in_transaction:  # nested: the outer block commits
            yield
            return
        db.execute("BEGIN")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._committed()

    def begin_batch(self) -> None:
        if self._db.in_transaction:
            raise RuntimeError("begin_batch inside a transaction")
        self._batching = True
        self._batch_writes = 0

    def commit_batch(self) -> None:
        self._batching = False
        db = self._db
        if not db.in_transaction:
            return  # nothing was written
        try:
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._committed()

    def close(self) -> None:
        """Checkpoint (SQLite would checkpoint on close anyway, but then the page record
        would not know), then close."""
        try:
            if not self._db.in_transaction:
                self._checkpoint()
        except sqlite3.Error:
            pass  # closing regardless: the log keeps what the checkpoint did not copy
        self._db.close()
