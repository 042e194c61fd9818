"""Storage layer: the implementations of the core's ``Store`` port.

- ``SqliteStore`` — a real node's durable store (SQLite, WAL mode; file I/O);
- ``MemoryStore`` — the simulator's and the unit tests' store (dictionaries; no I/O).

The ``Store`` protocol itself belongs to the core (``cluster.core.store``), which must not
import this package: the core states what it needs, this layer provides it. ``DurableStore``
adds what only a shell uses: group commit and closing.
"""

from cluster.core import Store, encode_state
from cluster.storage.durable import DurableStore
from cluster.storage.memory import MemoryStore
from cluster.storage.sqlite import SYNC_MODES, SqliteStore

__all__ = ["SYNC_MODES", "DurableStore", "MemoryStore", "SqliteStore", "Store", "encode_state"]
