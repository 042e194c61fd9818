"""The nodes' event journals as the report reads them: ``<node>.events.jsonl`` files of a run
directory (docs/history.md, "Node event journals"), indexed by key, and each event said in a
few plain words.

``load_events`` reads the files (file I/O); ``EventIndex`` and ``describe_event`` are pure.
"""

from __future__ import annotations

import json
import pathlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zynamo.report.fmt import value

EVENTS_SUFFIX = ".events.jsonl"
Event = Mapping[str, Any]


def load_events(run_dir: pathlib.Path) -> list[dict[str, Any]]:
    """Every node's events, in time order; unreadable lines are skipped (a journal is a help
    for the reader, never a reason not to render the report)."""
    events: list[dict[str, Any]] = []
    for path in sorted(run_dir.glob(f"*{EVENTS_SUFFIX}")):
        with path.open(encoding="utf-8") as lines:
            for text in lines:
                try:
                    event = json.loads(text)
                except json.JSONDecodeError:
                    continue
                if isinstance(event, dict) and isinstance(event.get("time"), int):
                    events.append(event)
    events.sort(key=lambda ev: (ev["time"], str(ev.get("node")), ev.get("seq", 0)))
    return events


@dataclass
class EventIndex:
    """Events by key (an event about several keys is filed under each) and by node."""

    events: Sequence[Event]
    by_key: dict[str, list[Event]] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, events: Sequence[Event]) -> EventIndex:
        by_key: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            key = event.get("key")
            if isinstance(key, str):
                by_key[key].append(event)
            for listed in ("keys", "applied"):
                keys = event.get(listed)
                if isinstance(keys, list):
                    for key in dict.fromkeys(k for k in keys if isinstance(k, str)):
                        if event not in by_key[key][-1:]:
                            by_key[key].append(event)
        nodes = sorted({str(ev.get("node")) for ev in events})
        return cls(events, dict(by_key), nodes)

    def for_key(self, key: str) -> list[Event]:
        return self.by_key.get(key, [])


def _targets(targets: object) -> str:
    if not isinstance(targets, list):
        return "?"
    parts = []
    for target in targets:
        if isinstance(target, list) and target:
            node, hint_for = target[0], target[1] if len(target) > 1 else None
            parts.append(f"{node} (fallback for {hint_for})" if hint_for else str(node))
    return ", ".join(parts)


def describe_event(event: Event, key: str | None = None) -> str:
    """One event in plain words, as seen from ``key`` when it concerns several keys."""
    kind = event.get("kind")
    node = event.get("node")
    if kind == "version-created":
        where = f" into its hints for {event['hint_for']}" if event.get("hint_for") else ""
        return (
            f"{node} coordinated a put of {value(event.get('value'), 80)}: new version"
            f" {event.get('dot')}{where}, sent to {_targets(event.get('targets'))}"
            + (f" ({event['siblings']} siblings after it)" if event.get("siblings", 1) > 1 else "")
            + (" — its own copy kept another version" if event.get("kept") is False else "")
        )
    if kind == "replica-write":
        what = "read repair" if event.get("repair") else f"write from {event.get('src')}"
        where = f" as a hint for {event['hint_for']}" if event.get("hint_for") else ""
        if event.get("error"):
            return f"{node} refused the {what}{where}: {event['error']}"
        outcome = "applied" if event.get("applied") else "changed nothing (already covered)"
        return f"{node}: {what}{where} {outcome}"
    if kind == "read-repair":
        return f"{node} read-repaired {_targets(event.get('to'))}"
    if kind in ("hint-delivered", "transfer-delivered"):
        noun = "hint" if kind == "hint-delivered" else "partition transfer"
        to = ", ".join(map(str, event.get("to") or []))
        kept = event.get("kept") or []
        if key is not None and key in kept:
            return f"{node}: {noun} to {to} acknowledged, but kept (it changed meanwhile)"
        count = len(event.get("keys") or [])
        suffix = "" if key is not None else f" ({count} keys)"
        return f"{node}: {noun} to {to} acknowledged; its copy deleted{suffix}"
    if kind == "handoff-received":
        applied = key in (event.get("applied") or []) if key else bool(event.get("applied"))
        return f"{node} merged a handoff from {event.get('src')}" + (
            "" if applied else " (it changed nothing)"
        )
    if kind == "handoff-failed":
        return f"{node}: handoff to {event.get('to')} failed: {event.get('error')}"
    if kind == "hint-absorbed":
        return f"{node} merged its hint for {event.get('owner')} (no longer in the ring)"
    if kind == "aae-diff":
        return f"{node}: anti-entropy with {event.get('peer')} found this key differs"
    if kind == "aae-sync":
        return f"{node}: anti-entropy merged {event.get('peer')}'s state"
    if kind == "reaped":
        return f"{node}: tombstone reaped (round of {event.get('by')})"
    if kind == "ring-changed":
        members = ", ".join(map(str, event.get("members") or []))
        return f"{node} adopted ring version {event.get('version')} ({members})"
    if kind == "peer-down":
        return f"{node} sees {event.get('peer')} down"
    if kind == "peer-up":
        return f"{node} sees {event.get('peer')} up again"
    if kind == "peer-restarted":
        return f"{node} saw {event.get('peer')} restart (generation {event.get('generation')})"
    if kind == "start":
        return (
            f"{node} started, generation {event.get('generation')}, holding"
            f" {event.get('keys')} keys and {event.get('hints')} hints"
        )
    return f"{node}: {kind}"
