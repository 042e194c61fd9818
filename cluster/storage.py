"""Durable storage for one node: key states, hints for other nodes, and small metadata.

Two implementations of one ``Store`` interface:

- ``SqliteStore`` — one SQLite database per node in WAL mode. Every write is its own committed
  transaction, so a write the node acknowledged after ``put`` returned survives ``kill -9``
  (WAL with ``synchronous=NORMAL`` is durable against process crashes; ``sync="full"`` also
  fsyncs every commit, for power loss). Does file I/O.
- ``MemoryStore`` — dictionaries, for the simulator and unit tests. No I/O.

States are JSON-able values (``Siblings.to_json()``); the store does not interpret them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol


class Store(Protocol):
    def get(self, key: str) -> Any | None:
        """The stored state of ``key``, or None."""

    def put(self, key: str, state: Any) -> None:
        """Store ``state`` for ``key``; durable when this returns."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def put_hint(self, owner: str, key: str, state: Any) -> None:
        """Keep ``state`` of ``key`` on behalf of the down node ``owner`` (hinted handoff)."""

    def get_hint(self, owner: str, key: str) -> Any | None: ...

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        """Every (owner, key, state) hint held."""

    def delete_hint(self, owner: str, key: str) -> None: ...

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """A ``Store`` in dictionaries: the simulator's storage."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._hints: dict[tuple[str, str], Any] = {}
        self._meta: dict[str, str] = {}

    def get(self, key: str) -> Any | None:
        return self._data.get(key)

    def put(self, key: str, state: Any) -> None:
        self._data[key] = state

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def put_hint(self, owner: str, key: str, state: Any) -> None:
        self._hints[(owner, key)] = state

    def get_hint(self, owner: str, key: str) -> Any | None:
        return self._hints.get((owner, key))

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        return iter([(o, k, s) for (o, k), s in sorted(self._hints.items())])

    def delete_hint(self, owner: str, key: str) -> None:
        self._hints.pop((owner, key), None)

    def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._meta[name] = value

    def close(self) -> None:
        pass


SYNC_MODES = ("normal", "full")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hints (
    owner TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (owner, key));
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _dump(state: Any) -> str:
    return json.dumps(state, separators=(",", ":"), sort_keys=True)


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

    def put(self, key: str, state: Any) -> None:
        self._db.execute(
            "INSERT INTO kv (key, state) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET state = excluded.state",
            (key, _dump(state)),
        )

    def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    def keys(self) -> Iterator[str]:
        return iter([row[0] for row in self._db.execute("SELECT key FROM kv ORDER BY key")])

    def put_hint(self, owner: str, key: str, state: Any) -> None:
        self._db.execute(
            "INSERT INTO hints (owner, key, state) VALUES (?, ?, ?)"
            " ON CONFLICT(owner, key) DO UPDATE SET state = excluded.state",
            (owner, key, _dump(state)),
        )

    def get_hint(self, owner: str, key: str) -> Any | None:
        row = self._db.execute(
            "SELECT state FROM hints WHERE owner = ? AND key = ?", (owner, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        rows = self._db.execute("SELECT owner, key, state FROM hints ORDER BY owner, key")
        return iter([(o, k, json.loads(s)) for o, k, s in rows])

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

    def close(self) -> None:
        self._db.close()
