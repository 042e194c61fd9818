"""The simulator's faults beyond crashes and symmetric partitions: pause and resume (SIGSTOP
and SIGCONT), one-way cuts, slow links; ``heal_all`` ends every one of them."""

from __future__ import annotations

from cluster.core import ClusterConfig, PutReply
from cluster.sim import Simulator

NODES = ("n1", "n2", "n3")


def make(seed: int = 1) -> Simulator:
    sim = Simulator(ClusterConfig(nodes=NODES), seed=seed)
    sim.run_for(1000)
    return sim


def test_a_paused_node_answers_nothing_until_it_resumes_then_answers_in_order() -> None:
    sim = make()
    sim.pause("n2")
    first = sim.submit("n2", sim_put("a", 1))
    second = sim.submit("n2", sim_put("b", 2))
    sim.run_for(3000)
    assert not first.done and not second.done  # frozen, not dead: nothing answered, nothing lost
    resumed_ms = sim.now_ms
    sim.resume("n2")
    sim.run_for(2000)
    assert isinstance(first.reply, PutReply) and isinstance(second.reply, PutReply)
    assert first.replied_ms is not None and second.replied_ms is not None
    assert resumed_ms <= first.replied_ms <= second.replied_ms
    # Handled before the heartbeats that waited behind them: n2 has heard no peer for 3 s,
    # so it refuses (definitely) rather than write alone — what a real SIGCONT'd node does.
    assert not first.reply.ok and first.reply.definite and "unavailable" in first.reply.error


def test_peers_suspect_a_paused_node_and_see_it_up_again_after_resume() -> None:
    sim = make()
    sim.pause("n3")
    sim.run_for(5000)
    assert "n3" not in sim.admin("n1", "status")["up"]
    sim.resume("n3")
    sim.run_for(5000)
    assert "n3" in sim.admin("n1", "status")["up"]
    assert sim.nodes["n3"].generation == 1  # the same process: no restart


def test_a_one_way_cut_silences_one_direction_only() -> None:
    sim = make()
    sim.cut_links([("n1", "n2")])
    sim.run_for(5000)
    assert "n1" not in sim.admin("n2", "status")["up"]  # n2 no longer hears n1
    assert "n2" in sim.admin("n1", "status")["up"]  # n1 still hears n2


def test_a_slow_link_delays_requests_that_need_it() -> None:
    fast, slow = make(seed=4), make(seed=4)
    slow.slow_links([("n1", "n2"), ("n2", "n1"), ("n1", "n3"), ("n3", "n1")], delay_ms=200)
    took = []
    for sim in (fast, slow):
        ticket = sim.submit("n1", sim_put("k", 1, w=3))
        sim.wait(ticket)
        assert ticket.replied_ms is not None and ticket.reply.ok
        took.append(ticket.replied_ms - ticket.sent_ms)
    assert took[0] < 20 and 400 <= took[1] < 450  # a round trip over two slowed hops


def test_heal_all_ends_every_fault_and_the_cluster_converges() -> None:
    sim = make()
    sim.put("k", 1, node="n1")
    sim.pause("n1")
    sim.cut_links([("n2", "n3")])
    sim.slow_links([("n3", "n2")], delay_ms=50, jitter_ms=50)
    sim.crash("n3")
    sim.run_for(2000)
    assert sim.divergence()
    sim.heal_all()
    assert not sim.paused and not sim.cut and not sim.latency and not sim.down
    assert sim.run_until_converged(30_000)


def sim_put(key: str, value: int, w: int | None = None) -> object:
    from cluster.core import ClientPut

    return ClientPut(0, key, value, w=w)
