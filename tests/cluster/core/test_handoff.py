"""Sloppy quorum and hinted handoff: writes land on fallbacks with a hint, the hint reaches its
owner once it is back and only then is deleted; strict quorums (PR/PW) refuse fallbacks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cluster.core.config import ClusterConfig
from cluster.core.handoff import HINT, TRANSFER, Handoffs
from cluster.sim.simulator import Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")


def make_sim(seed: int = 1, **overrides: object) -> Simulator:
    """A cluster without anti-entropy unless asked: what repairs a replica here is handoff."""
    settings: dict[str, object] = {"anti_entropy_interval_ms": 0, **overrides}
    config = ClusterConfig(nodes=NODES, **settings)  # type: ignore[arg-type]
    sim = Simulator(config, seed=seed)
    sim.run_for(1000)
    return sim


def walk(sim: Simulator, key: str) -> list[str]:
    """The key's primaries, then the nodes that stand in for them, in order."""
    ring = sim.ring()
    return ring.walk(ring.partition_of(key))


def hints_held(sim: Simulator, node: str) -> dict[str, int]:
    status: dict[str, int] = sim.admin(node, "status")["hints"]
    return status


# --------------------------------------------------------------------------- bookkeeping


def test_a_batch_completes_only_when_every_target_acknowledged() -> None:
    handoffs = Handoffs()
    handoffs.start(7, TRANSFER, None, {"a": b"1", "b": b"2"}, ["n2", "n3"], now_ms=0)
    assert handoffs.key_busy("a") and handoffs.busy(TRANSFER, None, "b")
    assert handoffs.ack(7, "n2", ok=True) is None
    assert handoffs.ack(7, "n9", ok=True) is None  # not a target
    done = handoffs.ack(7, "n3", ok=True)
    assert done is not None and not done.failed and done.digests == {"a": b"1", "b": b"2"}
    assert not handoffs.key_busy("a") and not handoffs.batches


def test_a_refused_or_silent_batch_fails_and_frees_its_keys() -> None:
    handoffs = Handoffs()
    handoffs.start(1, HINT, "n2", {"a": b"1"}, ["n2"], now_ms=0)
    refused = handoffs.ack(1, "n2", ok=False)
    assert refused is not None and refused.failed and not handoffs.key_busy("a")
    handoffs.start(2, HINT, "n2", {"a": b"1"}, ["n2"], now_ms=0)
    assert not handoffs.has_room("n2") or handoffs.in_flight("n2") == 1
    assert handoffs.expire(now_ms=100) == []
    expired = handoffs.expire(now_ms=10_000)
    assert [b.req for b in expired] == [2] and expired[0].failed
    assert not handoffs.key_busy("a")


def test_a_batch_needs_a_target() -> None:
    with pytest.raises(ValueError, match="at least one target"):
        Handoffs().start(1, HINT, "n2", {"a": b"1"}, [], now_ms=0)


# --------------------------------------------------------------------------- in the simulator


def test_a_write_with_a_primary_down_goes_to_a_fallback_and_is_handed_back() -> None:
    sim = make_sim()
    key = "cart"
    primaries, fallback = walk(sim, key)[:3], walk(sim, key)[3]
    sim.crash(primaries[2])
    sim.run_for(2000)
    put = sim.put(key, ["apple"], node=primaries[0], w=3)
    assert put.ok and put.fallbacks == [fallback]
    assert hints_held(sim, fallback) == {primaries[2]: 1}
    assert sim.replica_values(key)[primaries[2]] == ([], False)  # the owner missed it
    sim.restart(primaries[2])
    sim.run_for(3000)
    assert sim.replica_values(key)[primaries[2]] == ([["apple"]], False)
    assert hints_held(sim, fallback) == {}  # delivered, then deleted
    assert sim.divergence() == []


