"""The phi-accrual failure detector (Hayashibara et al. 2004; Cassandra's and Akka's).

Each node keeps one ``PhiAccrual`` per peer and feeds it the arrival time of every message it
receives from that peer (heartbeats, gossip, replies). ``phi(now)`` says how unlikely it is that
the silence since the last arrival is normal, on a log10 scale: phi 8 means "this long a silence
happens with probability 1e-8 if the peer is alive". A peer is suspected when phi exceeds the
threshold. Inter-arrival times are modelled as a normal distribution over a sliding window,
whose sum and sum of squares are kept as arrivals come and go, so ``phi`` costs O(1): a node
asks for every peer's phi on every request it coordinates.
Pure: times are passed in, in milliseconds. No I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 8.0


@dataclass
class PhiAccrual:
    """Arrival history of one peer."""

    expected_interval_ms: float  # the heartbeat interval: the prior before any sample
    window: int = 100
    min_std_ms: float = 50.0  # a floor so a very regular peer is not suspected on a small hiccup
    acceptable_pause_ms: float = 0.0  # extra silence tolerated (e.g. GC pauses)
    last_arrival_ms: float | None = None
    _intervals: deque[float] = field(default_factory=deque)
    _sum: float = 0.0
    _sum_sq: float = 0.0

    def start(self, now_ms: float) -> None:
        """Begin watching: treat ``now_ms`` as a first arrival, so a peer that never speaks
        becomes suspected after the usual silence."""
        if self.last_arrival_ms is None:
            self.last_arrival_ms = now_ms

    def heartbeat(self, now_ms: float) -> None:
        if self.last_arrival_ms is not None and now_ms > self.last_arrival_ms:
            interval = now_ms - self.last_arrival_ms
            self._intervals.append(interval)
            self._sum += interval
            self._sum_sq += interval * interval
            if len(self._intervals) > self.window:
                old = self._intervals.popleft()
                self._sum -= old
                self._sum_sq -= old * old
        if self.last_arrival_ms is None or now_ms > self.last_arrival_ms:
            self.last_arrival_ms = now_ms

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

    def is_available(self, now_ms: float, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.phi(now_ms) < threshold
