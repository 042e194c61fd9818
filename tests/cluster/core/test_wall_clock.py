"""A node's wall clock under clock faults: skew set or bumped, and drift (a clock that runs
fast or slow), through the admin op ``clock`` that both environments use."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluster.core import ClusterConfig
from cluster.core.context import WallClock
from cluster.sim import Simulator


def test_a_drifting_clock_gains_in_proportion_to_the_time_that_passes() -> None:
    clock = WallClock()
    clock.set_drift(50_000, now_ms=1_000)  # 5 % fast
    assert clock.wall_ms(1_000) == 1_000
    assert clock.wall_ms(11_000) == 11_000 + 500
    clock.set_drift(0, now_ms=11_000)  # stops drifting: what it gained stays
    assert clock.skew_ms == 500 and clock.wall_ms(21_000) == 21_500


@given(st.integers(-200_000, 200_000), st.integers(0, 10**7), st.integers(0, 10**7))
def test_drift_folds_into_skew_without_a_jump(ppm: int, start: int, elapsed: int) -> None:
    clock = WallClock()
    clock.set_drift(ppm, start)
    before = clock.wall_ms(start + elapsed)
    clock.set_drift(-ppm, start + elapsed)  # a new rate from now on: no jump at the change
    assert abs(clock.wall_ms(start + elapsed) - before) <= 1


def test_the_admin_clock_op_drifts_and_puts_right_a_simulated_node() -> None:
    sim = Simulator(ClusterConfig(nodes=("n1", "n2", "n3")), seed=1)
    drifting = sim.admin("n2", "clock", drift_ppm=-100_000)  # 10 % slow
    assert drifting["clock_drift_ppm"] == -100_000
    sim.run_for(10_000)
    behind = sim.admin("n2", "clock")["wall_ms"] - sim.admin("n1", "clock")["wall_ms"]
    assert -1_010 <= behind <= -990
    right = sim.admin("n2", "clock", offset_ms=0, drift_ppm=0)
    assert right["clock_skew_ms"] == 0 and right["clock_drift_ppm"] == 0
    assert abs(right["wall_ms"] - sim.admin("n1", "clock")["wall_ms"]) <= 1
