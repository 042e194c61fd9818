"""``MemoryStore``: a ``DurableStore`` in dictionaries of JSON text, for the simulator and unit
tests. No I/O.

It models SQLite's transaction boundary and sync modes, as the real node's store has them
(``cluster.storage.sqlite``, ``cluster.storage.power_loss``):

- a write outside a batch is its own commit; between ``begin_batch`` and ``commit_batch`` (a
  node's group commit) the writes are one commit, made when ``commit_batch`` returns;
- a **process crash** (``kill -9``) loses exactly the open batch's writes
  (``lose_uncommitted``): what was committed is in the operating system's hands;
- a **power loss** also loses what was committed but not yet synced, by ``sync`` mode —
  ``full``: every commit is synced, nothing more is lost; ``normal``: the log is synced only
  at checkpoints, every ``checkpoint_commits`` commits, and a power loss loses every commit
  since the last one; ``off``: no checkpoint while the node runs, a power loss loses
  everything since it started (or since the last explicit ``checkpoint``).

``lose_unsynced()`` rolls the store back to its synced state and says what was lost.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from cluster.storage.sqlite import SYNC_MODES

# Commits between checkpoints in ``normal`` mode: about SQLite's 1,000-page log for small
# states, each commit of one key writing about one page.
CHECKPOINT_COMMITS = 1000


class MemoryStore:
    """A ``Store`` in dictionaries: the simulator's storage. It keeps JSON text, as SQLite
    does, so what it hands back is never the caller's own (mutable) object."""

    def __init__(self, sync: str = "normal", checkpoint_commits: int = CHECKPOINT_COMMITS) -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {sync!r}")
        self.sync_mode = sync
        self.checkpoint_commits = checkpoint_commits
        self._data: dict[str, str] = {}
        self._hints: dict[tuple[str, str], str] = {}
        self._meta: dict[str, str] = {}
        self._synced: tuple[dict[str, str], dict[tuple[str, str], str], dict[str, str]] = (
            {},
            {},
            {},
        )
        self._unsynced = 0  # commits since the last sync
        # While a batch is open: for each entry it wrote, the committed text before the
        # batch's first write to it (None: absent) — what a crash puts back. None: no batch.
        self._undo: dict[tuple[str, Any], str | None] | None = None

    @property
    def uncommitted_writes(self) -> int:
        """Entries the open batch has written and not yet committed (0 outside a batch)."""
        return len(self._undo) if self._undo else 0

    @staticmethod
    def _roll_back(
        undo: dict[tuple[str, Any], str | None], tables: dict[str, dict[Any, str]]
    ) -> None:
        """Put back in ``tables`` (by name) the committed text of every entry in ``undo``."""
        for (table, key), old in undo.items():
            if old is None:
                tables[table].pop(key, None)
            else:
                tables[table][key] = old

    def _wrote(self, table: str, key: Any, old: str | None) -> None:
        """A write to ``table[key]`` whose committed text was ``old``: its own commit, or
        remembered for the open batch's rollback."""
        undo = self._undo
        if undo is None:
            self._committed()
        elif (table, key) not in undo:
            undo[(table, key)] = old

    def _committed(self) -> None:
        if self.sync_mode == "full":
            return
        self._unsynced += 1
        if self.sync_mode == "normal" and self._unsynced >= self.checkpoint_commits:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Sync everything committed so far (what survives a power loss from now on); an open
        batch's writes are not committed, so not synced."""
        data, hints, meta = dict(self._data), dict(self._hints), dict(self._meta)
        if self._undo:
            self._roll_back(self._undo, {"data": data, "hints": hints, "meta": meta})
        self._synced = (data, hints, meta)
        self._unsynced = 0

    def lose_unsynced(self) -> tuple[int, int]:
        """Power loss: go back to the last synced state; (commits lost, keys rolled back).
        An open batch is lost too (``lose_uncommitted``; not counted as a commit)."""
        self.lose_uncommitted()
        if self.sync_mode == "full" or not self._unsynced:
            return 0, 0
        data, hints, meta = self._synced
        changed = {k for k in self._data.keys() | data.keys() if self._data.get(k) != data.get(k)}
        changed |= {k for (_, k) in self._hints.keys() ^ hints.keys()}
        lost = self._unsynced
        self._data, self._hints, self._meta = dict(data), dict(hints), dict(meta)
        self._unsynced = 0
        return lost, len(changed)

    def get(self, key: str) -> Any | None:
        text = self._data.get(key)
        return None if text is None else json.loads(text)

    def put_text(self, key: str, encoded: str) -> None:
        self._wrote("data", key, self._data.get(key))
        self._data[key] = encoded

    def delete(self, key: str) -> None:
        self._wrote("data", key, self._data.pop(key, None))

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter([(k, json.loads(t)) for k, t in sorted(self._data.items())])

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None:
        self._wrote("hints", (owner, key), self._hints.get((owner, key)))
        self._hints[(owner, key)] = encoded

    def get_hint(self, owner: str, key: str) -> Any | None:
        text = self._hints.get((owner, key))
        return None if text is None else json.loads(text)

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        return iter([(o, k, json.loads(t)) for (o, k), t in sorted(self._hints.items())])

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        return sorted(
            ((o, json.loads(t)) for (o, k), t in self._hints.items() if k == key),
            key=lambda h: h[0],
        )

    def delete_hint(self, owner: str, key: str) -> None:
        self._wrote("hints", (owner, key), self._hints.pop((owner, key), None))

    def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._wrote("meta", name, self._meta.get(name))
        self._meta[name] = value

    def transaction(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def begin_batch(self) -> None:
        if self._undo is not None:
            raise RuntimeError("begin_batch inside a batch")
        self._undo = {}

    def commit_batch(self) -> None:
        """Commit the open batch's writes as one commit (none written: no commit)."""
        undo, self._undo = self._undo, None
        if undo:
            self._committed()

    def lose_uncommitted(self) -> int:
        """A crash: the open batch's writes are gone (the store is out of its batch); how
        many entries were put back."""
        undo, self._undo = self._undo, None
        if not undo:
            return 0
        self._roll_back(undo, {"data": self._data, "hints": self._hints, "meta": self._meta})
        return len(undo)

    def close(self) -> None:
        pass
