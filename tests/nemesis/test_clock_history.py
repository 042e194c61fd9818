"""Each node's clock offset over a run, rebuilt from the history (``nemesis.clock_history``): the
plot must show what the nodes' clocks did. The clock nemesis drives nodes whose clocks are the
node core's own ``WallClock`` (through the core's ``admin clock`` op) on a virtual clock, the
ops are recorded as the runner records them, and the rebuilt series must agree with the clocks
at every moment — for any sequence of bumps, strobes, scrambles, drifts, resets and kills."""

from __future__ import annotations

import copy
import itertools
import random
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.admin import clock as admin_clock
from cluster.core.context import WallClock
from nemesis.base import FaultOp
from nemesis.clock import ClockNemesis
from nemesis.clock_history import clock_offsets, had_clock_faults, natural_key
from nemesis.options import NemesisOptions

NODES = ("n1", "n2", "n3", "n4", "n5")


@dataclass
class VirtualClock:
    """Seconds that move only when the nemesis waits."""

    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.t += max(0.0, seconds)
        return event.is_set()


@dataclass
class Cluster:
    """Nodes whose clocks are the core's ``WallClock``; what each clock was, from when."""

    clock: VirtualClock
    walls: dict[str, WallClock] = field(default_factory=lambda: {n: WallClock() for n in NODES})
    down: set[str] = field(default_factory=set)
    # (time s, node, the clock's state from then on, or None while the node is down)
    states: list[tuple[float, str, WallClock | None]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for node in NODES:
            self.states.append((0.0, node, WallClock()))

    def admin(self, node: str, op: str, **args: Any) -> dict[str, Any]:
        assert op == "clock" and node not in self.down
        reply, _ = admin_clock(
            SimpleNamespace(clock=self.walls[node]), args, self.clock.now() * 1000
        )  # type: ignore[arg-type]
        self.states.append((self.clock.now(), node, copy.copy(self.walls[node])))
        return reply

    def live(self) -> list[str]:
        return [n for n in NODES if n not in self.down]

    def record(self, f: str, type_: str, value: Any) -> None:
        line = {"time": round(self.clock.now() * 1e9), "process": "nemesis", "type": type_}
        self.history.append({**line, "f": f, "value": value})

    def kill(self, node: str) -> None:
        self.record("start-kill", "invoke", {"targets": [node]})
        self.down.add(node)
        self.states.append((self.clock.now(), node, None))
        self.record("start-kill", "info", {"nodes": [node]})

    def restart(self) -> None:
        self.record("stop-kill", "invoke", {})
        back = sorted(self.down)
        for node in back:  # a new process: its clock is right
            self.walls[node] = WallClock()
            self.states.append((self.clock.now(), node, WallClock()))
        self.down.clear()
        self.record("stop-kill", "info", {"nodes": back})

    def expected(self, node: str, time_s: float) -> float | None:
        """The offset ``node``'s clock had at ``time_s`` (None: down)."""
        state: WallClock | None = None
        for at, who, wall in self.states:
            if who == node and at <= time_s:
                state = wall
        if state is None:
            return None
        now_ms = time_s * 1000
        return state.skew_ms + state.drift_ppm * (now_ms - state.drift_since_ms) / 1e6


OPTIONS = NemesisOptions(
    clock_max_skew_ms=3000,
    clock_max_drift_ppm=200_000,
    strobe_period_ms=100,
    strobe_duration_ms=450,
)

step = st.one_of(
    st.tuples(
        st.just("clock"),
        st.sampled_from(("bump", "strobe", "scramble", "drift")),
        st.sampled_from(("one", "minority", "all")),
    ),
    st.tuples(st.just("stop-clock")),
    st.tuples(st.just("kill"), st.sampled_from(NODES)),
    st.tuples(st.just("restart")),
    st.tuples(st.just("wait"), st.floats(0.05, 3.0)),
)


def run(steps: list[tuple[Any, ...]], seed: int) -> Cluster:
    clock = VirtualClock()
    cluster = Cluster(clock)
    nemesis = ClockNemesis(cluster.admin, NODES, cluster.live, random.Random(seed), OPTIONS, clock)
    for action, *args in steps:
        clock.t += 0.25  # time passes between nemesis ops
        if action == "clock":
            op = FaultOp("start-clock", {"mode": args[0], "targets": args[1]})
        elif action == "stop-clock":
            op = FaultOp("stop-clock")
        elif action == "kill":
            if args[0] not in cluster.down and len(cluster.down) < 3:
                cluster.kill(args[0])
            continue
        elif action == "restart":
            cluster.restart()
            continue
        else:
            clock.t += args[0]
            continue
        cluster.record(op.f, "invoke", op.value)
        cluster.record(op.f, "info", nemesis.invoke(op))
    clock.t += 1.0
    cluster.record("stop-all", "invoke", None)
    nemesis.heal()
    cluster.record("stop-all", "info", {"healed": True})
    clock.t += 0.5
    cluster.history.append(
        {"time": round(clock.t * 1e9), "process": 0, "type": "invoke", "f": "read"}
    )
    return cluster


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=14), st.integers(0, 2**16))
def test_the_series_is_what_each_clock_did_at_every_moment(
    steps: list[tuple[Any, ...]], seed: int
) -> None:
    cluster = run([("clock", "bump", "one"), *steps], seed)
    series = {one.node: one for one in clock_offsets(cluster.history, NODES)}
    assert list(series) == list(NODES)  # one series per node, in order
    times = sorted({at for at, _, _ in cluster.states} | {cluster.clock.t})
    # Between two changes (not at one: a step has two values at its instant).
    probes = [(a + b) / 2 for a, b in itertools.pairwise(times) if b - a > 1e-6]
    for node, one in series.items():
        for time_s in probes:
            want = cluster.expected(node, time_s)
            got = one.offset_at(time_s)
            if want is None:
                assert got is None, (node, time_s, got)
            else:
                assert got is not None and abs(got - want) < 0.01, (node, time_s, got, want)


