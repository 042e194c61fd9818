"""``DurableStore``: the ``Store`` a shell runs a node on, with what only the shell uses.

The node core sees the narrow ``cluster.core.Store``. The ZeroMQ server also groups the writes
of a drained burst of messages into one commit, and sends what those messages produced only
after it (``begin_batch`` / ``commit_batch``), and closes the store when the node stops. Types
only: no I/O.
"""

from __future__ import annotations

from typing import Protocol

from cluster.core import Store


class DurableStore(Store, Protocol):
    def begin_batch(self) -> None:
        """Start a group commit: the writes until ``commit_batch`` share one commit, and are
        durable at the latest when ``commit_batch`` returns (so nothing that depends on them
        may leave before)."""

    def commit_batch(self) -> None:
        """Make every write since ``begin_batch`` durable. If it raises, the batch's writes
        that were not yet durable are gone (rolled back), and the store is out of its batch."""

    def close(self) -> None: ...
