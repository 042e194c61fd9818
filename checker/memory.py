"""How much memory this process uses, and how much a search may use: the checker's budget.

Reads ``/proc/self/statm`` (Linux; elsewhere the peak resident size from ``getrusage``) and the
process's address-space limit (``RLIMIT_AS``). No other I/O. The search (`checker.wgl`) looks
at `used_bytes` every thousand configurations and gives up, with verdict unknown, past its
budget: a search that could run the machine out of memory is the complaint about Knossos and
Porcupine, and a `MemoryError` must never turn into a verdict.
"""

from __future__ import annotations

import os
import resource
import sys

GIB = 1 << 30
# Without an address-space limit: enough for any search that can finish in minutes.
DEFAULT_LIMIT_BYTES = 2 * GIB
# Under a limit: leave room for what the process needs besides the search (the history,
# the result, an explanation).
SHARE_OF_RLIMIT = 0.8

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def used_bytes() -> int:
    """The process's address space (what ``RLIMIT_AS`` caps), or its peak resident size
    where ``/proc`` is unavailable."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def default_limit_bytes() -> int:
    """2 GiB, or 80% of the address-space limit if that is lower."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return DEFAULT_LIMIT_BYTES
    return min(DEFAULT_LIMIT_BYTES, int(soft * SHARE_OF_RLIMIT))


def parse_size(text: str) -> int:
    """Bytes from ``1500M``, ``2G``, ``2GiB``, ``512MB`` or a plain number of bytes; raises
    ValueError for anything else or a size that is not positive."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    factor = 1
    if cleaned and cleaned[-1] in units:
        factor = units[cleaned[-1]]
        cleaned = cleaned[:-1]
    value = float(cleaned)
    if not value > 0 or value != value:
        raise ValueError(f"size must be positive: {text!r}")
    return int(value * factor)


def describe(size: int) -> str:
    """``1.5 GiB``, ``300 MiB``."""
    if size >= GIB:
        return f"{size / GIB:.3g} GiB"
    return f"{size / (1 << 20):.3g} MiB"
