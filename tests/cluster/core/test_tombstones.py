"""Deletes: tombstones carry the causal context, are reaped only once every replica holds them
and the grace period passed, and neither anti-entropy nor hinted handoff brings a deleted key
back."""

from __future__ import annotations

from cluster.core import reaper
from cluster.core.config import ClusterConfig
from cluster.sim.simulator import Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")
GRACE_MS = 3000


def make_sim(seed: int = 1) -> Simulator:
    config = ClusterConfig(
        nodes=NODES,
        anti_entropy_interval_ms=1000,
        handoff_interval_ms=500,
        tombstone_grace_ms=GRACE_MS,
    )
    sim = Simulator(config, seed=seed)
    sim.run_for(1000)
    return sim


def walk(sim: Simulator, key: str) -> list[str]:
    ring = sim.ring()
    return ring.walk(ring.partition_of(key))


def copies(sim: Simulator, key: str) -> dict[str, object]:
    """Every copy of ``key`` anywhere: main tables and hints."""
    found: dict[str, object] = {}
    for name, store in sim.stores.items():
        if store.get(key) is not None:
            found[name] = store.get(key)
        for owner, state in store.hints_for(key):
            found[f"{name} (hint for {owner})"] = state
    return found


def delete(sim: Simulator, key: str, node: str) -> None:
    got = sim.get(key, node=node)
    assert got.ok
    assert sim.put(key, None, node=node, context=got.context).ok


def test_a_tombstone_every_replica_holds_is_reaped_after_the_grace_period() -> None:
    sim = make_sim()
    key = "gone"
    assert sim.put(key, "v", node="n1").ok
    delete(sim, key, "n2")
    sim.run_for(GRACE_MS / 2)
    assert all(tomb for _, tomb in sim.replica_values(key).values())  # still tombstones
    sim.run_for(2 * GRACE_MS)
    assert copies(sim, key) == {}
    assert not sim.get(key, node="n3", r=3).found


def test_a_replica_that_was_down_during_the_delete_does_not_bring_the_value_back() -> None:
    sim = make_sim()
    key = "resurrect-me"
    primaries = walk(sim, key)[:3]
    assert sim.put(key, "old", node=primaries[0], w=3).ok
    sim.crash(primaries[2])  # keeps "old"
    sim.run_for(2000)
    delete(sim, key, primaries[0])
    sim.run_for(3 * GRACE_MS)
    # Not reaped: a node is down, and the down primary still holds the old value.
    assert sim.stores[primaries[0]].get(key) is not None
    sim.restart(primaries[2])
    sim.run_for(6 * GRACE_MS)
    assert copies(sim, key) == {}
    assert not sim.get(key, node=primaries[2], r=3).found


def test_a_replica_cut_off_during_the_delete_gets_the_tombstone_before_any_reaping() -> None:
    """The cut-off replica keeps sending (nobody suspects it, no hints are written) but hears
    nothing: it cannot vote, so nothing is reaped until anti-entropy gave it the tombstone."""
    sim = make_sim(seed=2)
    key = "deaf"
    primaries = walk(sim, key)[:3]
    assert sim.put(key, "old", node=primaries[0], w=3).ok
    sim.cut |= {(n, primaries[2]) for n in NODES if n != primaries[2]}
    delete(sim, key, primaries[0])
    sim.run_for(3 * GRACE_MS)
    assert sim.replica_values(key)[primaries[2]] == (["old"], False)
    assert sim.stores[primaries[0]].get(key) is not None  # not reaped meanwhile
    sim.heal()
    sim.run_for(6 * GRACE_MS)
    assert copies(sim, key) == {}
    assert not sim.get(key, node=primaries[1], r=3).found


def test_an_old_hint_on_a_node_that_was_down_never_resurrects_the_key() -> None:
    sim = make_sim(seed=3)
    key = "stale-hint"
    order = walk(sim, key)
    primaries, fallback = order[:3], order[3]
    sim.crash(primaries[2])
    sim.run_for(2000)
    put = sim.put(key, "old", node=primaries[0], w=3)
    assert put.fallbacks == [fallback]  # the fallback holds "old" for primaries[2]
    sim.crash(fallback)
    sim.run_for(2000)
    delete(sim, key, primaries[0])
    sim.restart(primaries[2])
    sim.run_for(3 * GRACE_MS)
    assert sim.replica_values(key)[primaries[2]][1]  # it has the tombstone by now
    assert sim.stores[fallback].get_hint(primaries[2], key) is not None  # and "old" waits
    sim.restart(fallback)  # hands "old" over: the tombstone already supersedes it
    sim.run_for(6 * GRACE_MS)
    assert copies(sim, key) == {}
    assert not sim.get(key, node=fallback, r=3).found


