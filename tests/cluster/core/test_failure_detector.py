"""The phi-accrual failure detector: a silent peer is suspected after the usual time, every time,
and the cheap availability check agrees with phi."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from cluster.core.failure_detector import DEFAULT_THRESHOLD, PhiAccrual

HEARTBEAT_MS = 200.0


def beat(detector: PhiAccrual, start_ms: float, count: int) -> float:
    """``count`` heartbeats at the regular interval after ``start_ms``; returns the last time."""
    now = start_ms
    for _ in range(count):
        now += HEARTBEAT_MS
        detector.heartbeat(now)
    return now


def time_to_suspicion(detector: PhiAccrual, silent_from_ms: float) -> float:
    """How long after ``silent_from_ms`` (the last arrival) the peer becomes suspected."""
    step = 10.0
    elapsed = 0.0
    while detector.is_available(silent_from_ms + elapsed):
        elapsed += step
        assert elapsed < 120_000, "never suspected"
    return elapsed


def test_a_silent_peer_is_suspected_within_a_few_heartbeat_intervals() -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    detector.start(0.0)
    last = beat(detector, 0.0, 50)
    assert detector.is_available(last + HEARTBEAT_MS)
    assert time_to_suspicion(detector, last) < 10 * HEARTBEAT_MS


def test_a_peer_that_never_speaks_is_suspected_after_the_usual_silence() -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    detector.start(1000.0)
    assert detector.is_available(1000.0 + HEARTBEAT_MS)
    assert not detector.is_available(1000.0 + 10 * HEARTBEAT_MS)


def test_a_second_silence_is_noticed_as_quickly_as_the_first() -> None:
    """A peer silent for 10 s (a partition), then heartbeating normally for a while, then
    silent again is suspected again within the usual time — the first silence must not count
    as a normal gap between heartbeats."""
    fresh = PhiAccrual(HEARTBEAT_MS)
    fresh.start(0.0)
    usual = time_to_suspicion(fresh, beat(fresh, 0.0, 50))

    detector = PhiAccrual(HEARTBEAT_MS)
    detector.start(0.0)
    last = beat(detector, 0.0, 50)
    last += 10_000.0  # the first partition: 10 s without a word
    detector.heartbeat(last)
    last = beat(detector, last, 10)  # healed: a couple of seconds of normal heartbeats
    assert detector.is_available(last + HEARTBEAT_MS)
    assert time_to_suspicion(detector, last) <= usual + HEARTBEAT_MS


def test_repeated_partitions_are_each_noticed_quickly() -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    detector.start(0.0)
    last = beat(detector, 0.0, 20)
    times = []
    for _ in range(4):
        times.append(time_to_suspicion(detector, last))
        last += 8_000.0
        detector.heartbeat(last)
        last = beat(detector, last, 5)
    assert max(times) <= min(times) + HEARTBEAT_MS, times


def test_a_restarted_arrival_stream_is_available_again_at_once() -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    detector.start(0.0)
    last = beat(detector, 0.0, 10)
    assert not detector.is_available(last + 5_000.0)
    detector.heartbeat(last + 5_000.0)
    assert detector.is_available(last + 5_000.0 + 1.0)


arrival_gaps = st.lists(
    st.floats(min_value=0.0, max_value=3_000.0, allow_nan=False), min_size=0, max_size=150
)


@given(
    gaps=arrival_gaps,
    silence_ms=st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False),
    threshold=st.sampled_from([1.0, 3.0, DEFAULT_THRESHOLD, 12.0, 16.0]),
)
def test_is_available_agrees_with_phi(
    gaps: list[float], silence_ms: float, threshold: float
) -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    now = 0.0
    detector.start(now)
    for gap in gaps:
        now += gap
        detector.heartbeat(now)
    query = now + silence_ms
    phi = detector.phi(query)
    # The two computations round differently; only insist away from the exact boundary.
    if math.isinf(phi) or abs(phi - threshold) > 1e-6 * max(1.0, threshold):
        assert detector.is_available(query, threshold) == (phi < threshold)


def test_a_detector_never_started_suspects_nobody() -> None:
    detector = PhiAccrual(HEARTBEAT_MS)
    assert detector.phi(1e9) == 0.0
    assert detector.is_available(1e9)
