"""The storage port of the node core: the ``Store`` protocol a ``Node`` is given, and the
canonical text of a stored state.

The core reads and writes its replica state through this interface only (behind
``cluster.core.replica.ReplicaData``); ``cluster.storage`` implements it with SQLite for real
nodes and with dictionaries for the simulator. States are JSON-able values
(``Siblings.to_json()``); the store does not interpret them. A caller that already holds a
state's stored text (``encode_state``) writes it with ``put_text`` / ``put_hint_text`` and
saves the encoding. Types and a pure function: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

_STATE_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def encode_state(state: Any) -> str:
    """The stored form of a state: compact JSON with sorted keys, non-ASCII characters as
    they are (equal states, equal text; the canonical text ``cluster.core.versions`` builds)."""
    return _STATE_ENCODER.encode(state)


class Store(Protocol):
    def get(self, key: str) -> Any | None:
        """The stored state of ``key``, or None."""

    def put(self, key: str, state: Any, encoded: str | None = None) -> None:
        """Store ``state`` for ``key``; durable when this returns. ``encoded``, when given, is
        ``state`` already in compact sorted-key JSON (``encode_state``), saving the encoding."""

    def put_text(self, key: str, encoded: str) -> None:
        """Store the state whose ``encode_state`` text is ``encoded``."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every (key, state) stored, in key order (to rebuild in-memory indexes on start)."""

    def put_hint(self, owner: str, key: str, state: Any, encoded: str | None = None) -> None:
        """Keep ``state`` of ``key`` on behalf of the down node ``owner`` (hinted handoff)."""

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None: ...

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
        (many small writes, as a handoff batch makes, then cost one commit). Atomic: an
        exception leaves none of them. Inside a batch it is durable when the batch commits."""

    def begin_batch(self) -> None:
        """Start a group commit: the writes until ``commit_batch`` share one commit, and are
        durable at the latest when ``commit_batch`` returns (so nothing that depends on them
        may leave before)."""

    def commit_batch(self) -> None:
        """Make every write since ``begin_batch`` durable. If it raises, the batch's writes
        that were not yet durable are gone (rolled back), and the store is out of its batch."""

    def close(self) -> None: ...
