"""A progress line for work that may take long, on a terminal only: ``with ticking("checking
x.edn"):`` rewrites one stderr line every few seconds with the time spent, and clears it at the
end. When stderr is not a terminal (CI logs, pipes) it prints nothing. Does I/O on stderr.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

FIRST_AFTER_S = 2.0  # quick work shows no progress at all
EVERY_S = 1.0


@contextmanager
def ticking(what: str, stream: TextIO | None = None) -> Iterator[None]:
    out = stream or sys.stderr
    if not out.isatty():
        yield
        return
    done = threading.Event()
    started = time.monotonic()
    shown = threading.Event()

    def tick() -> None:
        if done.wait(FIRST_AFTER_S):
            return
        while not done.is_set():
            out.write(f"\r{what}: {time.monotonic() - started:.0f} s")
            out.flush()
            shown.set()
            done.wait(EVERY_S)

    thread = threading.Thread(target=tick, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown.is_set():
            out.write("\r\033[K")
            out.flush()
