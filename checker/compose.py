"""Composition of checker verdicts: false ranks over "unknown", which ranks over true.

No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Verdict = bool | str  # True, False or "unknown"

UNKNOWN = "unknown"


def compose(results: Iterable[Mapping[str, Any] | Verdict]) -> Verdict:
    """The combined verdict of several results (dicts with ``valid``) or bare verdicts:
    False if any is False, else "unknown" if any is unknown, else True (also for none)."""
    seen_unknown = False
    for item in results:
        verdict = item.get("valid", UNKNOWN) if isinstance(item, Mapping) else item
        if verdict is False:
            return False
        if verdict is not True:
            seen_unknown = True
    return UNKNOWN if seen_unknown else True


def exit_code(verdict: Verdict) -> int:
    """Jepsen's exit code for a verdict: 0 valid, 1 invalid, 2 unknown."""
    if verdict is True:
        return 0
    if verdict is False:
        return 1
    return 2
