"""A node's event journal: a bounded ring of its protocol events, for reports that explain a
failure from what the nodes did (versions created, replica writes, hints, repairs,
anti-entropy, reaps, ring and peer changes).

Each event is ``(seq, ms, kind, fields)``: a sequence number counted from 1 by this process
(a restarted node starts again at 1, under a new generation), the node's monotonic time in
milliseconds (the ``now_ms`` the shell passed in), a short kind (``EVENT_KINDS``) and a small
dict of JSON-able fields. Recording appends one tuple and keeps a reference to the fields
(values are not copied or encoded until someone reads them), so it is cheap; a journal of
capacity 0 is off and recording is one attribute test. The oldest events fall off once
``capacity`` are held; a reader that polls with ``since`` sees the gap as ``first_seq``.

Read through the admin op ``journal`` (``cluster.core.admin``), which every environment polls
the same way. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

DEFAULT_CAPACITY = 20_000  # events kept per node (a few MB at most)
MAX_READ = 5_000  # events one ``journal`` admin call returns at most

# What each kind of event says, for docs/history.md and the report's legend.
EVENT_KINDS = {
    "start": "the node process started (generation, keys and hints held)",
    "version-created": "this node coordinated a put and created a new version (its dot)",
    "replica-write": "a coordinator's or a read repair's state was merged here (applied or not)",
    "read-repair": "after a get, this coordinator sent the merged state to stale replicas",
    "hint-delivered": "hints handed to their owner were acknowledged and deleted here",
    "transfer-delivered": "keys of a partition handed to its new owners were deleted here",
    "handoff-received": "a peer handed states to this node, merged into its main table",
    "handoff-failed": "a handoff batch was refused or timed out; it goes again later",
    "hint-absorbed": "a hint for a node no longer in the ring was merged into the main table",
    "aae-diff": "an anti-entropy exchange found keys that differ from a peer's",
    "aae-sync": "anti-entropy merged a peer's states of these keys here",
    "reaped": "tombstones were deleted everywhere",
    "ring-changed": "this node adopted a new ring",
    "peer-down": "this node's failure detector started suspecting a peer",
    "peer-up": "a suspected peer is reachable again",
    "peer-restarted": "a peer came back with a higher generation",
}


@dataclass
class Journal:
    """The ring of one node's events; ``capacity`` 0 turns it off."""

    capacity: int = DEFAULT_CAPACITY
    _events: deque[tuple[int, float, str, dict[str, Any]]] = field(init=False)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise ValueError(f"journal capacity must be 0 (off) or more, got {self.capacity}")
        self._events = deque(maxlen=max(self.capacity, 1))

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def record(self, now_ms: float, kind: str, **fields: Any) -> None:
        """Append one event (nothing when the journal is off)."""
        if self.capacity:
            self._seq += 1
            self._events.append((self._seq, now_ms, kind, fields))

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest event (0: none yet)."""
        return self._seq

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest event still held (``last_seq + 1`` when empty)."""
        return self._events[0][0] if self._events else self._seq + 1

    def since(self, seq: int, limit: int = MAX_READ) -> list[dict[str, Any]]:
        """The events after sequence ``seq``, oldest first, at most ``limit``, each as a dict
        ``{"seq", "ms", "kind", **fields}``."""
        events = self._events
        if not events or seq >= self._seq:
            return []
        start = max(0, seq + 1 - events[0][0])  # sequence numbers are consecutive in the ring
        return [
            {"seq": number, "ms": ms, "kind": kind, **fields}
            for number, ms, kind, fields in islice(events, start, start + limit)
        ]