def test_a_bump_is_a_step_and_a_reset_steps_back() -> None:
    cluster = run([("clock", "bump", "one"), ("wait", 2.0), ("stop-clock",)], seed=3)
    bumped = [one for one in clock_offsets(cluster.history) if any(v for _, v in one.points)]
    assert len(bumped) == 1
    (one,) = bumped
    (segment,) = one.segments
    steps = [(a, b) for a, b in itertools.pairwise(segment) if a[0] == b[0]]
    assert len(steps) == 2  # up (or down) at the bump, back to zero at the reset
    assert steps[0][0][1] == 0 and steps[1][1][1] == 0 and steps[0][1][1] == steps[1][0][1]


def test_a_drifting_clock_is_a_slope_of_its_rate() -> None:
    history = [
        _nemesis(1.0, "start-clock", "invoke", {"mode": "drift", "targets": "one"}),
        _nemesis(
            1.0,
            "start-clock",
            "info",
            {"mode": "drift", "drifts_ppm": {"n2": 50_000}, "offsets": {"n2": 0.0}},
        ),
        _nemesis(5.0, "stop-clock", "info", {"offsets": {"n2": 0.0}}),
        _nemesis(6.0, "stop-all", "info", {"healed": True}),
    ]
    (n1, n2) = clock_offsets(history, ["n1", "n2"])
    assert n1.offset_at(3.0) == 0
    assert n2.offset_at(3.0) == 100.0  # 5 % fast for 2 s
    assert n2.offset_at(4.99) is not None and abs(n2.offset_at(4.99) - 199.5) < 0.01  # type: ignore[operator]
    assert n2.offset_at(5.5) == 0


def test_a_strobe_recorded_before_base_offsets_is_drawn_from_its_flips() -> None:
    value = {"mode": "strobe", "nodes": ["n1"], "delta_ms": 400, "period_ms": 100, "flips": 3}
    history = [
        _nemesis(2.0, "start-clock", "invoke", {"mode": "strobe"}),
        _nemesis(2.3, "start-clock", "info", {**value, "offsets": {"n1": 400.0}}),
    ]
    (n1,) = clock_offsets(history)
    assert [n1.offset_at(t) for t in (1.0, 2.05, 2.15, 2.25, 2.3)] == [0, 400, 0, 400, 400]


def test_a_killed_node_has_a_gap_and_comes_back_unskewed() -> None:
    cluster = run(
        [("clock", "scramble", "all"), ("kill", "n3"), ("wait", 1.0), ("restart",)], seed=1
    )
    n3 = next(one for one in clock_offsets(cluster.history) if one.node == "n3")
    assert len(n3.segments) == 2
    down_at, back_at = n3.segments[0][-1][0], n3.segments[1][0][0]
    assert n3.offset_at((down_at + back_at) / 2) is None
    assert n3.segments[1][0][1] == 0


def test_no_clock_fault_no_series() -> None:
    history = [
        _nemesis(1.0, "start-kill", "info", {"nodes": ["n1"]}),
        _nemesis(2.0, "stop-kill", "info", {"nodes": ["n1"]}),
        _nemesis(3.0, "start-clock", "info", {"mode": "bump"}, error="NemesisError: no"),
    ]
    assert not had_clock_faults(history)
    assert clock_offsets(history, NODES) == []


def test_nodes_in_natural_order() -> None:
    assert sorted(["n10", "n2", "n1"], key=natural_key) == ["n1", "n2", "n10"]


def _nemesis(t_s: float, f: str, type_: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {
        "time": round(t_s * 1e9),
        "process": "nemesis",
        "type": type_,
        "f": f,
        "value": value,
        **extra,
    }
