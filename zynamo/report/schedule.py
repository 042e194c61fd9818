"""The report's schedule card: the run's schedule (``schedule.json``) as a table — time, fault,
targets, what it did — with the operations per worker in one line each, and, for a shrunk run,
what shrinking removed and how long it took.

``schedule_section(data)`` takes the parsed ``schedule.json`` (or None: no card) and returns an
HTML fragment in the index page's style; everything from the run is escaped. Pure, no I/O.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from zynamo.schedule import RunSchedule
from zynamo.schedule_summary import describe_fault, summary

MAX_ROWS = 200  # nemesis steps shown; a longer schedule says how many more there are


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _targets(value: Mapping[str, Any]) -> str:
    if "grudge" in value:
        return "grudge " + json.dumps(value["grudge"], separators=(",", ":"))
    targets = value.get("targets")
    if isinstance(targets, list):
        return ", ".join(str(t) for t in targets)
    return "" if targets is None else str(targets)


def _shrink_card(info: Mapping[str, Any]) -> str:
    before, after = info.get("from", {}), info.get("to", {})
    rows = "".join(
        f"<tr><td>{_e(label)}</td><td class=num>{_e(before.get(field, ''))}</td>"
        f"<td class=num>{_e(after.get(field, ''))}</td></tr>"
        for label, field in (
            ("faults", "faults"),
            ("operations", "operations"),
            ("processes", "processes"),
            ("keys", "keys"),
            ("nodes", "nodes"),
            ("time limit (s)", "time_limit_s"),
        )
    )
    failure = info.get("failure", {})
    kept = str(failure.get("checker", "?")) + (
        f" with {failure['anomaly']} > 0" if failure.get("anomaly") else ""
    )
    spent = ""
    if info.get("budget_spent"):
        spent = " (stopped by its time limit: the best found by then)"
    return (
        "<h2>Shrunk</h2>"
        f"<p>From <code>{_e(info.get('source', ''))}</code>: kept the failure {_e(kept)};"
        f" {_e(info.get('candidates', '?'))} candidate runs in the simulator,"
        f" {_e(info.get('elapsed_s', '?'))} s{_e(spent)}.</p>"
        "<table><tr><th>part</th><th class=num>before</th><th class=num>after</th></tr>"
        f"{rows}</table>"
    )


def schedule_section(data: Mapping[str, Any] | None) -> str:
    """The schedule card of the index page; empty when the run has no schedule."""
    if not data:
        return ""
    try:
        schedule = RunSchedule.from_json(data)
    except (ValueError, KeyError, TypeError) as err:
        return f"<div class=card><h2>Schedule</h2><p class=warn>unreadable: {_e(err)}</p></div>"
    parts = ["<div class=card>"]
    if schedule.shrink:
        parts.append(_shrink_card(schedule.shrink))
    parts.append(f"<h2>Schedule</h2><p>{_e(summary(schedule))}</p>")
    steps = schedule.faults
    if steps:
        rows = "".join(
            f"<tr><td class=num>{step.at_s:.3f}</td><td>{_e(step.f)}</td>"
            f"<td>{_e(_targets(step.value))}</td><td>{_e(describe_fault(step))}</td></tr>"
            for step in steps[:MAX_ROWS]
        )
        more = (
            f"<p class=note>… and {len(steps) - MAX_ROWS} more steps in schedule.json</p>"
            if len(steps) > MAX_ROWS
            else ""
        )
        parts.append(
            "<table><tr><th class=num>time (s)</th><th>fault</th><th>targets</th>"
            f"<th>what it did</th></tr>{rows}</table>{more}"
        )
    streams = [stream for stream in schedule.processes if stream.ops]
    if streams:
        rows = "".join(
            f"<tr><td class=num>{stream.worker}</td><td class=num>{len(stream.ops)}</td>"
            f"<td class=num>{stream.ops[0].at_s:.3f}–{stream.ops[-1].at_s:.3f}</td>"
            f"<td>{_e(', '.join(sorted({op.key for op in stream.ops}))[:300])}</td></tr>"
            for stream in streams
        )
        parts.append(
            "<details><summary>operations per worker</summary><table><tr>"
            "<th class=num>worker</th><th class=num>operations</th><th class=num>from–to (s)</th>"
            f"<th>keys</th></tr>{rows}</table></details>"
        )
    parts.append(
        "<p class=note>Replay it with <code>zynamo replay DIR</code>; shrink a failing run with"
        " <code>zynamo shrink DIR</code>.</p></div>"
    )
    return "".join(parts)
