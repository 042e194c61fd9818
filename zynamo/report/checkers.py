"""What the index page says about each checker's result: its verdict and its key figures.

Pure functions from results.json's data to short plain-text facts (the page escapes them).
Checker results are free-form beyond ``valid``, so the figures are found generically: scalars
are shown as they are, lists by their size and first items, operations (dicts with ``process``,
``type`` and ``f``) as one readable line, per-key results (dicts of dicts with ``valid``) by the
keys that failed. Figures whose names a person looks for first (counts, lost, stale, converged,
heal times, the failing op, a checker's own message) come first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_FIGURES = 12
SAMPLE_ITEMS = 5
TEXT_CHARS = 160

# Figure names read before any other, exactly as checkers name them.
FIRST_NAMES = ("message", "reason", "op", "ops", "key")
# Words in a figure's name that make it worth reading next, in order of importance.
IMPORTANT_WORDS = (
    "error",
    "invalid",
    "lost",
    "stale",
    "unexpected",
    "anomal",
    "fail",
    "op",
    "acknowledged",
    "ok",
    "info",
    "converged",
    "heal",
    "count",
    "keys",
)


@dataclass(frozen=True)
class Verdict:
    """A verdict as a person reads it: a word and the CSS class that colours it."""

    word: str
    css: str
    explanation: str = ""


def verdict(valid: object, missing_reason: str = "") -> Verdict:
    """``true`` → valid, ``false`` → INVALID, anything else → unknown."""
    if missing_reason:
        return Verdict("unknown", "unknown", missing_reason)
    if valid is True:
        return Verdict("valid", "valid")
    if valid is False:
        return Verdict("INVALID", "invalid")
    return Verdict("unknown", "unknown", "" if valid in (None, "unknown") else str(valid))


def key_figures(result: object) -> list[tuple[str, str]]:
    """The figures of one checker's result worth a table cell, most telling first."""
    if not isinstance(result, Mapping):
        return [("result", _short(_json(result)))]
    figures = [
        (str(name), _figure(str(name), value, result))
        for name, value in result.items()
        if name != "valid" and value is not None
    ]
    figures.sort(key=lambda figure: _importance(figure[0]))
    return figures[:MAX_FIGURES]


# A listed field -> the field that counts all of them, where checkers list only some.
COUNT_FIELDS = {
    "violations": "violation_count",
    "diverged": "diverged_count",
    "anomalies": "anomaly_count",
}


def _figure(name: str, value: object, result: Mapping[str, Any]) -> str:
    """A field's figure: times in seconds, capped lists as "50 of 79 listed"."""
    if name.endswith("_ns") and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value / 1e9:.2f} s"
    text = describe(value)
    if isinstance(value, list):
        count_name = COUNT_FIELDS.get(name) or (
            name.removesuffix("_elements") if name.endswith("_elements") else ""
        )
        counted = result.get(count_name) if count_name else None
        if isinstance(counted, int) and counted > len(value):
            text = f"{len(value)} of {counted} listed (all counted in {count_name}); " + text
    return text


def describe(value: object) -> str:
    """One line saying what a result field holds."""
    if isinstance(value, Mapping):
        if looks_like_op(value):
            return describe_op(value)
        if _is_per_key(value):
            return _describe_per_key(value)
        if all(_is_scalar(v) for v in value.values()) and len(value) <= 8:
            return ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items())
        if all(isinstance(v, Mapping) for v in value.values()):
            shown = "; ".join(
                f"{k}: {_scalars_inline(v)}" for k, v in list(value.items())[:SAMPLE_ITEMS]
            )
            return shown + ("; …" if len(value) > SAMPLE_ITEMS else "")
        return f"{len(value)} entries"
    if isinstance(value, list | tuple):
        return _describe_list(value)
    return _scalar(value)


def looks_like_op(value: Mapping[str, Any]) -> bool:
    return {"process", "type", "f"} <= set(value)


def describe_op(op: Mapping[str, Any]) -> str:
    """An operation as one line: ``#12 process 3 write k1 5 (ok)``."""
    parts = []
    if "index" in op:
        parts.append(f"#{op['index']}")
    elif "line" in op:  # the checker's own op records name the history line instead
        parts.append(f"line {op['line']}")
    parts.append(f"process {op.get('process')}")
    parts.append(str(op.get("f")))
    if "key" in op:
        parts.append(str(op["key"]))
    if op.get("value") is not None:
        parts.append(_short(_json(op["value"]), 60))
    parts.append(f"({op.get('type')})")
    return _short(" ".join(parts))


def _describe_list(items: Sequence[Any]) -> str:
    if not items:
        return "none"
    if all(isinstance(item, Mapping) and looks_like_op(item) for item in items):
        shown = "; ".join(describe_op(item) for item in items[:3])
        more = f"; … {len(items) - 3} more" if len(items) > 3 else ""
        noun = "op" if len(items) == 1 else "ops"
        return _short(f"{len(items)} {noun}: {shown}{more}", 400)
    if all(isinstance(item, Mapping) for item in items):
        # Records: their scalar fields, whole, rather than JSON cut in the middle.
        shown = "; ".join(_scalars_inline(item) for item in items[:3])
        more = f"; … {len(items) - 3} more" if len(items) > 3 else ""
        return _short(f"{len(items)}: {shown}{more}", 400)
    sample = ", ".join(_short(_json(item), 40) for item in items[:SAMPLE_ITEMS])
    more = ", …" if len(items) > SAMPLE_ITEMS else ""
    return f"{len(items)} ({sample}{more})"


def _is_per_key(value: Mapping[str, Any]) -> bool:
    return bool(value) and all(isinstance(v, Mapping) and "valid" in v for v in value.values())


def _describe_per_key(value: Mapping[str, Any]) -> str:
    failed = [str(k) for k, v in value.items() if v.get("valid") is False]
    unknown = [str(k) for k, v in value.items() if v.get("valid") not in (True, False)]
    text = f"{len(value)} checked"
    if failed:
        text += f", {len(failed)} INVALID: {', '.join(failed[:SAMPLE_ITEMS])}"
        text += ", …" if len(failed) > SAMPLE_ITEMS else ""
        first = value[next(k for k, v in value.items() if v.get("valid") is False)]
        ops = [v for v in first.values() if isinstance(v, Mapping) and looks_like_op(v)]
        if ops:
            text += f" (first: {describe_op(ops[0])})"
    if unknown:
        text += f", {len(unknown)} unknown"
    return _short(text, 400)


def _importance(name: str) -> int:
    lowered = name.lower()
    if lowered in FIRST_NAMES:
        return FIRST_NAMES.index(lowered) - len(FIRST_NAMES)
    for rank, word in enumerate(IMPORTANT_WORDS):
        if word in lowered:
            return rank
    return len(IMPORTANT_WORDS)


def _scalars_inline(value: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k} {v / 1e9:.2f} s"
        if str(k).endswith("_ns") and isinstance(v, int)
        else f"{k} {_scalar(v)}"
        for k, v in value.items()
        if _is_scalar(v)
    )


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return _short(value)
    return _short(_json(value))


def _json(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "), default=str)


def _short(text: str, limit: int = TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
