"""Every history of the Porcupine corpus gets the verdict its manifest gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.api import check_file

# A copy of ../shared/testdata/porcupine (MIT, see its LICENSE.md), so CI checks it too.
CORPUS = Path(__file__).resolve().parents[1] / "data" / "porcupine"
MANIFEST = CORPUS / "manifest.tsv"


def _rows() -> list[tuple[str, str, str]]:
    lines = MANIFEST.read_text().splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines if line.strip()]  # type: ignore[misc]


ROWS = _rows()


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
