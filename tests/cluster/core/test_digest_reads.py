"""Digest reads: a replica whose state matches the coordinator's answers "same" instead of
sending it back, and gets stay correct whether the replicas agree or not."""

from __future__ import annotations

from cluster.core.codec import decode, encode
from cluster.core.config import ClusterConfig
from cluster.core.effects import Send
from cluster.core.messages import NO_STATE, ReplicaGet, ReplicaGetReply
from cluster.core.replica import decode_state
from cluster.sim.simulator import Simulator

NODES = ("n1", "n2", "n3", "n4", "n5")


def settled_sim() -> Simulator:
    sim = Simulator(ClusterConfig(nodes=NODES, anti_entropy_interval_ms=0), seed=3)
    sim.run_for(1000)
    return sim


def ask(sim: Simulator, replica: str, request: ReplicaGet) -> ReplicaGetReply:
    """What ``replica`` answers ``request`` (through the real codec both ways)."""
    effects = sim.nodes[replica].on_message(None, decode(encode(request)), sim.now_ms)
    [send] = [e for e in effects if isinstance(e, Send)]
    reply = decode(encode(send.msg))
    assert isinstance(reply, ReplicaGetReply)
    return reply


def test_a_replica_holding_the_coordinators_state_answers_same() -> None:
    sim = settled_sim()
    key = "cart"
    first, second, _ = sim.nodes["n1"].ring.primaries(key, 3)
    assert sim.put(key, ["apple"], node=first).ok
    sim.run_for(100)
    digest = sim.nodes[first].data.digest(key)
    assert digest is not None
    reply = ask(sim, second, ReplicaGet(1, first, key, None, digest.hex()))
    assert reply.same and reply.state == NO_STATE


def test_a_replica_holding_something_else_sends_its_state() -> None:
    sim = settled_sim()
    key = "cart"
    first, second, _ = sim.nodes["n1"].ring.primaries(key, 3)
    assert sim.put(key, ["apple"], node=first).ok
    sim.run_for(100)
    reply = ask(sim, second, ReplicaGet(1, first, key, None, "00" * 16))
    assert not reply.same
    assert decode_state(reply.state) == sim.nodes[second].data.get(key)
    # Without a digest (a coordinator that holds nothing), the state comes back too.
    plain = ask(sim, second, ReplicaGet(2, first, key))
    assert not plain.same and decode_state(plain.state).values == [["apple"]]


def test_gets_are_right_when_the_replicas_agree_and_when_they_do_not() -> None:
    sim = settled_sim()
    key = "k"
    owners = sim.nodes["n1"].ring.primaries(key, 3)
    assert sim.put(key, "v1", node=owners[0]).ok
    sim.run_for(100)
    got = sim.get(key, node=owners[0], r=3)  # every replica answers "same"
    assert got.ok and got.values == ["v1"] and sorted(got.replicas) == sorted(owners)
    sim.crash(owners[2])
    assert sim.put(key, "v2", node=owners[1], context=got.context).ok
    sim.restart(owners[2])
    sim.run_for(2000)
    # The coordinator now holds what the restarted replica does not: its state comes back,
    # is merged, and the newer value wins.
    stale_coordinator = owners[2]
    assert sim.replica_values(key)[stale_coordinator] == (["v1"], False)
    got = sim.get(key, node=stale_coordinator, r=3)
    assert got.ok and got.values == ["v2"]
    sim.run_for(100)
    assert sim.replica_values(key)[stale_coordinator] == (["v2"], False)  # read repair
