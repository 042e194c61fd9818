"""``zynamo check``: verdict lines, a summary, JSON output and Jepsen's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zynamo.cli import main

VALID = """{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 1}
"""
INVALID = VALID.replace(":ok, :f :read, :value 1", ":ok, :f :read, :value 2")


def _hard(writes: int) -> str:
    """Concurrent writes, each value twice, and a read of none: exponential for the search."""
    lines = [
        f"{{:process {p}, :type :invoke, :f :write, :value {p % (writes // 2)}}}"
        for p in range(writes)
    ]
    lines.append(f"{{:process {writes}, :type :invoke, :f :read, :value nil}}")
    lines.append(f"{{:process {writes}, :type :ok, :f :read, :value -1}}")
    lines += [
        f"{{:process {p}, :type :ok, :f :write, :value {p % (writes // 2)}}}" for p in range(writes)
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, text in (("valid.edn", VALID), ("invalid.edn", INVALID), ("hard.edn", _hard(60))):
        (tmp_path / name).write_text(text)
        paths[name] = str(tmp_path / name)
    return paths


def test_all_valid_exits_0(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", files["valid.edn"]]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("valid") and files["valid.edn"] in out[0]
    assert "2 ops" in out[0]
    assert out[-1].startswith("1 file(s)") and "1 valid" in out[-1]


def test_any_invalid_exits_1_and_explains(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", files["valid.edn"], files["invalid.edn"]]) == 1
    out = capsys.readouterr().out
    assert "INVALID  " + files["invalid.edn"] in out
    assert "read -> 2" in out and "cannot be linearized" in out
    assert "1 valid, 1 invalid, 0 unknown" in out


def test_unknown_exits_2(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--time-limit", "0.2", files["valid.edn"], files["hard.edn"]]) == 2
    out = capsys.readouterr().out
    assert "unknown  " + files["hard.edn"] in out and "time limit" in out


def test_invalid_beats_unknown(files: dict[str, str]) -> None:
    assert main(["check", "--time-limit", "0.2", files["hard.edn"], files["invalid.edn"]]) == 1


def test_json_output_is_one_result_per_file(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", files["invalid.edn"]]) == 1
    result = json.loads(capsys.readouterr().out.splitlines()[0])
    assert result["valid"] is False and result["file"] == files["invalid.edn"]
    assert result["op"]["value"] == 2


def test_initial_value_option(tmp_path: Path) -> None:
    path = tmp_path / "h.edn"
    path.write_text(
        "{:process 0, :type :invoke, :f :cas, :value [0 1]}\n"
        "{:process 0, :type :ok, :f :cas, :value [0 1]}\n"
    )
    assert main(["check", str(path)]) == 1
    assert main(["check", "--initial", "0", str(path)]) == 0


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--model", "queue"], "--model"),
        (["--format", "csv"], "--format"),
        (["--time-limit", "soon"], "--time-limit"),
        (["--time-limit", "-1"], "--time-limit"),
        (["--initial", "{:a"], "--initial"),
    ],
)
def test_bad_options_exit_254_naming_the_option(
    files: dict[str, str], capsys: pytest.CaptureFixture[str], option: list[str], named: str
) -> None:
    assert main(["check", *option, files["valid.edn"]]) == 254
    err = capsys.readouterr().err
    assert named in err


def test_unreadable_file_exits_254_naming_file_and_line(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"process": 0, "type": "invoke", "f": "read"}\nnot json\n')
    missing = str(tmp_path / "missing.edn")
    assert main(["check", files["valid.edn"], str(broken), missing]) == 254
    captured = capsys.readouterr()
    assert f"{broken}:2:" in captured.err
    assert f"{missing}: no such file" in captured.err
    assert "2 unreadable" in captured.out


def test_model_mismatch_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cas.edn"
    path.write_text(
        "{:process 0, :type :invoke, :f :cas, :value [0 1]}\n"
        "{:process 0, :type :ok, :f :cas, :value [0 1]}\n"
    )
    assert main(["check", "--model", "register", str(path)]) == 254
    assert f"{path}:1:" in capsys.readouterr().err
