"""``zynamo check`` under pressure: a memory budget, running out of memory, a checker bug, and
worker processes. None of them may turn into a verdict the checker has not established."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import checker.files
from tests.checker.test_cmd_check import _hard
from zynamo.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hard(tmp_path: Path) -> str:
    path = tmp_path / "hard.edn"
    path.write_text(_hard(60))
    return str(path)


def _keyed(tmp_path: Path, keys: int, bad_key: int | None) -> str:
    """Several keys of concurrent writes (values repeated, so searched) and reads; the read of
    ``bad_key`` sees a value never written."""
    lines = []
    for key in range(keys):
        for p in range(4):
            lines.append(f"{{:process {p}, :type :invoke, :f :write, :key {key}, :value {p % 2}}}")
        lines.append(f"{{:process 9, :type :invoke, :f :read, :key {key}, :value nil}}")
        seen = 7 if key == bad_key else 1
        lines.append(f"{{:process 9, :type :ok, :f :read, :key {key}, :value {seen}}}")
        for p in range(4):
            lines.append(f"{{:process {p}, :type :ok, :f :write, :key {key}, :value {p % 2}}}")
    path = tmp_path / f"keyed-{keys}-{bad_key}.edn"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_memory_limit_gives_unknown_and_says_why(
    hard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--memory-limit", "1M", hard]) == 2
    out = capsys.readouterr().out
    assert "unknown  " + hard in out
    assert "memory limit of 1 MiB (--memory-limit) was reached" in out


def test_running_out_of_address_space_is_unknown_not_invalid(hard: str) -> None:
    # The failure: a MemoryError under `ulimit -v` came out as exit 1, INVALID.
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (160 << 20, 160 << 20))\n"
        "from zynamo.cli import main\n"
        f"sys.exit(main(['check', '--memory-limit', 'none', {hard!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ran out of memory (MemoryError)" in done.stdout


def test_default_memory_limit_follows_ulimit(hard: str) -> None:
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from checker.memory import default_limit_bytes\n"
        "print(default_limit_bytes())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert int(done.stdout) == int(0.8 * (1 << 30))


def test_a_checker_bug_exits_255_never_a_verdict(
    hard: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(checker.files, "check_linearizable", broken)
    assert main(["check", hard]) == 255
    captured = capsys.readouterr()
    assert "RuntimeError" in captured.err and hard in captured.err
    assert "INVALID" not in captured.out and "1 failed (checker error)" in captured.out


def test_a_memory_error_while_checking_is_unknown(
    hard: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(checker.files, "check_linearizable", exhausted)
    assert main(["check", hard]) == 2
    assert "ran out of memory" in capsys.readouterr().out


@pytest.mark.parametrize("bad_key", [None, 3])
def test_jobs_give_the_same_results(
    tmp_path: Path, bad_key: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _keyed(tmp_path, 6, bad_key)
    results = []
    for jobs in ("1", "2"):
        code = main(["check", "--json", "--jobs", jobs, path])
        assert code == (0 if bad_key is None else 1)
        result = json.loads(capsys.readouterr().out.splitlines()[0])
        del result["time_s"]
        if bad_key is not None:
            # How much work other keys got before the invalid one ended the check depends on
            # the scheduling; the verdict and the whole explanation do not.
            del result["configurations"]
            result.pop("keys_not_checked", None)
        results.append(result)
    assert results[0] == results[1]
    if bad_key is not None:
        assert results[0]["key"] == bad_key and results[0]["op"]["value"] == 7


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--memory-limit", "lots"], "--memory-limit"),
        (["--memory-limit", "0"], "--memory-limit"),
        (["--jobs", "0"], "--jobs"),
        (["--jobs", "many"], "--jobs"),
    ],
)
def test_bad_limits_exit_254(
    hard: str, capsys: pytest.CaptureFixture[str], option: list[str], named: str
) -> None:
    assert main(["check", *option, hard]) == 254
    assert named in capsys.readouterr().err


def test_worker_processes_end_with_the_check(tmp_path: Path) -> None:
    path = _keyed(tmp_path, 4, None)
    before = set(os.listdir("/proc")) if os.path.isdir("/proc") else set()
    assert main(["check", "--jobs", "2", path]) == 0
    children = [
        pid
        for pid in set(os.listdir("/proc")) - before
        if pid.isdigit() and _parent(pid) == os.getpid()
    ]
    assert children == []


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_distinct_values_are_decided_without_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 60 concurrent writes of distinct values and a read of none of them: exponential for
    # the search (--algorithm search), immediate for the polynomial path (the default).
    lines = [f"{{:process {p}, :type :invoke, :f :write, :value {p}}}" for p in range(60)]
    lines += ["{:process 60, :type :invoke, :f :read, :value nil}"]
    lines += ["{:process 60, :type :ok, :f :read, :value -1}"]
    lines += [f"{{:process {p}, :type :ok, :f :write, :value {p}}}" for p in range(60)]
    path = tmp_path / "distinct.edn"
    path.write_text("\n".join(lines) + "\n")
    assert main(["check", "--time-limit", "0.3", "--algorithm", "search", str(path)]) == 2
    assert main(["check", "--time-limit", "0.3", str(path)]) == 1
    assert "read -> -1" in capsys.readouterr().out
