"""``summary.json``: what a single run, a seed sweep or a test-all matrix amounted to, in one
document CI can read without parsing output (schema: docs/ci.md).

``summary_document`` is pure; ``write_summary`` writes the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zynamo.outcome import RunOutcome, worst_exit_code

if TYPE_CHECKING:
    from zynamo.suite import SuiteRow

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


def suite_fields(suite: str, rows: Sequence[SuiteRow]) -> dict[str, Any]:
    """A suite's test-all summary names the suite and each row: its name (each run's ``test``),
    what it exercises and the options it sets."""
    return {
        "suite": suite,
        "suite_rows": [
            {
                "name": row.name,
                "exercises": row.exercises,
                "options": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in row.options.items()
                },
            }
            for row in rows
        ],
    }


def write_summary(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
