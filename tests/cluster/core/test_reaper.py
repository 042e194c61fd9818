"""The reaper's voting on its own: a ``Reaper`` driven message by message against a fixed view
of the cluster, and ``Round``'s decision for any votes. A tombstone is reaped only when every
known node voted yes; any no, any missing vote, any unreachable node keeps it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.config import ClusterConfig
from cluster.core.context import NodeContext
from cluster.core.effects import Send
from cluster.core.membership import Membership
from cluster.core.messages import Reap, ReapQuery, ReapVote
from cluster.core.placement import Placement
from cluster.core.reaper import ROUND_TIMEOUT_MS, Reaper, Round
from cluster.core.replica import ReplicaData
from cluster.core.versions import Siblings, versioning
from cluster.storage import MemoryStore

NODES = ("n1", "n2", "n3", "n4")
GRACE_MS = 1000
CONFIG = ClusterConfig(nodes=NODES, partitions=16, tombstone_grace_ms=GRACE_MS)
DVV = versioning("dvv")
MEMBERSHIP = Membership.initial(NODES, CONFIG.partitions)
PLACEMENT = Placement(MEMBERSHIP.ring, CONFIG.n)
# A key n1 proposes (its first primary), and one it does not.
KEY = next(f"k{i}" for i in range(1000) if PLACEMENT.key_primaries(f"k{i}")[0] == "n1")
OTHER = next(f"k{i}" for i in range(1000) if PLACEMENT.key_primaries(f"k{i}")[0] != "n1")


@dataclass
class View:
    """A fixed ``Topology``: every node a member, ``up`` reachable."""

    up: set[str] = field(default_factory=lambda: set(NODES))
    membership: Membership = MEMBERSHIP
    placement: Placement = PLACEMENT

    def up_nodes(self, now_ms: float) -> frozenset[str]:
        return frozenset(self.up)


@dataclass
class Harness:
    reaper: Reaper
    data: ReplicaData
    view: View
    busy: set[str]


def make(name: str = "n1") -> Harness:
    data = ReplicaData(MemoryStore(), DVV, MEMBERSHIP.ring.partition_of, name)
    data.load(0)
    ctx = NodeContext(name, 1, "", CONFIG, random.Random(1), data)
    view, busy = View(), set[str]()
    return Harness(Reaper(ctx, view, busy.__contains__), data, view, busy)


def tombstone(data: ReplicaData, key: str, at_ms: float = 0) -> bytes:
    """Write ``key`` then delete it at ``at_ms``; the tombstone's digest."""
    value = DVV.update(Siblings.EMPTY, DVV.context(Siblings.EMPTY), "v", "n1", 0)[0]
    deleted = DVV.update(value, DVV.context(value), None, "n1", 0)[0]
    data.put(key, deleted, None, at_ms)
    digest = data.digest(key)
    assert digest is not None
    return digest


def queries(effects: list[object]) -> dict[str, ReapQuery]:
    out = {}
    for effect in effects:
        assert isinstance(effect, Send) and isinstance(effect.msg, ReapQuery)
        out[effect.dst] = effect.msg
    return out


def vote_all(h: Harness, query: ReapQuery, ok: bool = True, held: bool = True) -> list[object]:
    effects: list[object] = []
    for voter in ("n2", "n3", "n4"):
        keys = [key for key, _ in query.items]
        vote = ReapVote(query.req, voter, keys if ok else [], keys if held else [])
        effects += h.reaper.on_vote(vote, 2 * GRACE_MS)
    return effects


def test_a_tombstone_every_node_agrees_to_is_reaped_everywhere() -> None:
    h = make()
    digest = tombstone(h.data, KEY)
    sent = queries(h.reaper.on_timer(2 * GRACE_MS))
    assert sorted(sent) == ["n2", "n3", "n4"]  # every other known node votes
    assert sent["n2"].items == [[KEY, digest.hex()]]
    effects = vote_all(h, sent["n2"])
    assert [e.dst for e in effects if isinstance(e, Send)] == ["n2", "n3", "n4"]
    assert all(isinstance(e, Send) and isinstance(e.msg, Reap) for e in effects)
    assert h.data.digest(KEY) is None and h.reaper.reaped == 1


def test_one_no_keeps_the_tombstone() -> None:
    h = make()
    tombstone(h.data, KEY)
    query = queries(h.reaper.on_timer(2 * GRACE_MS))["n2"]
    effects = h.reaper.on_vote(ReapVote(query.req, "n2", [KEY], [KEY]), 2 * GRACE_MS)
    effects += h.reaper.on_vote(ReapVote(query.req, "n3", [], [KEY]), 2 * GRACE_MS)
    effects += h.reaper.on_vote(ReapVote(query.req, "n4", [KEY], [KEY]), 2 * GRACE_MS)
    assert effects == [] and h.data.digest(KEY) is not None


