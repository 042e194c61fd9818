"""``zynamo test --repairs``: which repair mechanisms the cluster runs with, and what the
convergence check then owes."""

from __future__ import annotations

import pytest

from checker.api import check_records
from checker.dynamo import ConvergenceChecker
from zynamo.options import REPAIRS
from zynamo.options import TestOptions as Options
from zynamo.runner import cluster_config


def test_each_mechanism_can_run_alone() -> None:
    assert REPAIRS == ("hints", "read-repair", "anti-entropy")
    everything = cluster_config(Options())
    assert everything.hinted_handoff and everything.read_repair
    assert everything.anti_entropy_interval_ms > 0
    hints = cluster_config(Options(repairs=("hints",)))
    assert hints.hinted_handoff and not hints.read_repair
    assert hints.anti_entropy_interval_ms == 0
    repair = cluster_config(Options(repairs=("read-repair",)))
    assert not repair.hinted_handoff and repair.read_repair
    entropy = cluster_config(Options(repairs=("anti-entropy",)))
    assert not entropy.hinted_handoff and not entropy.read_repair
    assert entropy.anti_entropy_interval_ms == Options().anti_entropy_interval_ms


def test_an_unknown_mechanism_is_refused_naming_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="--repairs") as err:
        Options(repairs=("gossip",))
    assert "read-repair" in str(err.value)


def test_the_repairs_survive_test_json() -> None:
    options = Options(repairs=("read-repair",))
    assert Options.from_json(options.to_json()).repairs == ("read-repair",)


DIVERGED = [
    {"process": "final", "f": "replica-state", "type": "ok", "round": 1, "key": "k",
     "node": node, "value": value, "tombstone": False, "time": 1}
    for node, value in (("n1", [[1]]), ("n2", [[1]]), ("n3", None))
]  # fmt: skip


def test_convergence_is_owed_only_when_anti_entropy_runs() -> None:
    owed = check_records(DIVERGED, (ConvergenceChecker(),), n=3)
    assert owed["valid"] is False
    with_entropy = check_records(DIVERGED, (ConvergenceChecker(),), n=3, repairs=REPAIRS)
    assert with_entropy["valid"] is False
    without = check_records(DIVERGED, (ConvergenceChecker(),), n=3, repairs=("hints",))
    result = without["checkers"]["convergence"]
    assert without["valid"] is True and result["owed"] is False
    assert "anti-entropy is off" in result["summary"]
