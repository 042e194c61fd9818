"""Records a run's history: every operation, as it happens, to ``history.jsonl``.

Each ``record`` call stamps the operation with its ``index`` and its ``time`` (nanoseconds since
the run started, from the monotonic clock, or the clock the environment gives: the simulator's
is virtual) and appends it as one JSON line, flushed at once, so
a run that crashes still leaves its history (a simulated run, which never waits for anything,
passes ``flush_each=False``: its lines leave in the file object's buffer-sized writes, and all
of them by ``close``). It is safe to call from several threads (the workload's event loop and
the nemesis thread). The format is docs/history.md. Does file I/O.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import msgspec

# msgspec's C encoder: a line per operation shows in a simulated run's profile, and it writes
# what ``json.dumps(op, separators=(",", ":"))`` writes, but for characters outside ASCII (as
# UTF-8, not ``\u`` escapes: the same JSON to any reader).
_LINE_ENCODER = msgspec.json.Encoder()


class HistoryRecorder:
    """Appends operations to a JSON Lines file and keeps them in memory for the checker."""

    def __init__(
        self,
        path: Path,
        keep: bool = True,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        flush_each: bool = True,
    ) -> None:
        self.path = path
        self._file: IO[bytes] = path.open("ab")
        self._lock = threading.Lock()
        self._clock_ns = clock_ns
        self._start_ns = clock_ns()
        self._keep = keep
        self._flush_each = flush_each
        self.ops: list[dict[str, Any]] = []
        self.count = 0

    def now_ns(self) -> int:
        """Nanoseconds since the run started."""
        return self._clock_ns() - self._start_ns

    def record(self, op: dict[str, Any]) -> dict[str, Any]:
        """Stamp ``op`` with index and time, write it, and return the stamped copy."""
        with self._lock:
            stamped = {"index": self.count, "time": self.now_ns(), **op}
            self._file.write(_LINE_ENCODER.encode(stamped) + b"\n")
            if self._flush_each:
                self._file.flush()
            self.count += 1
            if self._keep:
                self.ops.append(stamped)
        return stamped

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> HistoryRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
