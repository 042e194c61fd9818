"""Membership by gossip: merging views converges whatever the order, restarts and ring
changes win, the claimant applies joins and leaves; and in the simulator, a restarted node is
recognised and gossip spreads a new ring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.config import ClusterConfig
from cluster.core.membership import Member, Membership
from cluster.sim.simulator import Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")
Q = 16


def base() -> Membership:
    return Membership.initial(NODES, Q)


@st.composite
def views(draw: st.DrawFn) -> Membership:
    """A view some node might hold: heartbeats, restarts, a join or a leave, a newer ring."""
    m = base()
    for name in draw(st.lists(st.sampled_from([*NODES, "n6", "n7"]), max_size=8)):
        m = m.heartbeat(name, draw(st.integers(1, 3)))
    if draw(st.booleans()):
        m = m.leave(draw(st.sampled_from(NODES)))
    if draw(st.booleans()):
        changed = m.claim(min(NODES), up=set(NODES) | {"n6", "n7"})
        if changed is not None:
            m = changed
    return m


@settings(max_examples=150, deadline=None)
@given(views(), views(), views())
def test_merge_is_commutative_associative_and_idempotent(
    a: Membership, b: Membership, c: Membership
) -> None:
    assert a.merge(b).to_json() == b.merge(a).to_json()
    assert a.merge(b).merge(c).to_json() == a.merge(b.merge(c)).to_json()
    assert a.merge(a).to_json() == a.to_json()


@settings(max_examples=150, deadline=None)
@given(views(), views())
def test_merge_only_learns_never_forgets(a: Membership, b: Membership) -> None:
    """A merged view knows every node either side knew, at its highest generation, with
    the newer ring, and every leave and departure either side saw."""
    merged = a.merge(b)
    for name in a.members.keys() | b.members.keys():
        sides = [m.members[name] for m in (a, b) if name in m.members]
        assert merged.members[name] == max(sides)
    assert merged.ring_version == max(a.ring_version, b.ring_version)
    assert a.leaving | b.leaving <= merged.leaving | merged.left
    assert merged.merge(a).to_json() == merged.to_json()  # hearing an older view again: no-op


@settings(max_examples=100, deadline=None)
@given(views())
def test_the_wire_form_merges_like_the_value(view: Membership) -> None:
    again = Membership.from_json(view.to_json())
    assert again.to_json() == view.to_json()
    assert base().merge(again).to_json() == base().merge(view).to_json()


def test_a_higher_generation_wins_even_with_a_lower_version() -> None:
    old = base().heartbeat("n2", 1)
    for _ in range(10):
        old = old.heartbeat("n2", 1)
    restarted = base().heartbeat("n2", 2)
    merged = old.merge(restarted)
    assert merged.members["n2"].generation == 2
    assert merged.members["n2"].version == 1
    assert old.members["n2"] == Member(1, 11)


def test_the_newer_ring_wins_and_equal_versions_pick_the_same_ring_everywhere() -> None:
    m = base().heartbeat("n6", 1).heartbeat("n7", 1)
    up = set(NODES) | {"n6", "n7"}
    newer = m.claim("n1", up)
    assert newer is not None and newer.ring_version == 2
    assert "n6" in newer.ring.owners and "n7" in newer.ring.owners
    assert m.merge(newer).ring == newer.ring == newer.merge(m).ring
    # Two claimants on either side of a partition make different rings of the same version.
    only6 = base().heartbeat("n6", 1).claim("n1", up)
    only7 = base().heartbeat("n7", 1).claim("n1", up)
    assert only6 is not None and only7 is not None and only6.ring != only7.ring
    assert only6.merge(only7).ring == only7.merge(only6).ring
    # The change that lost is made again by the claimant once it knows of both nodes.
    merged = only6.merge(only7)
    again = merged.claim("n1", up)
    assert again is not None and {"n6", "n7"} <= set(again.ring.owners)


def test_only_the_claimant_changes_the_ring_and_only_for_nodes_it_sees_up() -> None:
    m = base().heartbeat("n6", 1)
    assert m.joining == ["n6"]
    assert m.claim("n2", set(NODES) | {"n6"}) is None  # n1 is up: n1 decides
    assert m.claim("n1", set(NODES)) is None  # n6 not seen up yet: wait
    assert m.claim("n2", {"n2", "n3", "n6"}) is not None  # n1 down: n2 takes over


def test_leave_moves_the_node_out_of_the_ring_then_it_is_forgotten() -> None:
    m = base().leave("n3")
    assert m.status("n3") == "leaving" and "n3" in m.peers("n1")
    after = m.claim("n1", set(NODES))
    assert after is not None and "n3" not in after.ring.owners
    assert after.status("n3") == "leaving"
    gone = after.mark_left("n3")
    assert gone.status("n3") == "left"
    assert "n3" not in gone.peers("n1")
    assert after.claim("n1", set(NODES)) is None  # nothing more to do


def test_a_restart_does_not_cancel_a_leave_but_a_node_started_after_leaving_rejoins() -> None:
    asked = base().heartbeat("n3", 1).leave("n3")
    m = asked.claim("n1", set(NODES))
    assert m is not None and "n3" not in m.ring.owners
    restarted = m.heartbeat("n3", 2)  # crashed and came back while handing off
    assert restarted.status("n3") == "leaving"
    done = restarted.mark_left("n3")
    assert done.status("n3") == "left"
    again = done.heartbeat("n3", 3)  # started again after it left
    assert again.status("n3") == "joining"
    assert again.joining == ["n3"] and "n3" in again.peers("n1")
    assert done.merge(again).status("n3") == "joining"  # whatever the order views meet in
    assert again.merge(done).status("n3") == "joining"


def test_leave_refuses_unknown_nodes_and_emptying_the_ring() -> None:
    with pytest.raises(ValueError, match="not in the ring"):
        base().leave("n9")
    single = Membership.initial(["solo"], Q)
    with pytest.raises(ValueError, match="no node would be left"):
        single.leave("solo")


def test_a_forced_removal_at_a_stale_generation_is_undone_by_a_peer_then_asked_again() -> None:
    """The remover missed n2's restart: its removal (at generation 1) loses to a peer's entry
    (generation 2) on merge, and n2 comes back as a joiner, out of the ring. Removing it again
    from the merged view makes it stick, whichever way the views meet afterwards."""
    up = set(NODES) - {"n2"}
    peer = base().heartbeat("n2", 2)
    removed = base().heartbeat("n2", 1).remove("n2")
    assert removed.status("n2") == "left"
    claimed = removed.claim("n1", up)
    assert claimed is not None and "n2" not in claimed.ring.owners
    merged = claimed.merge(peer)
    assert merged.status("n2") == "joining" and "n2" in merged.peers("n1")
    with pytest.raises(ValueError, match="not in the ring"):
        merged.leave("n2")  # a leave with handoff needs the node in the ring ...
    again = merged.remove("n2")  # ... a forced removal does not
    assert again.status("n2") == "left" and again.departures["n2"] == 2
    assert again.merge(peer).status("n2") == "left" == peer.merge(again).status("n2")
    assert again.remove("n2") is again  # already gone: nothing to do


def test_a_forced_removal_refuses_unknown_nodes_and_emptying_the_ring() -> None:
    with pytest.raises(ValueError, match="not a member"):
        base().remove("n9")
    with pytest.raises(ValueError, match="no node would be left"):
        Membership.initial(["solo"], Q).remove("solo")


@settings(max_examples=150, deadline=None)
@given(views(), views(), st.sampled_from(NODES))
def test_a_forced_removal_is_never_undone_by_a_view_it_has_merged(
    a: Membership, b: Membership, node: str
) -> None:
    """Whatever two nodes knew, a removal asked of a view that merged both is left after
    merging either again (in either order), after the claimant applies it, and asked again
    it changes nothing."""
    merged = a.merge(b)
    removed = merged.remove(node)
    assert removed.status(node) == "left" and node not in removed.peers("n1")
    for older in (a, b, merged):
        assert removed.merge(older).status(node) == "left"
        assert older.merge(removed).status(node) == "left"
    claimed = removed.claim(min(set(removed.ring.nodes) - removed.leaving), set(NODES))
    after = claimed or removed
    assert node not in after.ring.owners and after.status(node) == "left"
    assert after.merge(a).merge(b).status(node) == "left"
    assert removed.remove(node) is removed


def test_the_json_form_round_trips_and_bad_input_is_named() -> None:
    m = base().heartbeat("n6", 2, "tcp://127.0.0.1:9").leave("n2")
    assert Membership.from_json(m.to_json()).to_json() == m.to_json()
    with pytest.raises(ValueError, match="ring_version"):
        Membership.from_json({**m.to_json(), "ring_version": -1})
    with pytest.raises(ValueError, match="member 'n1'"):
        Membership.from_json({**m.to_json(), "members": {"n1": "bogus"}})
    with pytest.raises(ValueError, match="missing"):
        Membership.from_json({"ring": []})


def test_rings_of_different_clusters_do_not_merge() -> None:
    with pytest.raises(ValueError, match="partitions"):
        base().merge(Membership.initial(NODES, Q * 2))


# --------------------------------------------------------------------------- in the simulator


def make_sim(**overrides: object) -> Simulator:
    config = ClusterConfig(nodes=NODES, **overrides)  # type: ignore[arg-type]
    sim = Simulator(config, seed=3)
    sim.run_for(3000)
    return sim


def test_gossip_carries_every_nodes_heartbeat_version() -> None:
    sim = make_sim()
    before = sim.admin("n1", "status")["peers"]
    sim.run_for(5000)
    after = sim.admin("n1", "status")["peers"]
    for peer in ("n2", "n3", "n4", "n5"):
        assert after[peer]["version"] > before[peer]["version"]
        assert after[peer]["up"] and after[peer]["status"] == "member"


def test_a_restarted_node_is_recognised_by_every_peer() -> None:
    sim = make_sim()
    sim.crash("n3")
    sim.run_for(2000)
    assert "n3" not in sim.admin("n1", "status")["up"]
    sim.restart("n3")
    sim.run_for(2000)
    for peer in ("n1", "n2", "n4", "n5"):
        status = sim.admin(peer, "status")
        assert status["peers"]["n3"]["generation"] == 2
        assert status["peers"]["n3"]["up"]
        assert any("n3 restarted (generation 1 -> 2)" in e for e in status["events"])


def test_a_partition_makes_the_two_sides_suspect_each_other_despite_gossip() -> None:
    """n1 and n2 cannot talk; both still talk to n3, whose gossip says they are alive. The
    sloppy quorum needs reachability, so each must still see the other as down."""
    sim = make_sim()
    sim.cut |= {("n1", "n2"), ("n2", "n1")}
    sim.run_for(3000)
    n1 = sim.admin("n1", "status")
    assert "n2" not in n1["up"] and "n3" in n1["up"]
    assert n1["peers"]["n2"]["phi"] > sim.config.phi_threshold
    assert "n1" not in sim.admin("n2", "status")["up"]
    # ... while gossip through the others keeps n2's heartbeat version moving at n1.
    version = n1["peers"]["n2"]["version"]
    sim.run_for(5000)
    assert sim.admin("n1", "status")["peers"]["n2"]["version"] > version


def test_a_ring_change_reaches_every_node_and_survives_a_restart() -> None:
    sim = make_sim()
    sim.join("n6")
    sim.run_for(5000)
    versions = {n: sim.admin(n, "ring")["version"] for n in sim.names}
    assert set(versions.values()) == {2}
    assert "n6" in sim.admin("n4", "ring")["owners"]
    sim.crash("n4")
    sim.restart("n4")
    assert sim.admin("n4", "ring")["version"] == 2  # read back from its store


def test_a_forced_removal_undone_by_a_restart_the_remover_missed_sticks_when_asked_again() -> None:
    """n1, cut off, misses n2's restart (generation 2); n2 then dies for good and is removed
    through n1, which records the departure at generation 1. Once the partition heals, n3's
    entry for n2 is newer than the departure: n2 is back on every node (a member, or a joiner
    out of the ring, by the timing of the ring's gossip; the joiner case, which the old
    ``leave`` refused as "not in the ring", is the unit test of a forced removal at a stale
    generation above). Asking again through n1, which now knows generation 2, removes it for
    good."""
    sim = make_sim()
    others = [n for n in NODES if n != "n1"]
    sim.partition([["n1"], others])
    sim.crash("n2")
    sim.restart("n2")
    sim.run_for(3000)
    sim.crash("n2")
    sim.leave("n2", via="n1", force=True)
    assert sim.admin("n1", "status")["peers"]["n2"]["status"] == "left"
    sim.run_for(2000)  # n1, the claimant on its side, takes n2 out of the ring
    assert "n2" not in sim.admin("n1", "ring")["owners"]
    sim.heal()
    sim.run_for(5000)
    live = [n for n in NODES if n != "n2"]
    seen = {n: sim.admin(n, "status")["peers"]["n2"] for n in live}
    assert {v["status"] for v in seen.values()} <= {"joining", "member"}, seen
    assert {v["generation"] for v in seen.values()} == {2}

    sim.leave("n2", via="n1", force=True)  # was refused: "n2 is not in the ring"
    sim.run_for(5000)
    assert {sim.admin(n, "status")["peers"]["n2"]["status"] for n in live} == {"left"}
    assert all("n2" not in sim.admin(n, "ring")["owners"] for n in live)
