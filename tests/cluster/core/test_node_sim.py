"""The node protocol in the deterministic simulator: quorums, siblings, forwarding, failures."""

from __future__ import annotations

import pytest

from cluster.core.config import ClusterConfig
from cluster.core.coordinator import DEADLINE_TICK_MS
from cluster.core.messages import AdminRequest, ClientPut
from cluster.sim.simulator import NetworkConfig, Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")


def make_sim(seed: int = 1, versioning: str = "dvv", **overrides: object) -> Simulator:
    nodes = overrides.pop("nodes", NODES)
    network = overrides.pop("network", None)
    config = ClusterConfig(nodes=tuple(nodes), versioning=versioning, **overrides)  # type: ignore[arg-type]
    sim = Simulator(config, seed=seed, network=network)  # type: ignore[arg-type]
    sim.run_for(1000)  # let heartbeats establish the failure detectors' view
    return sim


def primaries(sim: Simulator, key: str) -> list[str]:
    return sim.nodes["n1"].ring.primaries(key, sim.config.n)


def outsider(sim: Simulator, key: str) -> str:
    return next(n for n in sim.config.nodes if n not in primaries(sim, key))


def test_put_then_get_returns_the_value_from_any_coordinator() -> None:
    sim = make_sim()
    put = sim.put("cart", ["apple"], node="n1")
    assert put.ok, put.error
    for node in NODES:
        got = sim.get("cart", node=node)
        assert got.ok and got.found
        assert got.values == [["apple"]]


def test_a_node_outside_the_preference_list_forwards_to_a_primary() -> None:
    sim = make_sim()
    key = "forwarded"
    entry = outsider(sim, key)
    put = sim.put(key, "v", node=entry)
    assert put.ok
    assert put.coordinator in primaries(sim, key)
    assert put.coordinator != entry
    got = sim.get(key, node=entry)
    assert got.coordinator in primaries(sim, key)
    assert got.values == ["v"]


def test_the_reply_names_the_replicas_that_answered() -> None:
    sim = make_sim()
    key = "k"
    put = sim.put(key, 1, node=primaries(sim, key)[0])
    assert len(put.replicas) >= 2
    assert set(put.replicas) <= set(primaries(sim, key))
    assert put.fallbacks == []
    got = sim.get(key, node=primaries(sim, key)[0], r=3)
    assert sorted(got.replicas) == sorted(primaries(sim, key))


def test_a_put_with_the_context_of_a_get_supersedes_what_was_read() -> None:
    sim = make_sim()
    sim.put("k", "old", node="n1")
    got = sim.get("k", node="n2")
    sim.put("k", "new", node="n3", context=got.context)
    assert sim.get("k", node="n4", r=3).values == ["new"]


@pytest.mark.parametrize(("versioning", "survivors"), [("dvv", 2), ("vclock", 1), ("lww", 1)])
def test_concurrent_read_modify_writes_through_one_coordinator(
    versioning: str, survivors: int
) -> None:
    """Two clients read the same version and both write back through the same coordinator.

    Dotted version vectors keep both writes as siblings; the paper's per-node vector clocks
    give both writes the same clock and silently lose one — the anomaly the harness must catch.
    """
    sim = make_sim(versioning=versioning)
    key = "cart"
    coordinator = primaries(sim, key)[0]
    sim.put(key, ["base"], node=coordinator)
    seen = sim.get(key, node=coordinator)
    first = sim.put(key, ["base", "a"], node=coordinator, context=seen.context)
    second = sim.put(key, ["base", "b"], node=coordinator, context=seen.context)
    assert first.ok and second.ok  # both were acknowledged...
    final = sim.get(key, node=coordinator, r=3)
    assert len(final.values) == survivors  # ...but only dvv keeps both
    if survivors == 2:
        assert sorted(final.values) == [["base", "a"], ["base", "b"]]


def test_delete_writes_a_tombstone_that_hides_the_value() -> None:
    sim = make_sim()
    sim.put("k", "v", node="n1")
    got = sim.get("k", node="n1")
    deleted = sim.put("k", None, node="n2", context=got.context)
    assert deleted.ok
    after = sim.get("k", node="n3", r=3)
    assert after.ok and not after.found and after.values == []
    assert all(tomb for _, tomb in sim.replica_values("k").values())


def test_quorums_succeed_with_one_primary_crashed_and_the_node_keeps_its_data() -> None:
    sim = make_sim()
    key = "durable"
    owners = primaries(sim, key)
    assert sim.put(key, "before", node=owners[0]).ok
    sim.run_for(50)
    sim.crash(owners[2])
    assert sim.put(key, "during", node=owners[0], context=sim.get(key, node=owners[0]).context).ok
    assert sim.get(key, node=owners[1]).values == ["during"]
    sim.restart(owners[2])
    sim.run_for(1000)
    assert sim.replica_values(key)[owners[2]] == (["before"], False)
    assert sim.admin(owners[2], "ping")["generation"] == 2


def test_get_repairs_a_stale_replica() -> None:
    # Anti-entropy off: the stale replica must be repaired by the read alone.
    sim = make_sim(anti_entropy_interval_ms=0)
    key = "repair"
    owners = primaries(sim, key)
    sim.put(key, "v1", node=owners[0])
    sim.run_for(50)
    sim.crash(owners[2])
    sim.put(key, "v2", node=owners[0], context=sim.get(key, node=owners[0]).context)
    sim.restart(owners[2])
    sim.run_for(2000)  # the others see it up again
    assert sim.replica_values(key)[owners[2]] == (["v1"], False)
    assert sim.get(key, node=owners[0], r=3).values == ["v2"]
    sim.run_for(100)
    assert sim.replica_values(key)[owners[2]] == (["v2"], False)


