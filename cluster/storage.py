"""Durable storage for one node: key states, hints for other nodes, and small metadata.

Two implementations of one ``Store`` interface:

- ``SqliteStore`` — one SQLite database per node in WAL mode. Every write is its own committed
  transaction (or part of a ``transaction()`` block, committed when the block ends), so a write
  the node acknowledged after ``put`` returned survives ``kill -9``
  (WAL with ``synchronous=NORMAL`` is durable against process crashes; ``sync="full"`` also
  fsyncs every commit, for power loss). Does file I/O.
- ``MemoryStore`` — dictionaries, for the simulator and unit tests. No I/O.

States are JSON-able values (``Siblings.to_json()``); the store does not interpret them.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


class Store(Protocol):
    def get(self, key: str) -> Any | None:
        """The stored state of ``key``, or None."""

    def put(self, key: str, state: Any, encoded: str | None = None) -> None:
        """Store ``state`` for ``key``; durable when this returns. ``encoded``, when given, is
        ``state`` already in compact sorted-key JSON (``encode_state``), saving the encoding."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every (key, state) stored, in key order (to rebuild in-memory indexes on start)."""

    def put_hint(self, owner: str, key: str, state: Any, encoded: str | None = None) -> None:
        """Keep ``state`` of ``key`` on behalf of the down node ``owner`` (hinted handoff)."""

    def get_hint(self, owner: str, key: str) -> Any | None: ...

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        """Every (owner, key, state) hint held."""

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        """Every (owner, state) hint held for ``key``."""

    def delete_hint(self, owner: str, key: str) -> None: ...

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group the writes made inside into one transaction, durable when the block ends
        (many small writes, as a handoff batch makes, then cost one commit)."""

    def close(self) -> None: ...


class MemoryStore:
    """A ``Store`` in dictionaries: the simulator's storage."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._hints: dict[tuple[str, str], Any] = {}
        self._meta: dict[str, str] = {}

    def get(self, key: str) -> Any | None:
        return self._data.get(key)

    def put(self, key: str, state: Any, encoded: str | None = None) -> None:
        self._data[key] = state

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(sorted(self._data.items()))

    def put_hint(self, owner: str, key: str, state: Any, encoded: str | None = None) -> None:
        self._hints[(owner, key)] = state

    def get_hint(self, owner: str, key: str) -> Any | None:
        return self._hints.get((owner, key))

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        return iter([(o, k, s) for (o, k), s in sorted(self._hints.items())])

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        return sorted(((o, s) for (o, k), s in self._hints.items() if k == key), key=lambda h: h[0])

    def delete_hint(self, owner: str, key: str) -> None:
        self._hints.pop((owner, key), None)

    def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._meta[name] = value

    def transaction(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


SYNC_MODES = ("normal", "full")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hints (
    owner TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (owner, key));
CREATE INDEX IF NOT EXISTS hints_by_key ON hints (key);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def encode_state(state: Any) -> str:
    """The stored form of a state: compact JSON with sorted keys (equal states, equal text)."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True)


_dump = encode_state


class SqliteStore:
    """A ``Store`` in one SQLite file in WAL mode; each write commits before returning."""

    def __init__(self, path: str | Path, sync: str = "normal") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {sync!r}")
        # Autocommit mode: every statement is its own transaction, committed when it returns.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={sync.upper()}")
        self._db.executescript(_SCHEMA)

    def get(self, key: str) -> Any | None:
        row = self._db.execute("SELECT state FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, state: Any, encoded: str | None = None) -> None:
        self._db.execute(
            "INSERT INTO kv (key, state) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET state = excluded.state",
            (key, _dump(state) if encoded is None else encoded),
        )

    def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    def keys(self) -> Iterator[str]:
        return iter([row[0] for row in self._db.execute("SELECT key FROM kv ORDER BY key")])

    def items(self) -> Iterator[tuple[str, Any]]:
        rows = self._db.execute("SELECT key, state FROM kv ORDER BY key")
        return iter([(k, json.loads(s)) for k, s in rows])

    def put_hint(self, owner: str, key: str, state: Any, encoded: str | None = None) -> None:
        self._db.execute(
            "INSERT INTO hints (owner, key, state) VALUES (?, ?, ?)"
            " ON CONFLICT(owner, key) DO UPDATE SET state = excluded.state",
            (owner, key, _dump(state) if encoded is None else encoded),
        )

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
        self._db.execute("DELETE FROM hints WHERE owner = ? AND key = ?", (owner, key))

    def get_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._db.in_transaction:  # nested: the outer block commits
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
