"""Nemesis tests written as pytest tests, with the zynamo plugin (docs/pytest.md).

Run: ``pytest docs/examples/test_nemesis_example.py`` (the simulator: seconds), or with
``--zynamo-env real`` on local processes behind Toxiproxy.
"""

from __future__ import annotations

from typing import Any

import pytest

from zynamo.pytest_plugin import ZynamoRun


@pytest.mark.zynamo_seed(1, 2, 3)
def test_dotted_version_vectors_lose_no_acknowledged_add(zynamo_run: Any) -> None:
    """Under partitions and crashes, a set over DVV keeps every acknowledged add."""
    run: ZynamoRun = zynamo_run(workload="set", nemesis=("partition", "kill"), versioning="dvv")
    run.assert_valid()  # on failure: the findings, the reproduce command, the kept directory


@pytest.mark.zynamo_seed(5)
def test_last_write_wins_loses_concurrent_adds(zynamo_run: Any) -> None:
    """What the harness is for: showing what LWW loses (the set checker names the adds)."""
    run: ZynamoRun = zynamo_run(workload="set", versioning="lww", nemesis=("partition",))
    assert run.verdicts["set"] == "INVALID"
    assert run.results["checkers"]["set"]["lost"] > 0
    assert "--versioning lww" in run.reproduce and "--seed 5" in run.reproduce


@pytest.mark.zynamo_seed(4)
def test_a_cluster_and_a_nemesis_driven_by_hand(zynamo_cluster: Any, zynamo_nemesis: Any) -> None:
    """The cluster and the nemesis fixtures, for tests that drive operations themselves."""
    assert len(zynamo_cluster.nodes) == 5
    zynamo_nemesis.heal()  # healing a healthy cluster is a no-op
    status = zynamo_cluster.admin("n1", "status", timeout_ms=2000)
    assert "n1" in status["up"]
