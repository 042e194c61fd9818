"""The runner acts on a cluster only through the environment interface: a whole `zynamo test`
run (workload, nemesis, heal, final phase, checkers, report) in the in-memory environment, with
no process or socket, and the workload's own checkers deciding the verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.base import CheckContext
from cluster.core import ClusterConfig
from workloads.set import SetWorkload
from zynamo import options as zynamo_options
from zynamo.env.base import Environment
from zynamo.env.memory import MemoryEnvironment
from zynamo.runner import run_test

QUICK = {
    "time_limit_s": 1.5,
    "rate": 200.0,
    "concurrency": 4,
    "nemesis_interval_s": 0.2,
    "recovery_s": 2.0,
    "ops_per_key": 20,
}


def in_memory(made: list[MemoryEnvironment]) -> Any:
    def make(
        options: zynamo_options.TestOptions, config: ClusterConfig, directory: Path
    ) -> Environment:
        made.append(MemoryEnvironment(config.nodes))
        return made[-1]

    return make


def test_a_whole_run_in_the_memory_environment(tmp_path: Path) -> None:
    made: list[MemoryEnvironment] = []
    lines: list[str] = []
    options = zynamo_options.TestOptions(
        nemesis=("partition", "kill", "pause", "clock", "latency", "membership"),
        results_dir=tmp_path,
        seed=4,
        **QUICK,  # type: ignore[arg-type]
    )
    result = run_test(options, progress=lines.append, make_environment=in_memory(made))
    env = made[0]
    assert env.stopped and env.net.cut_links == set() and env.net.slow_links == set()
    assert env.members == set(env.nodes) and set(env.skew_ms.values()) == {0.0}
    assert result.valid is True, result.results
    assert list(result.results["checkers"]) == [
        "set",
        "convergence",
        "quorum",
        "versions",
        "lost-versions",
        "leftovers",
        "nemesis",
        "placement",
        "invariants",
        "coverage",
        "stats",
    ]
    assert lines[1] == "starting 5 in-memory nodes"
    assert any(line.startswith("nemesis: start-") for line in lines)
    history = [json.loads(x) for x in (result.directory / "history.jsonl").read_text().splitlines()]
    assert any(op["f"] == "replica-state" for op in history)
    assert any(op["process"] == "nemesis" and op["f"] == "stop-all" for op in history)
    for artifact in ("test.json", "results.json", "index.html"):
        assert (result.directory / artifact).stat().st_size > 0


class Unconvinced:
    """A custom checker: the only one the workload names, so the only one that runs."""

    name = "unconvinced"

    def __init__(self) -> None:
        self.contexts: list[CheckContext] = []

    def check(self, history: list[dict[str, Any]], context: CheckContext) -> dict[str, Any]:
        self.contexts.append(context)
        return {"valid": False, "records": len(history)}


def test_the_workloads_checkers_are_what_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = Unconvinced()
    monkeypatch.setattr(SetWorkload, "checkers", (custom,))
    options = zynamo_options.TestOptions(nemesis=("none",), results_dir=tmp_path, n=2, **QUICK)  # type: ignore[arg-type]
    result = run_test(options, progress=lambda line: None, make_environment=in_memory([]))
    assert list(result.results["checkers"]) == ["unconvinced"]
    assert result.valid is False
    # The memory environment keeps no journals: the context says so (an empty tuple), with
    # the cluster's versioning, repair mechanisms and tombstone grace; its journals' clocks
    # are a real environment's (no exact shared clock).
    assert custom.contexts == [
        CheckContext(
            n=2,
            journals=(),
            versioning="dvv",
            repairs=zynamo_options.REPAIRS,
            tombstone_grace_ms=options.tombstone_grace_ms,
        )
    ]
    stored = json.loads((result.directory / "results.json").read_text())
    assert stored["checkers"]["unconvinced"]["records"] > 0