def test_too_few_reachable_replicas_fails_definitely_before_writing() -> None:
    sim = make_sim(nodes=("n1", "n2", "n3"))
    sim.crash("n2")
    sim.crash("n3")
    sim.run_for(5000)  # long enough for n1's failure detector to suspect both
    put = sim.put("k", "v", node="n1")
    assert not put.ok and put.definite
    assert "unavailable" in put.error
    assert sim.replica_values("k")["n1"] == ([], False)  # nothing was written


def test_strict_primaries_refuse_fallbacks_definitely() -> None:
    sim = make_sim()
    key = "strict"
    owners = primaries(sim, key)
    sim.crash(owners[1])
    sim.run_for(5000)
    sloppy = sim.put(key, "v", node=owners[0], w=3)
    assert sloppy.ok and len(sloppy.fallbacks) == 1  # a fallback stood in
    strict = sim.put(key, "v", node=owners[0], pw=3, w=3)
    assert not strict.ok and strict.definite


def test_a_coordinator_cut_off_after_sending_times_out_indefinitely() -> None:
    sim = make_sim()
    key = "cut"
    owners = primaries(sim, key)
    others = [n for n in NODES if n != owners[0]]
    sim.partition([[owners[0]], others])  # the detector has not noticed yet
    ticket = sim.submit(owners[0], ClientPut(1, key, "v", timeout_ms=500))
    sim.run_until(sim.now_ms + 5000, stop=lambda: ticket.done)
    put = ticket.reply
    assert not put.ok
    assert not put.definite  # the coordinator wrote its own copy: the outcome is unknown
    assert "timeout" in put.error
    # On time: deadlines expire on a coarse grid, never more than one tick late.
    assert ticket.replied_ms is not None
    waited_ms = ticket.replied_ms - ticket.sent_ms
    assert 500 <= waited_ms <= 500 + DEADLINE_TICK_MS + 5  # + the simulated network's delay


def test_unknown_admin_op_names_the_accepted_ones() -> None:
    sim = make_sim()
    ticket = sim.submit("n1", AdminRequest(1, "bogus"))
    reply = sim.wait(ticket)
    assert not reply.ok and "ping" in reply.error


def test_the_admin_entry_point_answers_what_an_admin_request_does() -> None:
    sim = make_sim()
    assert sim.put("k", "v", node="n1").ok
    node = sim.nodes["n1"]
    direct, effects = node.admin("status", {}, sim.now_ms)
    assert effects == []
    assert direct["node"] == "n1" and direct["keys"] == sim.admin("n1", "status")["keys"]
    with pytest.raises(KeyError, match="accepted: clock"):
        node.admin("bogus", {}, sim.now_ms)
    skewed, _ = node.admin("clock", {"bump_ms": 250.0}, sim.now_ms)
    assert skewed["clock_skew_ms"] == 250.0 and node.wall_ms(sim.now_ms) == skewed["wall_ms"]


def test_the_same_seed_replays_the_same_run() -> None:
    def run(seed: int) -> tuple[object, ...]:
        net = NetworkConfig(min_delay_ms=0.1, max_delay_ms=20, drop_rate=0.05, duplicate_rate=0.05)
        sim = make_sim(seed=seed, network=net)
        trace: list[object] = []
        for i in range(30):
            node = NODES[i % 5]
            reply = sim.put(f"k{i % 4}", i, node=node, timeout_ms=300)
            trace.append((reply.ok, reply.coordinator, tuple(reply.replicas), sim.now_ms))
        return (tuple(trace), sim.delivered, sim.dropped)

    assert run(7) == run(7)
    assert run(7) != run(8)


@pytest.mark.parametrize("seed", range(5))
def test_strict_quorum_reads_see_every_acknowledged_write_despite_loss(seed: int) -> None:
    """R + W > N: a read that succeeds with R=3 after W=2 acks must contain the write."""
    net = NetworkConfig(min_delay_ms=0.1, max_delay_ms=30, drop_rate=0.1, duplicate_rate=0.1)
    sim = make_sim(seed=seed, network=net)
    acked: dict[str, list[int]] = {}
    for i in range(40):
        key = f"k{i % 3}"
        got = sim.get(key, node=NODES[i % 5], r=2, timeout_ms=300)
        if not got.ok:
            continue
        put = sim.put(key, i, node=NODES[(i + 1) % 5], context=got.context, timeout_ms=300)
        if put.ok:
            acked.setdefault(key, []).append(i)
        check = sim.get(key, node=NODES[(i + 2) % 5], r=3, timeout_ms=300)
        if put.ok and check.ok:
            assert i in check.values or any(isinstance(v, int) and v > i for v in check.values), (
                i,
                check.values,
            )


def test_a_cut_off_node_sees_its_peers_up_again_as_soon_as_they_speak() -> None:
    sim = make_sim()
    others = [n for n in NODES if n != "n1"]
    sim.partition([["n1"], others])
    sim.run_for(3000)
    now = sim.now_ms
    assert sim.nodes["n1"].up_nodes(now) == {"n1"}
    assert sim.nodes["n1"].up_nodes(now + 60_000) == {"n1"}  # silence keeps them down
    sim.heal()
    sim.run_for(2 * sim.config.heartbeat_interval_ms)  # a heartbeat from every peer
    assert sim.nodes["n1"].up_nodes(sim.now_ms) == set(NODES)
