"""``summary.json``: what a single run, a seed sweep or a test-all matrix amounted to, in one
document CI can read without parsing output (schema: docs/ci.md).

``summary_document`` is pure; ``write_summary`` writes the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zynamo.outcome import RunOutcome, worst_exit_code

SCHEMA_VERSION = 1
VERDICTS = ("valid", "INVALID", "unknown", "harness failed")


def summary_document(
    kind: str, runs: Sequence[RunOutcome], elapsed_s: float, **fields: Any
) -> dict[str, Any]:
    """``kind`` is test, sweep or test-all; ``fields`` adds the kind's own (test, options,
    shard, ...) before the counts and the runs."""
    return {
        "schema": SCHEMA_VERSION,
        "kind": kind,
        **fields,
        "elapsed_s": round(elapsed_s, 3),
        "counts": {word: sum(1 for r in runs if r.verdict == word) for word in VERDICTS},
        "exit_code": worst_exit_code([r.exit_code for r in runs]),
        "runs": [r.to_json() for r in runs],
    }


def write_summary(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
