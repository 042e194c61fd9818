"""The phi-accrual failure detector (Hayashibara et al. 2004; Cassandra's and Akka's).

Each node keeps one ``PhiAccrual`` per peer and feeds it the arrival time of every message it
receives from that peer (heartbeats, gossip, replies). ``phi(now)`` says how unlikely it is that
the silence since the last arrival is normal, on a log10 scale: phi 8 means "this long a silence
happens with probability 1e-8 if the peer is alive". A peer is suspected when phi exceeds the
threshold. Inter-arrival times are modelled as a normal distribution over a sliding window,
whose sum and sum of squares are kept as arrivals come and go.

Silences longer than ``max_interval_ms`` (a few heartbeat intervals) are *not* recorded as
samples, as Cassandra does (``MAX_INTERVAL_IN_NANO``): such a gap is a partition, a crash or a
pause — exactly what the detector exists to notice — not the peer's normal rhythm. Recording
it would inflate the window's mean and spread, so the next fault would take far longer to be
suspected (measured before this rule: 0.35 s, then 2.9 s, then 6.6 s for three partitions in a
row), until a hundred normal samples had pushed it out of the window.

A node asks whether every peer is available on every request it coordinates, so that question
costs a comparison: between arrivals phi only grows with time, and it reaches the threshold
exactly when the silence exceeds ``mean + z * std`` (``z`` the standard normal quantile of
``1 - 10^-threshold``), so each detector computes that moment once per arrival
(``suspect_at_ms``). Pure: times are passed in, in milliseconds. No I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

DEFAULT_THRESHOLD = 8.0
# Intervals longer than this many expected intervals are silences, not samples (see above).
MAX_INTERVAL_FACTOR = 5.0
# Above this threshold 10^-threshold underflows; ``is_available`` then asks ``phi`` itself.
MAX_QUANTILE_THRESHOLD = 300.0


@lru_cache(maxsize=16)
def _quantile(threshold: float) -> float:
    """The number of standard deviations past the mean at which phi reaches ``threshold``."""
    return -NormalDist().inv_cdf(10.0**-threshold)


@dataclass
class PhiAccrual:
    """Arrival history of one peer."""

    expected_interval_ms: float  # the heartbeat interval: the prior before any sample
    window: int = 100
    min_std_ms: float = 50.0  # a floor so a very regular peer is not suspected on a small hiccup
    acceptable_pause_ms: float = 0.0  # extra silence tolerated (e.g. GC pauses)
    max_interval_ms: float | None = None  # longer silences are not samples; None: 5 intervals
    last_arrival_ms: float | None = None
    _intervals: deque[float] = field(default_factory=deque)
    _sum: float = 0.0
    _sum_sq: float = 0.0
    # ``(threshold, suspect_at_ms)`` for the current arrival history; None when it changed.
    _suspect_at: tuple[float, float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.max_interval_ms is None:
            self.max_interval_ms = MAX_INTERVAL_FACTOR * self.expected_interval_ms

    def start(self, now_ms: float) -> None:
        """Begin watching: treat ``now_ms`` as a first arrival, so a peer that never speaks
        becomes suspected after the usual silence."""
        if self.last_arrival_ms is None:
            self.last_arrival_ms = now_ms
            self._suspect_at = None

    def heartbeat(self, now_ms: float) -> None:
        last = self.last_arrival_ms
        if last is not None and now_ms <= last:
            return  # a message handled at the same instant (or a clock that went back)
        if last is not None:
            interval = now_ms - last
            assert self.max_interval_ms is not None
            if interval <= self.max_interval_ms:
                intervals = self._intervals
                intervals.append(interval)
                self._sum += interval
                self._sum_sq += interval * interval
                if len(intervals) > self.window:
                    old = intervals.popleft()
                    self._sum -= old
                    self._sum_sq -= old * old
        self.last_arrival_ms = now_ms
        self._suspect_at = None

    def _mean_std(self) -> tuple[float, float]:
        count = len(self._intervals)
        if count:
            mean = self._sum / count
            var = max(0.0, self._sum_sq / count - mean * mean)
        else:
            mean, var = self.expected_interval_ms, 0.0
        # Never trust a mean below the heartbeat interval: bursts of request traffic arrive
        # much faster than heartbeats and would make the detector jumpy when traffic stops.
        mean = max(mean, self.expected_interval_ms)
        return mean, max(math.sqrt(var), self.min_std_ms, mean / 4)

    def phi(self, now_ms: float) -> float:
        if self.last_arrival_ms is None:
            return 0.0
        elapsed = max(0.0, now_ms - self.last_arrival_ms - self.acceptable_pause_ms)
        mean, std = self._mean_std()
        # P(interval > elapsed) under N(mean, std), via the complementary error function.
        p_later = 0.5 * math.erfc((elapsed - mean) / (std * math.sqrt(2)))
        if p_later <= 0.0:
            return math.inf
        return -math.log10(p_later)

    def suspect_at_ms(self, threshold: float = DEFAULT_THRESHOLD) -> float:
        """The moment phi reaches ``threshold`` if nothing arrives before then (``inf`` for a
        detector that was never started: it is never suspected). Computed once per arrival."""
        cached = self._suspect_at
        if cached is not None and cached[0] == threshold:
            return cached[1]
        if self.last_arrival_ms is None:
            at = math.inf
        else:
            mean, std = self._mean_std()
            silence = mean + _quantile(threshold) * std
            # A threshold so low that even no silence at all reaches it: always suspected.
            at = (
                -math.inf
                if silence <= 0
                else self.last_arrival_ms + self.acceptable_pause_ms + silence
            )
        self._suspect_at = (threshold, at)
        return at

    def is_available(self, now_ms: float, threshold: float = DEFAULT_THRESHOLD) -> bool:
        if not 0.0 < threshold <= MAX_QUANTILE_THRESHOLD:
            return self.phi(now_ms) < threshold
        return now_ms < self.suspect_at_ms(threshold)
