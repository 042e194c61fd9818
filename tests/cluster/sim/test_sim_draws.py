"""The simulator's random draws: per node and per link, a function of when a message is sent.
A run with one client operation fewer keeps the timing of the others (what lets shrinking
remove operations without re-rolling the network), and the draws are the same in every
process, whatever its hash seed (what keeps ``--jobs`` sweeps identical to serial ones)."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core import ClientPut, ClusterConfig
from cluster.sim import NetworkConfig, Simulator
from cluster.sim.draws import LinkDraws, unit

NODES = ("n1", "n2", "n3", "n4", "n5")


def reply_times(seed: int, with_other: bool) -> list[float | None]:
    """When each of three writes to key "b" is answered, with or without an unrelated write
    to key "a" between them. Commits take no time here: a commit that does is contention
    between the writes that share a node (a write arriving mid-commit waits for it), as on a
    real node, and not what this measures."""
    sim = Simulator(ClusterConfig(nodes=NODES), seed=seed, commit_ms=(0.0, 0.0))
    sim.run_for(1000)
    tickets = []
    for i in range(3):
        if with_other and i == 1:
            sim.submit("n2", ClientPut(0, "a", "other"))
            sim.run_for(7)
        else:
            sim.run_for(7)
        tickets.append(sim.submit("n1", ClientPut(0, "b", i)))
        sim.run_for(40)
    sim.run_for(500)
    return [ticket.replied_ms for ticket in tickets]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_one_write_fewer_leaves_the_timing_of_the_others_as_it_was(seed: int) -> None:
    with_other = reply_times(seed, with_other=True)
    assert all(t is not None for t in with_other)
    assert reply_times(seed, with_other=False) == with_other


def test_a_seed_gives_the_same_delays_in_every_process_whatever_its_hash_seed() -> None:
    code = (
        "from cluster.sim.draws import LinkDraws\n"
        "d = LinkDraws(7, 'n1', 'n2')\n"
        "print([(d.message(t), d.draw(d.loss)) for t in (1000.0, 1000.0, 1234.5678)])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1


@given(x=st.integers())
def test_a_draw_is_a_fraction_of_one(x: int) -> None:
    assert 0.0 <= unit(x) < 1.0


def test_messages_sent_at_one_instant_on_one_link_draw_differently() -> None:
    draws = LinkDraws(3, "n1", "n2")
    first = draws.message(50.0), draws.draw(draws.loss), draws.draw(draws.delay, 1)
    second = draws.message(50.0), draws.draw(draws.loss), draws.draw(draws.delay, 1)
    assert len({*first, *second}) == 6
    assert draws.message(60.0) != draws.message(61.0)
    # The draws of a message at an instant do not depend on what the link sent before.
    fresh = LinkDraws(3, "n1", "n2")
    assert fresh.message(70.0) == draws.message(70.0)
    assert fresh.draw(fresh.jitter) == draws.draw(draws.jitter)


def test_delays_stay_within_the_network_bounds_and_spread_over_them() -> None:
    sim = Simulator(
        ClusterConfig(nodes=NODES), seed=5, network=NetworkConfig(min_delay_ms=2, max_delay_ms=4)
    )
    sim.run_for(1000)
    delays = []
    for _ in range(200):
        ticket = sim.submit("n1", ClientPut(0, "k", 1))
        sim.wait(ticket)
        assert ticket.replied_ms is not None
        delays.append(ticket.replied_ms - ticket.sent_ms)
    # A put is answered after one round trip to another replica (W=2), perhaps after a hop
    # to the key's coordinator and back: two to four messages of 2 to 4 ms each.
    assert all(4.0 <= d <= 16.0 for d in delays)
    assert max(delays) - min(delays) > 2.0
