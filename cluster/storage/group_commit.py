"""``GroupCommit``: the hold-until-commit rule of a node's group commit, shared by both shells.

A node handles a burst of messages (up to ``DRAIN_BATCH``) as one group commit: their writes
share one store commit (``DurableStore.begin_batch`` / ``commit_batch``), and every message
they produce — replica acknowledgements, client replies, forwarded writes — is held until that
commit is done, so nothing a crash could still take back is ever acknowledged. The ZeroMQ
server (``cluster.net.server``) and the simulator (``cluster.sim.simulator``) both run their
batches through this one class, so a slip in the rule shows in the simulator's sweeps as it
would on real processes. A batch's life:

1. ``begin()`` opens the store's batch and hands back the list the shell appends each ``Send``
   and ``Reply`` to while it handles the batch's messages;
2. ``seal()`` — handling is over: what may leave *before* the commit (nothing: every message
   of the batch may depend on its writes);
3. ``commit()`` commits the store's batch and returns what may leave now; if the commit raises,
   the held messages are dropped with the writes they depended on;
4. or ``abandon()``: the process died between writing and committing (a kill in the
   simulator); the held messages are lost with it.

The real server commits at once after sealing; the simulator lets a modelled commit latency
pass between ``seal`` and ``commit``, in which a kill can land. No I/O (the store does it).
"""

from __future__ import annotations

from cluster.core import Reply, Send
from cluster.storage.durable import DurableStore

# Messages handled per wake-up of a node before timers get a look in; one group commit.
# Their replies wait for the batch's writes to be committed, so the batch is kept short.
DRAIN_BATCH = 64

Outbound = Send | Reply


class GroupCommit:
    """One node's group commit over ``store``: at most one batch open at a time."""

    def __init__(self, store: DurableStore) -> None:
        self.store = store
        self._held: list[Outbound] = []

    def begin(self) -> list[Outbound]:
        """Open a batch; the shell appends every ``Send`` and ``Reply`` its handlers produce to
        the list returned (a plain list: the hot path appends without a call)."""
        self.store.begin_batch()
        held: list[Outbound] = []
        self._held = held
        return held

    def seal(self) -> list[Outbound]:
        """The batch's messages are handled; what may leave before its commit: nothing, since
        any of them may acknowledge a write of the batch."""
        return []

    def commit(self) -> list[Outbound]:
        """Commit the batch's writes; then everything held may leave, in order. If the commit
        raises, the writes are gone and so is what was held (nothing is sent for them)."""
        held, self._held = self._held, []
        self.store.commit_batch()
        return held

    def abandon(self) -> int:
        """The process died before the commit: drop what was held; how many messages."""
        held, self._held = self._held, []
        return len(held)
