"""The simulator's group commit: a node handles what has arrived as one batch, its writes are
committed a modelled latency later, and what the batch sends waits for that commit — so a kill
between a batch's writes and its commit loses the writes, and nothing acknowledged them. A slip
planted in the shared rule (``cluster.storage.GroupCommit``) loses acknowledged writes."""

from __future__ import annotations

import pytest

from cluster.core import ClientGet, ClientPut, ClusterConfig, GetReply, PutReply
from cluster.sim import Simulator
from cluster.storage import GroupCommit, Outbound

NODES = ("n1", "n2", "n3")
COMMIT_MS = 50.0


def single_copy_cluster() -> tuple[Simulator, str]:
    """N=R=W=1 with a slow commit, and the one node that holds key ``k``."""
    sim = Simulator(ClusterConfig(nodes=NODES, n=1, r=1, w=1), seed=2, commit_ms=(COMMIT_MS,) * 2)
    sim.run_for(1000)
    return sim, sim.ring().primaries("k", 1)[0]


def ack_before_commit(group: GroupCommit) -> list[Outbound]:
    """The slip: what the batch produced leaves when handling ends, before the commit."""
    held, group._held = group._held, []
    return held


def crash_mid_commit(sim: Simulator, owner: str) -> PutReply | None:
    """Put ``k`` through its owner, kill the owner while the batch commits, start it again:
    what the client was told."""
    ticket = sim.submit(owner, ClientPut(0, "k", "v"))
    sim.run_for(COMMIT_MS / 2)
    assert sim.stores[owner].uncommitted_writes  # written, not committed: the window is open
    sim.crash(owner)
    sim.restart(owner)
    sim.run_for(2000)
    assert ticket.reply is None or isinstance(ticket.reply, PutReply)
    return ticket.reply


def stored_value(sim: Simulator, node: str) -> object:
    reply = sim.wait(sim.submit(node, ClientGet(0, "k")))
    assert isinstance(reply, GetReply) and reply.ok, reply
    return reply.values


def test_a_kill_between_a_batch_and_its_commit_loses_the_write_and_nothing_acknowledged_it() -> (
    None
):
    sim, owner = single_copy_cluster()
    assert crash_mid_commit(sim, owner) is None  # never acknowledged: the client times out
    assert sim.batches_lost == 1
    assert stored_value(sim, owner) == []  # the write is gone, as promised to no one


def test_the_slip_ack_before_commit_loses_an_acknowledged_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(GroupCommit, "seal", ack_before_commit)
    sim, owner = single_copy_cluster()
    reply = crash_mid_commit(sim, owner)
    assert reply is not None and reply.ok  # acknowledged ...
    assert stored_value(sim, owner) == []  # ... and lost


def test_what_arrives_during_a_commit_is_the_next_batch_and_its_replies_leave_together() -> None:
    sim, owner = single_copy_cluster()
    first = sim.submit(owner, ClientPut(0, "k", 1))
    sim.run_for(1)
    later = [sim.submit(owner, ClientPut(0, "k", i)) for i in range(2, 5)]
    sim.run_for(3 * COMMIT_MS)
    assert all(isinstance(t.reply, PutReply) for t in [first, *later])
    assert first.replied_ms is not None
    # Handled together once the first batch committed; answered together when theirs did.
    assert {t.replied_ms for t in later} == {first.replied_ms + COMMIT_MS}


def test_a_batch_that_writes_nothing_answers_at_once() -> None:
    sim, owner = single_copy_cluster()
    ticket = sim.submit(owner, ClientGet(0, "k"))
    sim.run_for(COMMIT_MS / 10)
    assert isinstance(ticket.reply, GetReply) and sim.batches_lost == 0


@pytest.mark.parametrize("commit_ms", [(-1.0, 1.0), (2.0, 1.0)])
def test_a_commit_latency_must_be_an_interval_of_non_negative_times(
    commit_ms: tuple[float, float],
) -> None:
    with pytest.raises(ValueError, match="commit_ms"):
        Simulator(ClusterConfig(nodes=NODES), commit_ms=commit_ms)


def test_a_journal_read_during_a_commit_shows_the_batch_only_once_it_committed() -> None:
    sim, owner = single_copy_cluster()

    def versions_created() -> int:
        reply = sim.admin_now(owner, "journal", {"since": 0})
        assert reply is not None
        return sum(1 for e in reply.data["events"] if e["kind"] == "version-created")

    sim.submit(owner, ClientPut(0, "k", "v"))
    sim.run_for(COMMIT_MS / 2)
    assert versions_created() == 0  # a kill now would lose the batch and its events
    sim.run_for(COMMIT_MS)
    assert versions_created() == 1
