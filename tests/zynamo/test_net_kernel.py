"""``zynamo test --net kernel``: the default test with links cut by nftables in per-node network
namespaces reaches the same verdicts as with proxies — the defaults (dvv) lose nothing under
kernel partitions, last-write-wins loses acknowledged adds — records the choice in test.json and
the reproduce command, and leaves no namespace behind, not even after Ctrl-C.

Real runs: root, ``ip`` and ``nft`` needed (skipped otherwise); short, like test_harness.py's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nemesis.netns import find_tool, list_namespaces
from tests.zynamo.test_harness import zynamo_test

if os.geteuid() != 0:
    pytest.skip("--net kernel needs root (network namespaces)", allow_module_level=True)
if find_tool("ip") is None or find_tool("nft") is None:
    pytest.skip(
        "--net kernel needs `ip` and `nft` (apt-get install iproute2 nftables)",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[2]


def kernel_test(results: Path, *args: str) -> tuple[int, dict[str, Any], Path, str]:
    """``zynamo test --net kernel``; the exit code, results.json, the run directory, stdout."""
    return zynamo_test(results, "--net", "kernel", *args)


def run_namespaces(pid: int) -> list[str]:
    return [name for name in list_namespaces() if name.startswith(f"zyn-{pid}-")]


def test_kernel_partitions_lose_nothing_with_the_defaults(tmp_path: Path) -> None:
    code, results, run_dir, stdout = kernel_test(tmp_path, "--nemesis", "partition", "--seed", "11")
    assert results["checkers"]["set"]["valid"] is True, results["checkers"]["set"]
    assert code == 0, stdout
    assert json.loads((run_dir / "test.json").read_text())["net"] == "kernel"
    assert "--net kernel" in stdout.split("reproduce:")[1]
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    summaries = [
        op["value"]["effect"]["summary"]
        for op in history
        if op["process"] == "nemesis" and op["type"] == "info" and "effect" in op.get("value", {})
    ]
    assert any("links cut" in s for s in summaries), summaries
    assert any("packets dropped by the kernel" in s for s in summaries), summaries


def test_kernel_partitions_show_last_write_wins_losing_adds(tmp_path: Path) -> None:
    code, results, _, stdout = kernel_test(
        tmp_path, "--nemesis", "partition", "--versioning", "lww", "--seed", "5"
    )
    assert results["checkers"]["set"]["valid"] is False, results["checkers"]["set"]
    assert results["checkers"]["set"]["lost"] > 0
    assert code == 1, stdout


def test_ctrl_c_leaves_no_namespace_behind(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "zynamo", "test", "--net", "kernel", "--nodes", "3",
         "--time-limit", "300", "--results", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(run_namespaces(process.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(run_namespaces(process.pid)) == 4  # three nodes and the hub
    time.sleep(2)  # the workload is running
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert run_namespaces(process.pid) == []
    assert not list(Path("/tmp").glob(f"zyn-{process.pid}-*"))