def test_a_missing_vote_keeps_the_tombstone_and_the_round_is_tried_again() -> None:
    h = make()
    tombstone(h.data, KEY)
    query = queries(h.reaper.on_timer(2 * GRACE_MS))["n2"]
    for voter in ("n2", "n3"):  # n4 never answers
        assert h.reaper.on_vote(ReapVote(query.req, voter, [KEY], [KEY]), 2 * GRACE_MS) == []
    assert h.data.digest(KEY) is not None
    assert h.reaper.on_timer(2 * GRACE_MS + 10) == []  # the round is still open
    again = queries(h.reaper.on_timer(2 * GRACE_MS + ROUND_TIMEOUT_MS))["n2"]
    assert again.req != query.req
    # A late vote of the abandoned round counts for nothing.
    assert h.reaper.on_vote(ReapVote(query.req, "n4", [KEY], [KEY]), 2 * GRACE_MS) == []
    assert h.data.digest(KEY) is not None


def test_no_round_while_a_node_is_unreachable_the_grace_runs_or_the_key_is_handed_off() -> None:
    h = make()
    tombstone(h.data, KEY, at_ms=0)
    assert h.reaper.on_timer(GRACE_MS - 1) == []  # held too briefly
    h.view.up.discard("n3")
    assert h.reaper.on_timer(2 * GRACE_MS) == []  # a voter cannot be asked
    h.view.up.add("n3")
    h.busy.add(KEY)
    assert h.reaper.on_timer(2 * GRACE_MS) == []  # a copy is in a handoff batch in flight
    h.busy.clear()
    assert queries(h.reaper.on_timer(2 * GRACE_MS))


def test_only_the_first_primary_proposes() -> None:
    h = make()
    tombstone(h.data, OTHER)
    assert h.reaper.on_timer(2 * GRACE_MS) == []


def test_a_primary_that_does_not_hold_the_tombstone_keeps_it() -> None:
    h = make()
    tombstone(h.data, KEY)
    query = queries(h.reaper.on_timer(2 * GRACE_MS))["n2"]
    assert vote_all(h, query, ok=True, held=False) == []  # they agree, but hold nothing
    assert h.data.digest(KEY) is not None


def test_a_tombstone_written_over_during_the_round_is_kept() -> None:
    h = make()
    tombstone(h.data, KEY)
    query = queries(h.reaper.on_timer(2 * GRACE_MS))["n2"]
    state = h.data.get(KEY)
    h.data.put(KEY, DVV.update(state, DVV.context(state), "back", "n1", 0)[0], None, 0)
    assert vote_all(h, query) == []
    assert h.data.get(KEY).values == ["back"]


def test_a_voter_says_yes_only_for_the_same_tombstone_held_long_enough() -> None:
    voter = make("n2")
    digest = tombstone(voter.data, KEY, at_ms=0)
    other = tombstone(voter.data, OTHER, at_ms=0)
    young = tombstone(voter.data, "young", at_ms=GRACE_MS)
    items = [
        [KEY, digest.hex()],
        [OTHER, "00" * 16],
        ["absent", other.hex()],
        ["young", young.hex()],
    ]
    [effect] = voter.reaper.on_query(ReapQuery(7, "n1", items), 1.5 * GRACE_MS)
    assert isinstance(effect, Send) and effect.dst == "n1"
    vote = effect.msg
    assert isinstance(vote, ReapVote) and vote.req == 7
    assert sorted(vote.ok) == sorted([KEY, "absent"])  # not another state, not too young
    assert sorted(vote.held) == sorted([KEY, "young"])


def test_a_reap_from_the_proposer_deletes_only_equal_copies() -> None:
    voter = make("n2")
    digest = tombstone(voter.data, KEY)
    tombstone(voter.data, OTHER)
    reap = Reap("n1", [[KEY, digest.hex()], [OTHER, "00" * 16]])
    assert voter.reaper.on_reap(reap, 0) == []
    assert voter.data.digest(KEY) is None and voter.data.digest(OTHER) is not None
    assert voter.reaper.reaped == 1


VOTERS = ["n2", "n3", "n4"]
KEYS = ["a", "b", "c"]


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            v: st.tuples(st.sets(st.sampled_from(KEYS)), st.sets(st.sampled_from(KEYS)))
            for v in VOTERS
        }
    ),
    st.fixed_dictionaries(
        {
            k: st.lists(st.sampled_from(["n1", *VOTERS]), min_size=1, max_size=3, unique=True)
            for k in KEYS
        }
    ),
)
def test_a_round_reaps_a_key_iff_every_voter_agreed_and_every_other_primary_holds_it(
    votes: dict[str, tuple[set[str], set[str]]], primaries: dict[str, list[str]]
) -> None:
    round_ = Round(1, {k: k.encode() for k in KEYS}, set(VOTERS), 0)
    for voter, (ok, held) in votes.items():
        round_.vote(voter, ok, held)
    round_.vote("n9", set(KEYS), set(KEYS))  # not asked: not counted
    assert round_.complete
    expected = {
        k: k.encode()
        for k in KEYS
        if all(k in votes[v][0] for v in VOTERS)
        and all(p == "n1" or k in votes[p][1] for p in primaries[k])
    }
    assert round_.decide("n1", primaries.__getitem__) == expected
