"""Every history of the Porcupine corpus gets the verdict its manifest gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.api import check_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "porcupine"
MANIFEST = CORPUS / "manifest.tsv"


def _rows() -> list[tuple[str, str, str]]:
    if not MANIFEST.exists():
        return []
    lines = MANIFEST.read_text().splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines if line.strip()]  # type: ignore[misc]


ROWS = _rows()


@pytest.mark.skipif(not ROWS, reason=f"the Porcupine corpus is not at {CORPUS}")
def test_the_manifest_lists_the_whole_corpus() -> None:
    assert len(ROWS) == 108
    assert {model for _, model, _ in ROWS} == {"cas-register", "kv"}


@pytest.mark.parametrize(("name", "model", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_verdict_matches_manifest(name: str, model: str, expected: str) -> None:
    # The model is left to the automatic guess: the formats alone must pick it.
    result = check_file(str(CORPUS / name))
    assert result["model"] == model
    assert result["valid"] is (expected == "linearizable")
    if expected == "not-linearizable":
        assert result["op"]["line"] > 0
        assert "cannot be linearized" in result["message"]
