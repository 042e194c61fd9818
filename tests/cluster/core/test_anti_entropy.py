"""Anti-entropy: two replicas exchange Merkle trees and repair exactly the keys that differ; a
replica that missed writes converges with no client reads at all."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core import anti_entropy
from cluster.core.config import ClusterConfig
from cluster.core.messages import AaeKeys, AaeNodes, AaeSync
from cluster.core.replica import ReplicaData
from cluster.core.ring import Ring
from cluster.core.versions import Context, Siblings, versioning
from cluster.sim.simulator import Simulator
from cluster.storage import MemoryStore

DVV = versioning("dvv")
RING = Ring.build(["a", "b"], 8)
ALL = frozenset(range(RING.partitions))
NODES = ("n1", "n2", "n3", "n4", "n5")


def replica(name: str) -> ReplicaData:
    data = ReplicaData(MemoryStore(), DVV, RING.partition_of, name)
    data.load(0)
    return data


def write(data: ReplicaData, key: str, value: Any, actor: str) -> None:
    state, _ = DVV.update(data.get(key), Context.EMPTY, value, actor, 0)
    data.put(key, state, None, 0)


def exchange(a: ReplicaData, b: ReplicaData) -> tuple[int, int]:
    """Run one exchange from ``a`` to ``b`` to its end; (messages, states shipped)."""
    first = anti_entropy.open_exchange(a, "a", ALL)
    assert first is not None
    inbox: list[tuple[ReplicaData, str, Any]] = [(b, "b", first)]
    messages = states = 0
    while inbox:
        node, name, msg = inbox.pop(0)
        messages += 1
        other = a if node is b else b
        other_name = "a" if name == "b" else "b"
        answers: list[Any]
        if isinstance(msg, AaeNodes):
            answers = [anti_entropy.on_nodes(node, name, ALL, msg)]
        elif isinstance(msg, AaeKeys):
            answers = list(anti_entropy.on_keys(node, name, ALL, msg))
        else:
            assert isinstance(msg, AaeSync)
            states += len(msg.states)
            answers = [anti_entropy.on_sync(node, name, ALL, msg, 0)]
        inbox += [(other, other_name, answer) for answer in answers if answer is not None]
    return messages, states


def holdings(data: ReplicaData) -> dict[str, Any]:
    return dict(data.store.items())


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(0, 200), max_size=60),
    st.sets(st.integers(0, 200), max_size=60),
    st.sets(st.integers(0, 200), max_size=30),
)
def test_an_exchange_repairs_exactly_the_keys_that_differ(
    only_a: set[int], only_b: set[int], both: set[int]
) -> None:
    only_a, only_b = only_a - both, only_b - both
    a, b = replica("a"), replica("b")
    for i in both:
        write(a, f"k{i}", i, "x")
        b.put(f"k{i}", a.get(f"k{i}"), None, 0)
    for i in only_a:
        write(a, f"k{i}", f"a{i}", "a")
    for i in only_b:
        write(b, f"k{i}", f"b{i}", "b")
    differing = only_a | only_b
    messages, shipped = exchange(a, b)
    assert holdings(a) == holdings(b)
    assert a.forest.root(0) == b.forest.root(0)
    for i in only_a & only_b:  # written on both sides concurrently: both values survive
        assert sorted(a.get(f"k{i}").values) == sorted([f"a{i}", f"b{i}"])
    # Only the differing keys travel: each side's state of each, once there and once back.
    assert shipped <= 2 * len(differing)
    if not differing:
        assert messages == 1  # in sync: the roots alone


def test_a_replica_cut_off_from_writes_catches_up_with_no_client_reads() -> None:
    """n3 keeps talking (so nobody suspects it and no hints are written) but hears nothing."""
    config = ClusterConfig(nodes=NODES, anti_entropy_interval_ms=1000)
    sim = Simulator(config, seed=5)
    sim.run_for(1000)
    sim.cut |= {(n, "n3") for n in NODES if n != "n3"}
    keys = [f"k{i}" for i in range(200)]
    for key in keys:
        coordinator = next(p for p in sim.ring().primaries(key, 3) if p != "n3")
        assert sim.put(key, key.upper(), node=coordinator).ok
    missed = [k for k in keys if "n3" in sim.ring().primaries(k, 3)]
    assert missed and all(sim.stores["n3"].get(k) is None for k in missed)
    assert all(not list(store.hints()) for store in sim.stores.values())
    sim.heal()
    assert sim.run_until_converged(10_000, check_every_ms=250)
    assert all(sim.replica_values(k)["n3"] == ([k.upper()], False) for k in missed)


def test_without_anti_entropy_the_cut_off_replica_stays_behind() -> None:
    config = ClusterConfig(nodes=NODES, anti_entropy_interval_ms=0)
    sim = Simulator(config, seed=5)
    sim.run_for(1000)
    sim.cut |= {(n, "n3") for n in NODES if n != "n3"}
    key = next(f"k{i}" for i in range(50) if "n3" in sim.ring().primaries(f"k{i}", 3))
    coordinator = next(p for p in sim.ring().primaries(key, 3) if p != "n3")
    assert sim.put(key, "v", node=coordinator).ok
    sim.heal()
    sim.run_for(10_000)
    assert sim.replica_values(key)["n3"] == ([], False)


def test_in_sync_replicas_exchange_only_roots() -> None:
    config = ClusterConfig(nodes=NODES, anti_entropy_interval_ms=1000)
    sim = Simulator(config, seed=6)
    sim.run_for(1000)
    for i in range(100):
        sim.put(f"k{i}", i, node=NODES[i % 5])
    assert sim.run_until_converged(10_000)
    sent: list[str] = []
    original = sim._transmit

    def spy(src: str, dst: str, msg: Any) -> None:
        sent.append(type(msg).__name__)
        original(src, dst, msg)

    sim._transmit = spy  # type: ignore[method-assign]
    sim.run_for(5000)
    assert sent.count("AaeNodes") >= 5 * 4  # every node opened exchanges with every peer
    assert "AaeKeys" not in sent and "AaeSync" not in sent


def test_the_merkle_trees_are_rebuilt_from_the_store_on_restart() -> None:
    config = ClusterConfig(nodes=NODES)
    sim = Simulator(config, seed=7)
    sim.run_for(1000)
    for i in range(50):
        sim.put(f"k{i}", i, node="n1")
    before = sim.admin("n2", "merkle")
    sim.crash("n2")
    sim.restart("n2")
    after = sim.admin("n2", "merkle")
    assert after["roots"] == before["roots"] and after["keys"] == before["keys"] > 0


def test_exchanges_tolerate_garbage_from_a_peer() -> None:
    config = ClusterConfig(nodes=NODES)
    sim = Simulator(config, seed=8)
    sim.run_for(500)
    node = sim.nodes["n1"]
    effects = node.on_message(None, AaeNodes("n2", 0, [["not", "a", "node"]]), sim.now_ms)
    assert [e.text for e in effects if hasattr(e, "text")] == [
        "dropped AaeNodes from n2: aae-nodes: bad node ['not', 'a', 'node']:"
        " expected [partition, index, hash]"
    ]
    bad_state = AaeSync("n2", [["k", "not a state"]])
    assert "dropped AaeSync" in node.on_message(None, bad_state, sim.now_ms)[0].text  # type: ignore[union-attr]
    assert node.data.get("k") == Siblings.EMPTY  # nothing half-written
