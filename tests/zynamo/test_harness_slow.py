"""The harness's three behaviours over several seeds and with the full defaults (minutes).

Marked ``slow``: run with ``./test.sh --slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.zynamo.test_harness import zynamo_test

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [101, 202, 303])
@pytest.mark.parametrize("nemesis", ["partition,kill", "partition,kill,pause,clock,latency"])
def test_dvv_loses_no_add_and_converges_on_every_seed(
    tmp_path: Path, seed: int, nemesis: str
) -> None:
    code, results, _, stdout = zynamo_test(tmp_path, "--seed", str(seed), "--nemesis", nemesis)
    assert results["checkers"]["set"]["valid"] is True, results["checkers"]["set"]
    assert results["checkers"]["convergence"]["valid"] is True
    assert code == 0, stdout


@pytest.mark.parametrize("seed", [7, 8, 9])
@pytest.mark.parametrize("versioning", ["lww", "vclock"])
def test_weaker_versioning_loses_adds_on_every_seed(
    tmp_path: Path, seed: int, versioning: str
) -> None:
    code, results, _, _ = zynamo_test(
        tmp_path, "--versioning", versioning, "--nemesis", "partition", "--seed", str(seed)
    )
    assert results["checkers"]["set"]["lost"] > 0
    assert code == 1


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_register_r1_w1_is_never_linearizable_under_partitions(tmp_path: Path, seed: int) -> None:
    code, results, _, _ = zynamo_test(
        tmp_path,
        "--workload", "register",
        "--r", "1",
        "--w", "1",
        "--nemesis", "partition",
        "--seed", str(seed),
    )  # fmt: skip
    assert results["checkers"]["linearizable"]["valid"] is False
    assert code == 1


def test_membership_changes_lose_nothing(tmp_path: Path) -> None:
    code, results, _, stdout = zynamo_test(
        tmp_path, "--nemesis", "membership", "--nemesis-interval", "4", "--seed", "5"
    )
    assert results["checkers"]["set"]["valid"] is True, results["checkers"]["set"]
    assert code == 0, stdout
