"""The command that runs a stored test again, from its ``test.json``: every option given
explicitly (so a changed default does not change the run), the seed included, and the commit
to check out. Pure, no I/O.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

# test.json field -> `zynamo test` flag; lists are joined with commas.
FLAGS = (
    ("env", "--env"),
    ("workload", "--workload"),
    ("nemesis", "--nemesis"),
    ("partition_shapes", "--partition"),
    ("partition_mode", "--partition-mode"),
    ("nodes", "--nodes"),
    ("n", "--n"),
    ("r", "--r"),
    ("w", "--w"),
    ("versioning", "--versioning"),
    ("time_limit_s", "--time-limit"),
    ("rate", "--rate"),
    ("concurrency", "--concurrency"),
    ("nemesis_interval_s", "--nemesis-interval"),
    ("recovery_s", "--recovery"),
    ("timeout_ms", "--timeout-ms"),
    ("ops_per_key", "--ops-per-key"),
    ("seed", "--seed"),
    ("name", "--name"),
)


def _text(item: object) -> str:
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    return str(item)


def reproduce_command(test: Mapping[str, Any] | None) -> str:
    """``zynamo test --workload set … --seed 7`` (empty when there is no test.json)."""
    if not test:
        return ""
    words = ["zynamo", "test"]
    for field, flag in FLAGS:
        item = test.get(field)
        if item is None or item == "" or item == []:
            continue
        text = ",".join(map(_text, item)) if isinstance(item, list) else _text(item)
        words += [flag, text]
    return shlex.join(words)


def commit_of(test: Mapping[str, Any] | None) -> str:
    commit = (test or {}).get("git_commit") or (test or {}).get("git-commit") or ""
    return str(commit) if commit != "unknown" else ""
