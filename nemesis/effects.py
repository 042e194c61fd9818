"""What a fault did, as every fault op's value carries it: ``{"effect": {"summary": ...,
"mattered": bool}}``. The runner prints the summary on the progress line and flags a fault
that did nothing (a partition that cut no link, a kill of nobody, message faults that touched
no message): a run that passes under a fault that changed nothing proves nothing. Pure, no I/O.
"""

from __future__ import annotations

from typing import Any

NO_EFFECT = "did nothing"


def effect(summary: str, mattered: bool) -> dict[str, Any]:
    """The ``effect`` entry of an op's value."""
    return {"summary": summary, "mattered": bool(mattered)}


def describe_effect(f: str, value: Any) -> str | None:
    """The progress line for a completed fault op, or None if its value says nothing of its
    effect: ``"start-partition: 8 links cut"``, or ``"WARNING: start-kill did nothing: ..."``."""
    if not isinstance(value, dict) or not isinstance(value.get("effect"), dict):
        return None
    info = value["effect"]
    summary = str(info.get("summary", ""))
    if info.get("mattered", True):
        return f"nemesis {f}: {summary}"
    return f"WARNING: nemesis {f} {NO_EFFECT}: {summary}"


def fault_effects(history: list[dict[str, Any]]) -> dict[str, Any]:
    """What the run's faults did, from the nemesis completions of a history: each op's
    summary in order, and the ops that did nothing (``results.json``'s ``faults``)."""
    done: list[dict[str, Any]] = []
    for record in history:
        if record.get("process") != "nemesis" or record.get("type") != "info":
            continue
        value = record.get("value")
        if not isinstance(value, dict) or not isinstance(value.get("effect"), dict):
            continue
        info = value["effect"]
        done.append(
            {
                "f": record.get("f"),
                "time": record.get("time"),
                "summary": info.get("summary", ""),
                "mattered": bool(info.get("mattered", True)),
            }
        )
    return {
        "ops": done,
        "did_nothing": [f"{op['f']}: {op['summary']}" for op in done if not op["mattered"]],
    }
