"""Key choice: uniform over the active keys, or Zipfian, where a few keys take most of the
operations (many writers at once on one key)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from workloads.base import KeyPool


def shares(pool: KeyPool, draws: int = 2000) -> list[float]:
    rng = random.Random(7)
    counts = Counter(pool.choose(rng) for _ in range(draws))
    return sorted((c / draws for c in counts.values()), reverse=True)


def test_zipf_makes_the_oldest_key_hot() -> None:
    uniform = shares(KeyPool(active=10, ops_per_key=10_000))
    zipf = shares(KeyPool(active=10, ops_per_key=10_000, distribution="zipf"))
    assert uniform[0] < 0.15
    assert zipf[0] > 0.3  # the hottest key takes about a third of all operations
    assert zipf[-1] < 0.05


def test_a_hot_key_that_retires_hands_the_heat_on() -> None:
    pool = KeyPool(active=4, ops_per_key=50, distribution="zipf")
    rng = random.Random(1)
    for _ in range(400):
        pool.choose(rng)
    assert len(pool.used) > 8  # keys kept retiring, the hot ones first


def test_an_unknown_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="uniform, zipf"):
        KeyPool(distribution="pareto")
