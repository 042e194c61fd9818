"""The streaming reader: the same operations as reading the whole text, in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import checker.readers
from checker.ops import HistoryError
from checker.readers import detect_format, parse_history, read_history_streaming, read_text

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "porcupine"

INDEPENDENT = """[{:process 0, :type :invoke, :f :write, :value [1 3]}
{:process 0, :type :ok, :f :write, :value [1 3]}
{:process 1, :type :invoke, :f :read, :value [1 nil]}
{:process 1, :type :ok, :f :read, :value [1 3]}
{:process 1, :type :invoke, :f :read, :value [2 nil]}
{:process 1, :type :ok, :f :read, :value [2 nil]}]
"""
MULTILINE = """[{:process 0, :type :invoke,
  :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}]
"""
JSONL = "\n".join(
    json.dumps({"process": p % 3, "type": t, "f": "write", "key": "k", "value": p})
    for p in range(40)
    for t in ("invoke", "ok")
)


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A few lines per chunk: every chunk boundary case is met on small files.
    monkeypatch.setattr(checker.readers, "_CHUNK_BYTES", 64)


def _files(tmp_path: Path) -> list[Path]:
    corpus = sorted(CORPUS.glob("kv/*.txt")) + sorted(CORPUS.glob("jepsen/*.log"))[:10]
    extra = {"independent.edn": INDEPENDENT, "multiline.edn": MULTILINE, "h.jsonl": JSONL}
    for name, text in extra.items():
        (tmp_path / name).write_text(text)
    return corpus + [tmp_path / name for name in extra]


@pytest.mark.usefixtures("tiny_chunks")
def test_streaming_reads_the_same_ops_as_the_whole_text(tmp_path: Path) -> None:
    for path in _files(tmp_path):
        ops, fmt = read_history_streaming(str(path))
        assert ops == parse_history(read_text(str(path)), str(path)), path
        assert fmt == detect_format(str(path), read_text(str(path)))


@pytest.mark.usefixtures("tiny_chunks")
def test_errors_name_the_line_across_chunks(tmp_path: Path) -> None:
    lines = JSONL.split("\n")
    lines[57] = "{not json"
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(HistoryError, match=r"broken.jsonl:58: not valid JSON"):
        read_history_streaming(str(path))


@pytest.mark.usefixtures("tiny_chunks")
def test_log_lines_after_pages_of_other_output_are_found(tmp_path: Path) -> None:
    log = (CORPUS / "jepsen" / "etcd_000.log").read_text()
    path = tmp_path / "noisy.txt"
    path.write_text("other logging\n" * 10_000 + log)
    ops, fmt = read_history_streaming(str(path))
    assert fmt == "jepsen-log" and len(ops) > 0


def test_reading_and_checking_needs_a_few_times_the_file_size(tmp_path: Path) -> None:
    # Before streaming, a history took about 10x its size (the text, its lines, a dict per
    # record); the issue asks for about 3x.
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for n in range(60_000):
            key = f"k{n % 500}"
            handle.write(
                json.dumps(
                    {
                        "process": n % 40,
                        "type": "invoke",
                        "f": "append",
                        "key": key,
                        "value": f"x {n} y",
                        "time": n * 1000,
                        "index": 2 * n,
                    }
                )
                + "\n"
                + json.dumps(
                    {
                        "process": n % 40,
                        "type": "ok",
                        "f": "append",
                        "key": key,
                        "value": f"x {n} y",
                        "time": n * 1000 + 1,
                        "index": 2 * n + 1,
                    }
                )
                + "\n"
            )
    size = path.stat().st_size
    script = (
        "import resource, sys\n"
        "from checker.files import check_history_file\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        f"result = check_history_file({str(path)!r})\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(result['valid'], after - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    verdict, grown = done.stdout.split()
    assert verdict == "True", done.stderr
    assert int(grown) < 3 * size, f"{int(grown) / size:.1f}x the file's size"
