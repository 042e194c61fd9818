"""What keeps the exit codes honest when the world around a command misbehaves.

``guard_stdout()`` makes a closed standard output (``zynamo check FILE | head -1``) harmless:
the rest of the output is dropped without a ``BrokenPipeError`` traceback, and the command
finishes with the exit code of its verdict rather than 1 (which would say INVALID).
``report_harness_failure()`` prints the traceback of an exception nobody expected and the line
saying that the harness failed (exit 255). Does I/O on the standard streams only.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, TextIO


class _PipeSafeStream:
    """A text stream that stops writing, silently, once its reader has gone away."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def _gone(self) -> None:
        self.closed_by_reader = True
        try:  # the interpreter flushes stdout at exit: point it at /dev/null so that is quiet
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        if self.closed_by_reader:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        if self.closed_by_reader:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Wrap ``sys.stdout`` (once) so that a closed pipe ends the output, not the command."""
    if not isinstance(sys.stdout, _PipeSafeStream) and sys.stdout is not None:
        sys.stdout = _PipeSafeStream(sys.stdout)  # type: ignore[assignment]


def report_harness_failure() -> None:
    """The traceback of the exception being handled, then what it means for the user."""
    traceback.print_exc()
    print(
        "zynamo: the harness itself failed (exit 255); the traceback above is a bug to report",
        file=sys.stderr,
    )
