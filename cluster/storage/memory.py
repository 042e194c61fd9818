"""``MemoryStore``: a ``DurableStore`` in dictionaries of JSON text, for the simulator and unit
tests. No I/O.

A process crash (``kill -9``) loses nothing here, as with SQLite: what a write committed is in
the operating system's hands. A **power loss** is different, and the store models it as the
real node's SQLite store does (``cluster.storage.sqlite``, ``cluster.storage.power_loss``):
what survives is what was last synced, by ``sync`` mode —

- ``full``: every commit is synced; a power loss loses nothing;
- ``normal``: the log is synced only at checkpoints, every ``checkpoint_commits`` commits; a
  power loss loses every commit since the last one;
- ``off``: no checkpoint while the node runs; a power loss loses everything since it started
  (or since the last explicit ``checkpoint``).

Every write here is its own commit (the simulator does not model group commit's batches).
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

    def _committed(self) -> None:
        if self.sync_mode == "full":
            return
        self._unsynced += 1
        if self.sync_mode == "normal" and self._unsynced >= self.checkpoint_commits:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Sync everything committed so far (what survives a power loss from now on)."""
        self._synced = (dict(self._data), dict(self._hints), dict(self._meta))
        self._unsynced = 0

    def lose_unsynced(self) -> tuple[int, int]:
        """Power loss: go back to the last synced state; (commits lost, keys rolled back)."""
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
        self._data[key] = encoded
        self._committed()

    def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._committed()

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter([(k, json.loads(t)) for k, t in sorted(self._data.items())])

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None:
        self._hints[(owner, key)] = encoded
        self._committed()

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
        self._hints.pop((owner, key), None)
        self._committed()

    def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._meta[name] = value
        self._committed()

    def transaction(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def begin_batch(self) -> None:
        pass

    def commit_batch(self) -> None:
        pass

    def close(self) -> None:
        pass