def test_hints_survive_a_crash_of_the_fallback_that_holds_them() -> None:
    sim = make_sim()
    key = "durable"
    primaries, fallback = walk(sim, key)[:3], walk(sim, key)[3]
    sim.crash(primaries[1])
    sim.run_for(2000)
    assert sim.put(key, "v", node=primaries[0], w=3).fallbacks == [fallback]
    sim.crash(fallback)
    sim.restart(fallback)
    assert hints_held(sim, fallback) == {primaries[1]: 1}
    sim.restart(primaries[1])
    sim.run_for(3000)
    assert sim.replica_values(key)[primaries[1]] == (["v"], False)
    assert hints_held(sim, fallback) == {}


def test_a_get_sent_to_fallbacks_reads_the_hints_they_hold() -> None:
    """Which down primary a fallback stands in for changes with the up-set: the hint a
    fallback took for one owner must be found when it is asked on behalf of another."""
    sim = make_sim()
    key = "hinted"
    order = walk(sim, key)
    p1, p2, p3, f1, f2 = order
    sim.crash(p2)
    sim.crash(p3)
    sim.run_for(2000)
    put = sim.put(key, "kept by fallbacks", node=p1, w=3)
    assert put.ok and sorted(put.fallbacks) == sorted([f1, f2])
    sim.crash(p1)  # now f1 stands in for p1 and f2 for p2, yet they hold hints for p2 and p3
    sim.run_for(2000)
    got = sim.get(key, node=f1, r=2)
    assert got.ok and got.values == ["kept by fallbacks"]
    assert sorted(got.fallbacks) == sorted([f1, f2])


def test_strict_quorums_refuse_fallbacks_per_cluster_and_per_request() -> None:
    sim = make_sim(pw=2, pr=2)
    key = "strict"
    primaries = walk(sim, key)[:3]
    sim.crash(primaries[1])
    sim.crash(primaries[2])
    sim.run_for(2000)
    put = sim.put(key, "v", node=primaries[0])  # w=2 could be met with a fallback; pw=2 not
    assert not put.ok and put.definite and "pw=2" in put.error
    sloppy = sim.put(key, "v", node=primaries[0], pw=0)  # the per-request override
    assert sloppy.ok and sloppy.fallbacks
    assert not sim.get(key, node=primaries[0]).ok  # pr=2: one primary is not enough
    assert sim.get(key, node=primaries[0], pr=1).values == ["v"]


def test_hints_for_a_node_that_left_go_to_the_new_primaries() -> None:
    sim = make_sim(seed=2)
    key = next(f"k{i}" for i in range(100) if walk(sim, f"k{i}")[2] == "n5")
    primaries, fallback = walk(sim, key)[:3], walk(sim, key)[3]
    sim.crash("n5")
    sim.run_for(2000)
    assert sim.put(key, "v", node=primaries[0], w=3).fallbacks == [fallback]
    sim.leave("n5", via="n1")  # n5 is down for good: the others take its partitions
    assert sim.run_until_converged(30_000, check_every_ms=250) is False  # n5 is still down
    sim.run_for(5000)
    new_primaries = sim.ring().primaries(key, 3)
    assert "n5" not in new_primaries
    for node in new_primaries:
        assert sim.stores[node].get(key) is not None, node
    assert all(not hints_held(sim, n) for n in NODES if n != "n5")


def test_fallback_writes_after_a_handoff_do_not_reuse_event_names() -> None:
    """A fallback coordinates a blind write, hands it off and deletes the hint; later it
    coordinates another blind write of the same key. The two are concurrent and both must
    survive as siblings — numbering the second event from the (now empty) hint table with
    the same actor would make the two share one dot and silently drop one."""
    sim = make_sim(anti_entropy_interval_ms=1000)  # the primary no fallback stood for
    key = "reused"
    order = walk(sim, key)
    primaries, fallback = order[:3], order[3]

    def write_through_fallback(value: str) -> None:
        for p in primaries:
            sim.crash(p)
        sim.run_for(2000)
        put = sim.put(key, value, node=fallback, w=2)
        assert put.ok and put.coordinator == fallback, put
        for p in primaries:
            sim.restart(p)
        assert sim.run_until_converged(20_000)
        assert hints_held(sim, fallback) == {}

    write_through_fallback("first")
    write_through_fallback("second")
    assert sorted(sim.get(key, node=primaries[0], r=3).values) == ["first", "second"]


