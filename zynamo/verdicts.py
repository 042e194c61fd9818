"""Turning checker results into what a person reads first: a short verdict table and an exit code.

Exit codes follow Jepsen: 0 valid, 1 invalid, 2 unknown. No I/O.
"""

from __future__ import annotations

from typing import Any

from checker.compose import exit_code

__all__ = ["checker_summary", "exit_code", "verdict_table", "verdict_word"]


def verdict_word(valid: Any) -> str:
    if valid is True:
        return "valid"
    if valid is False:
        return "INVALID"
    return "unknown"


def checker_summary(result: dict[str, Any]) -> str:
    """One line about a checker's result: its own summary, else a few scalar figures."""
    for field in ("summary", "message"):
        text = result.get(field)
        if isinstance(text, str):
            return text if len(text) <= 110 else text[:107] + "..."
    figures = [
        f"{k}={v}"
        for k, v in result.items()
        if k != "valid" and isinstance(v, int | float | str) and not isinstance(v, bool)
    ]
    return ", ".join(figures[:4])


def verdict_table(results: dict[str, Any]) -> str:
    """A few lines: one per checker, then the overall verdict."""
    checkers: dict[str, Any] = results.get("checkers", {})
    width = max([len(name) for name in checkers] + [7])
    lines = [f"{'checker':<{width}}  {'verdict':<7}  summary"]
    for name, result in checkers.items():
        result = result if isinstance(result, dict) else {"valid": result}
        word = verdict_word(result.get("valid"))
        lines.append(f"{name:<{width}}  {word:<7}  {checker_summary(result)}")
    lines.append(f"{'overall':<{width}}  {verdict_word(results.get('valid'))}")
    return "\n".join(lines)
