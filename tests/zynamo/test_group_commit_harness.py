"""The harness catches an acknowledgement sent before its commit: with the shared group-commit
rule (``cluster.storage.GroupCommit``) planted to release a batch's messages before the commit,
a simulated run with kills reports lost acknowledged adds; the rule as written loses none in
the same runs. The commit latency is lengthened (``--commit-ms 20,40``) so that kills land in
commits often;
with one copy of each key (N=R=W=1), a write lost by its node is lost for good."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cluster.storage import GroupCommit, Outbound
from nemesis.options import NemesisOptions
from zynamo.options import TestOptions as Options
from zynamo.runner import RunResult, run_test

SEEDS = (1, 2)


def ack_before_commit(group: GroupCommit) -> list[Outbound]:
    """The slip: what the batch produced leaves when handling ends, before the commit."""
    held, group._held = group._held, []
    return held


def run(tmp_path: Path, seed: int) -> RunResult:
    return run_test(
        Options(
            env="sim",
            seed=seed,
            results_dir=tmp_path,
            time_limit_s=20.0,
            nemesis_interval_s=2.0,
            recovery_s=30.0,
            nemesis=("kill",),
            nemesis_options=NemesisOptions(kill_targets=("all",)),
            n=1,
            r=1,
            w=1,
            commit_ms=(20.0, 40.0),
        ),
        progress=lambda line: None,
        report=False,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_acknowledging_before_the_commit_loses_acknowledged_adds_under_kills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(GroupCommit, "seal", ack_before_commit)
    checkers: dict[str, Any] = run(tmp_path, seed).results["checkers"]
    assert checkers["set"]["valid"] is False and checkers["set"]["lost"] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_acknowledging_after_the_commit_loses_nothing_under_the_same_kills(
    tmp_path: Path, seed: int
) -> None:
    result = run(tmp_path, seed)
    assert result.results["checkers"]["set"]["lost"] == 0
    assert result.valid is True


def test_commit_ms_is_a_simulator_option_recorded_and_reproduced(tmp_path: Path) -> None:
    from zynamo.cli import main
    from zynamo.reproduce import reproduce_command

    options = Options(env="sim", commit_ms=(20.0, 40.0))
    assert Options.from_json(options.to_json()) == options
    assert "--commit-ms 20.0,40.0" in reproduce_command(options)
    assert "--commit-ms" not in reproduce_command(Options(env="sim"))
    with pytest.raises(ValueError, match=r"--commit-ms: only the simulator"):
        Options(env="real", commit_ms=(20.0, 40.0))
    with pytest.raises(ValueError, match=r"--commit-ms: LOW,HIGH in virtual ms"):
        Options(env="sim", commit_ms=(40.0, 20.0))
    for bad in ("fast", "40,20", "1,2,3"):
        code = main(["test", "--env", "sim", "--commit-ms", bad, "--results", str(tmp_path)])
        assert code == 254
    assert not list(tmp_path.iterdir())  # refused before anything was written
