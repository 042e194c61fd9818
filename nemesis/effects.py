"""What a fault did, as every fault op's value carries it: ``{"effect": {"summary": ...,
"mattered": bool}}``. The runner prints the summary on the progress line and flags a fault
that did nothing (a partition that cut no link, a kill of nobody, message faults that touched
no message): a run that passes under a fault that changed nothing proves nothing. A kill (or a
disk fault, which crashes its targets) also says what it cost the clients: the requests that
failed while its nodes were down (``nemesis.downtime``). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nemesis.downtime import UP_KEYS, KillCost, cost_so_far, kill_costs

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


def progress_line(f: str, value: Any, history: Sequence[Mapping[str, Any]]) -> str | None:
    """``describe_effect``, and for a stop that brings killed nodes back, the requests that
    failed while they were down as far as ``history`` (the run so far) tells:
    ``nemesis stop-kill: n3: down 23.3 s — 412 requests failed (…) so far``."""
    line = describe_effect(f, value)
    if line is None or f not in UP_KEYS:
        return line
    cost = cost_so_far(history)
    return line if cost is None else f"{line} — {cost}"


def fault_effects(history: list[dict[str, Any]]) -> dict[str, Any]:
    """What the run's faults did, from the nemesis completions of a history: each op's
    summary in order (a stop that brought killed nodes back with the requests that failed
    while they were down), the ops that did nothing, and each kill's cost (``kills``):
    ``results.json``'s ``faults``."""
    all_costs = kill_costs(history)
    costs: dict[tuple[str, Any], KillCost] = {
        (f"stop-{c.fault}", c.until_ns): c for c in all_costs if c.until_ns is not None
    }
    done: list[dict[str, Any]] = []
    for record in history:
        if record.get("process") != "nemesis" or record.get("type") != "info":
            continue
        value = record.get("value")
        if not isinstance(value, dict) or not isinstance(value.get("effect"), dict):
            continue
        info = value["effect"]
        entry = {
            "f": record.get("f"),
            "time": record.get("time"),
            "summary": info.get("summary", ""),
            "mattered": bool(info.get("mattered", True)),
        }
        cost = costs.get((str(record.get("f")), record.get("time")))
        if cost is not None:
            entry["summary"] = f"{entry['summary']} — {cost.cost()}"
            entry["requests_failed"] = cost.requests_failed
        done.append(entry)
    return {
        "ops": done,
        "did_nothing": [f"{op['f']}: {op['summary']}" for op in done if not op["mattered"]],
        "kills": [cost.to_json() for cost in all_costs],
    }


KILL_LINES = 10  # a long run kills often: the rest are in results.json


def kill_lines(kills: Sequence[Mapping[str, Any]]) -> list[str]:
    """What each kill cost, for the end of a run: a line per kill (``results.json``'s
    ``faults.kills`` summaries), the first ``KILL_LINES`` of them and how many more there were."""
    lines = [str(kill.get("summary", "")) for kill in kills[:KILL_LINES]]
    if len(kills) > KILL_LINES:
        failed = sum(int(kill.get("requests_failed", 0)) for kill in kills)
        lines.append(
            f"… and {len(kills) - KILL_LINES} more kills (results.json, faults.kills):"
            f" {failed:,} requests failed while nodes were down in all"
        )
    return lines
