"""Check one history file for linearizability: what ``zynamo check`` does for each file.

I/O: reads the file (through `checker.readers`). `check_history_file` is `checker.api`'s
``check_file`` with the options of the command line: the memory budget of the search and the
number of worker processes, the algorithm.
"""

from __future__ import annotations

import time
from typing import Any

from checker.linearizable import DEFAULT_MEMORY_LIMIT, check_linearizable
from checker.models import ModelError
from checker.ops import HistoryError
from checker.readers import read_history_streaming


def check_history_file(
    path: str,
    model: str = "auto",
    fmt: str = "auto",
    time_limit_s: float | None = None,
    initial: Any = None,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    jobs: int = 1,
    algorithm: str = "auto",
) -> dict[str, Any]:
    """Read one history file and check it (see `checker.linearizable.check_linearizable`).

    Raises `HistoryError` for an unreadable or malformed file and when an operation does not
    fit the model; both name the line."""
    started = time.monotonic()
    ops, chosen_format = read_history_streaming(path, fmt)
    if not ops:  # nothing to decide: an empty file is not evidence of correctness
        return {
            "valid": "unknown",
            "file": path,
            "format": chosen_format,
            "op_count": 0,
            "reason": "the file holds no client operations",
            "time_s": round(time.monotonic() - started, 6),
        }
    try:
        result = check_linearizable(
            ops,
            model,
            time_limit_s,
            initial,
            memory_limit=memory_limit,
            jobs=jobs,
            algorithm=algorithm,
        )
    except ModelError as err:
        raise HistoryError(path, err.op.line, str(err).split(": ", 1)[-1]) from None
    result["file"] = path
    result["format"] = chosen_format
    result["time_s"] = round(time.monotonic() - started, 6)
    return result
