"""The storage port of the node core: the ``Store`` protocol a ``Node`` is given, and the
canonical text of a stored state.

The protocol is exactly what the core uses, and only ``cluster.core.replica.ReplicaData`` (the
core's one door to storage) calls it; ``cluster.storage`` implements it with SQLite for real
nodes and with dictionaries for the simulator, and adds what only the shells use (group commit,
closing: ``cluster.storage.DurableStore``). States are read back as JSON-able values
(``Siblings.to_json()``) and written as their stored text (``encode_state``), which the core
already holds; the store does not interpret them. Types and a pure function: no I/O.
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
    """What the node core reads and writes: the main table (key → state), hints (states
    kept for a down owner, by owner and key), and node metadata."""

    def get(self, key: str) -> Any | None:
        """The stored state of ``key``, or None."""

    def put_text(self, key: str, encoded: str) -> None:
        """Store the state whose ``encode_state`` text is ``encoded``; durable when this
        returns (or when the enclosing transaction or batch commits)."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]:
        """The keys of the main table, in key order."""

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every (key, state) stored, in key order (to rebuild in-memory indexes on start)."""

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None:
        """Keep the state of ``key`` whose text is ``encoded`` on behalf of the down node
        ``owner`` (hinted handoff)."""

    def get_hint(self, owner: str, key: str) -> Any | None: ...

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        """Every (owner, key, state) hint held."""

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        """Every (owner, state) hint held for ``key``, by owner."""

    def delete_hint(self, owner: str, key: str) -> None: ...

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group the writes made inside into one transaction, durable when the block ends
        (many small writes, as a handoff batch makes, then cost one commit). Atomic: an
        exception leaves none of them. Inside a shell's batch it is durable when the batch
        commits."""