def test_with_hinted_handoff_off_a_down_primary_is_left_out_and_no_hint_is_kept() -> None:
    sim = make_sim(hinted_handoff=False)
    key = "cart"
    primaries, fallback = walk(sim, key)[:3], walk(sim, key)[3]
    sim.crash(primaries[2])
    sim.run_for(2000)
    put = sim.put(key, ["apple"], node=primaries[0], w=2)
    assert put.ok and put.fallbacks == []
    assert hints_held(sim, fallback) == {}
    assert w3_refused(sim, key, primaries[0])  # two primaries up: W=3 cannot be met
    sim.restart(primaries[2])
    sim.run_for(5000)
    # Nothing hands the write back: the owner still misses it (read repair or anti-entropy
    # would be what repairs it).
    assert sim.replica_values(key)[primaries[2]] == ([], False)


def w3_refused(sim: Simulator, key: str, node: str) -> bool:
    return not sim.put(key, ["pear"], node=node, w=3).ok


# --------------------------------------------------------------------------- leaving


def _left_within(sim: Simulator, node: str, limit_ms: float) -> bool:
    deadline = sim.now_ms + limit_ms
    while sim.now_ms < deadline:
        sim.run_for(250)
        if sim.admin(node, "status")["status"] == "left":
            return True
    return False


@pytest.mark.parametrize(
    "stop, start",
    [(Simulator.crash, Simulator.restart), (Simulator.pause, Simulator.resume)],
    ids=["killed", "paused"],
)
def test_a_node_leaves_while_a_new_primary_of_its_data_is_down(
    stop: Callable[[Simulator, str], None], start: Callable[[Simulator, str], None]
) -> None:
    """A leaving node hands what it holds for a down primary to a stand-in, so the leave ends
    while the primary stays down (a kill or pause that outlasts the leave no longer blocks
    it); the stand-in hands the data on once the primary is back, and no write is lost."""
    sim = make_sim(seed=3)
    keys = [f"k{i}" for i in range(40)]
    for key in keys:
        assert sim.put(key, key, node="n1", w=3).ok
    leaver, down = "n4", "n2"
    stop(sim, down)
    sim.run_for(2000)
    sim.leave(leaver)
    assert _left_within(sim, leaver, 20_000), sim.admin(leaver, "merkle")
    assert sim.admin(leaver, "merkle")["keys"] == 0  # all handed off before it left
    start(sim, down)
    sim.crash(leaver)  # gone: what it held must now be elsewhere
    assert sim.run_until_converged(30_000), sim.divergence()
    for key in keys:
        assert all(v == ([key], False) for v in sim.replica_values(key).values()), key


def test_a_leaving_node_hands_hints_for_a_down_owner_to_stand_ins() -> None:
    sim = make_sim(seed=2)
    key = next(f"k{i}" for i in range(100) if walk(sim, f"k{i}")[2] == "n5")
    primaries, fallback = walk(sim, key)[:3], walk(sim, key)[3]
    sim.crash("n5")
    sim.run_for(2000)
    assert sim.put(key, "v", node=primaries[0], w=3).fallbacks == [fallback]
    assert hints_held(sim, fallback) == {"n5": 1}
    sim.leave(fallback)  # it holds a hint for n5, which stays down
    assert _left_within(sim, fallback, 20_000), hints_held(sim, fallback)
    assert hints_held(sim, fallback) == {}
    sim.crash(fallback)
    sim.restart("n5")
    assert sim.run_until_converged(30_000), sim.divergence()
    assert all(v == (["v"], False) for v in sim.replica_values(key).values())
