"""Every nemesis parameter is a `zynamo test` flag, recorded in test.json, and a bad value is
answered with exit 254 and a message naming the flag and what it accepts (no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zynamo import options as zynamo_options
from zynamo.cli import build_parser
from zynamo.cmd_test import options_from

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _options(*argv: str) -> zynamo_options.TestOptions:
    args = build_parser("test").parse_args(["test", "--seed", "1", *argv])
    return options_from(args)


def test_every_nemesis_parameter_is_a_flag_and_lands_in_the_options() -> None:
    options = _options(
        "--nodes", "5", "--kill-targets", "one,n1+n3", "--grudge", "n1:n2,n3;n4:n5",
        "--grudge", "n2:n1", "--clock-modes", "scramble,strobe", "--clock-max-skew-ms", "250",
        "--strobe-duration-ms", "400", "--latency-ms", "30", "--jitter-ms", "5",
        "--pr", "1", "--pw", "2", "--sync", "full", "--disk-modes", "power-loss",
        "--disk-targets", "primaries:k3,all", "--message-drop", "0.25",
        "--toxic-kinds", "slicer,reset_peer", "--limit-data-bytes", "100",
        "--partition", "isolate", "--partition-mode", "drop",
    )  # fmt: skip
    nemesis = options.nemesis_options
    assert nemesis.kill_targets == ("one", ("n1", "n3"))
    assert nemesis.partition_grudges == ("n1:n2,n3;n4:n5", "n2:n1")
    assert nemesis.clock_modes == ("scramble", "strobe") and nemesis.clock_max_skew_ms == 250
    assert nemesis.strobe_duration_ms == 400
    assert (nemesis.latency_ms, nemesis.jitter_ms) == (30, 5)
    assert (options.pr, options.pw, options.sync) == (1, 2, "full")
    assert nemesis.disk_modes == ("power-loss",)
    assert nemesis.disk_targets == ("primaries:k3", "all")
    assert nemesis.message_drop == 0.25 and nemesis.limit_data_bytes == 100
    assert nemesis.toxic_kinds == ("slicer", "reset_peer")
    # --partition and --partition-mode are folded in: the options the nemesis runs with
    assert nemesis.partition_shapes == ("isolate",) and nemesis.partition_modes == ("drop",)
    recorded = json.loads(json.dumps(options.to_json()))
    assert recorded["nemesis_options"]["partition_grudges"] == ["n1:n2,n3;n4:n5", "n2:n1"]
    assert recorded["sync"] == "full" and recorded["pr"] == 1
    assert zynamo_options.TestOptions.from_json(recorded) == options


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sync", "sometimes"], "--sync: 'sometimes' is not one of off, normal, full"),
        (["--pr", "3"], "--pr: must be between 0 and --r=2, got 3"),
        (["--pw", "-1"], "--pw: must be between 0 and --w=2"),
        (["--kill-targets", "one,n9"], "--kill-targets: unknown target 'n9'; accepted: one,"),
        (["--grudge", "n1-n2"], "--grudge: grudge 'n1-n2': 'n1-n2' is not node:nodes"),
        (["--grudge", "n1:n7"], "--grudge: unknown node 'n7'"),
        (["--clock-modes", "wobble"], "--clock-modes: 'wobble' is not accepted; accepted: bump"),
        (["--clock-max-skew-ms", "0"], "--clock-max-skew-ms: expected an integer >= 1"),
        (["--latency-ms", "soon"], "--latency-ms: expected an integer, got 'soon'"),
        (["--message-reorder", "1.5"], "--message-reorder: expected a probability from 0 to 1"),
        (["--disk-modes", "melt"], "--disk-modes: 'melt' is not accepted; accepted: power-loss"),
        (["--toxic-kinds", "bandwidth"], "--toxic-kinds: 'bandwidth' is not accepted"),
    ],
)
def test_a_bad_value_exits_254_naming_the_flag_and_the_accepted_values(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "zynamo", "test", "--results", str(tmp_path), *argv],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert run.returncode == 254, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not any(tmp_path.iterdir())  # nothing ran
