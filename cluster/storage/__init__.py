"""Storage layer: the implementations of the core's ``Store`` port.

- ``SqliteStore`` — a real node's durable store (SQLite, WAL mode; file I/O);
- ``MemoryStore`` — the simulator's and the unit tests' store (dictionaries; no I/O);
- ``lose_unsynced_writes`` — the power-loss model of a stopped node's SQLite files, and
  ``damage_file`` (a bit flipped, a file cut short) and ``CorruptStoreError``, what opening
  a damaged database raises (file I/O).

The ``Store`` protocol itself belongs to the core (``cluster.core.store``), which must not
import this package: the core states what it needs, this layer provides it. ``DurableStore``
adds what only a shell uses: group commit and closing; ``GroupCommit`` is the rule both shells
follow for it (hold what a batch sends until the batch is committed).
"""

from cluster.core import Store, encode_state
from cluster.storage.damage import DAMAGE_MODES, damage_file
from cluster.storage.durable import DurableStore
from cluster.storage.group_commit import DRAIN_BATCH, GroupCommit, Outbound
from cluster.storage.memory import MemoryStore
from cluster.storage.pagesums import REFUSAL, CorruptStoreError
from cluster.storage.power_loss import PowerLoss, lose_unsynced_writes
from cluster.storage.sqlite import SYNC_MODES, SqliteStore

__all__ = [
    "DAMAGE_MODES",
    "DRAIN_BATCH",
    "REFUSAL",
    "SYNC_MODES",
    "CorruptStoreError",
    "DurableStore",
    "GroupCommit",
    "MemoryStore",
    "Outbound",
    "PowerLoss",
    "SqliteStore",
    "Store",
    "damage_file",
    "encode_state",
    "lose_unsynced_writes",
]
