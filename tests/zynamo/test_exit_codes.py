"""Exit codes that never lie: Jepsen's 0/1/2/254/255, 130 on Ctrl-C, no traceback on bad
input, nothing written or moved on a refused command (issue 14, item 5 and 6)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zynamo import cmd_analyze
from zynamo.cli import main

ROOT = Path(__file__).resolve().parents[2]
SIM = ["--env", "sim", "--time-limit", "8", "--nemesis-interval", "3"]
VALID_EDN = """{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 1}
"""
INVALID_EDN = VALID_EDN.replace(":ok, :f :read, :value 1", ":ok, :f :read, :value 2")


def zynamo(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zynamo", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=120,
    )


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 254, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("run")
    proc = zynamo("test", *SIM, "--seed", "2", "--results", str(results))
    assert proc.returncode == 0, proc.stderr
    return (results / "latest").resolve()


def test_a_closed_stdout_keeps_the_verdicts_exit_code(tmp_path: Path) -> None:
    history = tmp_path / "invalid.edn"
    history.write_text(INVALID_EDN)
    files = " ".join([str(history)] * 40)
    script = f"set -o pipefail; {sys.executable} -m zynamo check {files} | head -1"
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr  # INVALID, as the verdict says
    assert "BrokenPipe" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.startswith("INVALID")


@pytest.mark.parametrize(
    ("test_json", "words"),
    [
        ("[1,2]", ["test.json", "expected a JSON object"]),
        ('{"n": "three"}', ["test.json", "n: must be an integer", "'three'"]),
        ('{"workload": "register"}', ["does not fit the workload 'register'", "line 1"]),
        ("{not json", ["test.json"]),
    ],
)
def test_analyze_refuses_a_bad_test_json_naming_the_field(
    sim_run: Path, tmp_path: Path, test_json: str, words: list[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.jsonl").write_bytes((sim_run / "history.jsonl").read_bytes())
    (run / "test.json").write_text(test_json)
    refused(zynamo("analyze", str(run)), *words)
    assert sorted(p.name for p in run.iterdir()) == ["history.jsonl", "test.json"]


def test_ctrl_c_exits_130_after_healing(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "zynamo", "test", "--env", "sim", "--time-limit", "3000",
         "--results", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr


def test_a_harness_bug_prints_its_traceback_and_exits_255(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("a bug in the harness")

    monkeypatch.setattr(cmd_analyze, "handle", broken)
    assert main(["analyze", "anywhere"]) == 255
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug in the harness" in err
    assert "exit 255" in err


def test_an_unreachable_toxiproxy_is_refused_at_once_with_nothing_written(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    proc = zynamo("test", "--toxiproxy", "http://127.0.0.1:1", "--results", str(tmp_path))
    refused(proc, "--toxiproxy", "http://127.0.0.1:1")
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--ops-per-key", "0"], ["--ops-per-key: must be at least 1"]),
        (["--timeout-ms", "-5"], ["--timeout-ms: must be at least 1"]),
        (["--nemesis", ""], ["--nemesis: give at least one fault"]),
        (["--nodes", "0"], ["--nodes"]),
        (["--junit", "."], ["--junit", "is a directory"]),
        (["--shard", "3/2", "--test-count", "4"], ["--shard: expected I/N"]),
        (["--shard", "1/2"], ["--shard: splits a sweep"]),
    ],
)
def test_bad_test_options_are_refused_before_anything_starts(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    refused(zynamo("test", "--env", "sim", "--results", str(tmp_path), *args), *words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--workloads", ""], ["--workloads: give at least one"]),
        (["--workloads", "set,nope"], ["--workload", "'nope'"]),  # the second row: refused first
        (["--nemeses", "none;;kill"], ["--nemeses"]),
        (["--shard", "0/3"], ["--shard"]),
    ],
)
def test_test_all_validates_every_row_before_the_first_runs(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    proc = zynamo("test-all", "--env", "sim", "--results", str(tmp_path), *args)
    refused(proc, *words)
    assert list(tmp_path.iterdir()) == []


def test_version_and_exit_codes_in_help() -> None:
    version = zynamo("--version")
    assert version.returncode == 0 and version.stdout.startswith("zynamo ")
    helped = zynamo("test", "--help")
    assert "254" in helped.stdout and "130" in helped.stdout
    entries = helped.stdout.split("options:", 1)[1].split("\n  -")
    for flag in ("--nodes", "--concurrency", "--results", "--timeout-ms", "--ops-per-key"):
        entry = next(e for e in entries if e.startswith(flag[1:] + " "))
        assert "(default: " in entry, entry


# --------------------------------------------------------------------------- zynamo check


def check(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "history.edn"
    path.write_text(text)
    return zynamo("check", *args, str(path))


def test_an_empty_history_is_unknown_not_valid(tmp_path: Path) -> None:
    proc = check(tmp_path, "")
    assert proc.returncode == 2 and "no client operations" in proc.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (VALID_EDN + "{:process 2, :type :invoke, :f :frob, :value 1}\n", [":5", "frob"]),
        (
            VALID_EDN.replace("{:process 1, :type :invoke", "{:type :invoke"),
            [":3", ":process"],
        ),
        (
            "{:index 7, :process 0, :type :invoke, :f :write, :value 1}\n"
            "{:index 7, :process 0, :type :ok, :f :write, :value 1}\n",
            [":2", "index 7 again"],
        ),
    ],
)
def test_a_malformed_history_is_refused_naming_its_line(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    refused(check(tmp_path, text), *words)


def test_unknown_f_in_jsonl_is_refused_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    lines = [
        {"process": 0, "type": "invoke", "f": "write", "key": "k", "value": 1},
        {"process": 0, "type": "ok", "f": "write", "key": "k", "value": 1},
        {"process": 0, "type": "invoke", "f": "frob", "key": "k", "value": 1},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    refused(zynamo("check", str(path)), f"{path}:3", "unknown f 'frob'")


def test_dash_reads_standard_input() -> None:
    proc = zynamo("check", "--format", "edn", "-", stdin=INVALID_EDN)
    assert proc.returncode == 1 and proc.stdout.startswith("INVALID  -")


def test_an_invalid_file_is_not_hidden_by_an_unreadable_one(tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.edn"
    invalid.write_text(INVALID_EDN)
    proc = zynamo("check", "--json", str(invalid), str(tmp_path / "missing.edn"))
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(invalid), str(tmp_path / "missing.edn")]
    assert "no such file" in lines[1]["error"]


def test_a_set_workload_history_is_not_called_invalid(sim_run: Path) -> None:
    proc = zynamo("check", str(sim_run / "history.jsonl"))
    assert proc.returncode in (0, 2) and "INVALID" not in proc.stdout