def test_a_hint_that_cannot_reach_its_owner_holds_back_the_reaping() -> None:
    """Every primary has the tombstone, every node is up, but a fallback still holds the old
    value for a primary it cannot reach: reaping now would let that hint resurrect the key."""
    sim = make_sim(seed=4)
    key = "blocked-hint"
    order = walk(sim, key)
    primaries, fallback = order[:3], order[3]
    sim.crash(primaries[2])
    sim.run_for(2000)
    assert sim.put(key, "old", node=primaries[0], w=3).fallbacks == [fallback]
    sim.cut.add((fallback, primaries[2]))  # the fallback's handoff never arrives
    sim.restart(primaries[2])
    sim.run_for(2000)
    delete(sim, key, primaries[0])
    sim.run_for(4 * GRACE_MS)
    assert all(tomb for _, tomb in sim.replica_values(key).values())
    assert sim.stores[fallback].get_hint(primaries[2], key) is not None
    sim.heal()
    sim.run_for(6 * GRACE_MS)
    assert copies(sim, key) == {}
    assert not sim.get(key, node=primaries[2], r=3).found


def test_a_delete_does_not_hide_a_write_it_never_saw() -> None:
    sim = make_sim()
    key = "cart"
    assert sim.put(key, ["a"], node="n1").ok
    seen = sim.get(key, node="n1")
    assert sim.put(key, ["a", "b"], node="n2", context=seen.context).ok  # the deleter missed it
    assert sim.put(key, None, node="n3", context=seen.context).ok
    sim.run_for(4 * GRACE_MS)
    final = sim.get(key, node="n4", r=3)
    assert final.found and final.values == [["a", "b"]]


def test_a_voter_refuses_while_any_copy_differs_or_is_in_flight() -> None:
    tomb, other = b"t" * 32, b"o" * 32
    votes = {
        "holds it long enough": reaper.agrees(tomb, tomb, 0, [], False, 5000, 1000),
        "holds nothing": reaper.agrees(tomb, None, None, [], False, 5000, 1000),
        "holds it too briefly": reaper.agrees(tomb, tomb, 4500, [], False, 5000, 1000),
        "holds another state": reaper.agrees(tomb, other, 0, [], False, 5000, 1000),
        "holds an old hint": reaper.agrees(tomb, None, None, [other], False, 5000, 1000),
        "is handing it off": reaper.agrees(tomb, tomb, 0, [], True, 5000, 1000),
    }
    assert {why for why, ok in votes.items() if ok} == {"holds it long enough", "holds nothing"}


def test_a_round_reaps_only_what_every_voter_agreed_to_and_every_primary_holds() -> None:
    round_ = reaper.Round(1, {"a": b"1", "b": b"2", "c": b"3"}, {"n2", "n3", "n4"}, 0)
    round_.vote("n2", ok=["a", "b", "c"], held=["a", "b", "c"])
    round_.vote("n3", ok=["a", "b", "c"], held=["a", "c"])
    assert not round_.complete
    round_.vote("n4", ok=["a", "b"], held=[])
    assert round_.complete
    primaries = {"a": ["n1", "n2", "n3"], "b": ["n1", "n2", "n3"], "c": ["n1", "n2", "n3"]}
    assert round_.decide("n1", primaries.__getitem__) == {"a": b"1"}


def test_a_node_removed_for_good_no_longer_holds_back_reaping() -> None:
    sim = make_sim(seed=5)
    key = next(f"k{i}" for i in range(100) if "n5" not in walk(sim, f"k{i}")[:3])
    assert sim.put(key, "v", node=walk(sim, key)[0]).ok
    sim.crash("n5")
    delete(sim, key, walk(sim, key)[0])
    sim.run_for(4 * GRACE_MS)
    assert copies(sim, key)  # n5 is down and still a member: nothing is reaped
    sim.leave("n5", via="n1", force=True)
    sim.run_for(6 * GRACE_MS)
    assert copies(sim, key) == {}
    assert "n5" not in sim.ring().owners
