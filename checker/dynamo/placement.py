"""Placement in a calm cluster: while no fault has started yet, every node is up and every
node sees every other, so the protocol has no reason to leave the primaries — an acknowledged
write that a fallback held, or a cluster that turns most requests away, means the placement
path is broken even when every write is later handed to its primaries and nothing is lost.

From the nodes' event journals, at any time: a replica that took a write for a down primary
files it as a hint for that primary (``misfiled-hint``: the coordinator's ``version-created``
event names each target and whom it stands in for; the target's ``replica-write`` of the same
request must carry the same ``hint_for``). A fallback that keeps such a write as its own never
hands it back, and nothing else notices while the coordinator's copy survives.

The calm window runs from ``SETTLE_NS`` after the start (the failure detectors have heard from
every peer) to the first nemesis operation (the whole workload when the run has no faults);
final reads are not in it. Two findings:

- ``fallback-write``: an acknowledged write whose coordinator reports fallbacks among the
  replicas that took it (``fallbacks`` of the completion, docs/history.md);
- ``calm-availability``: fewer than ``CALM_FLOOR`` of the client operations that completed in
  the window succeeded (a strict-primaries cluster whose puts never reach a primary refuses
  every write; one whose puts never leave the coordinator times out on every write).

Pure, no I/O.
"""

from __future__ import annotations

from typing import Any

from checker.dynamo.journals import Event
from checker.dynamo.records import WRITE_FUNCTIONS, client_ops

SETTLE_NS = 2_000_000_000  # the first heartbeats, before which a peer may not be seen up yet
CALM_FLOOR = 0.5  # measured: a calm cluster answers every operation in the default suite
LISTED = 20
CLOCK_SLACK_NS = 50_000_000  # how far two nodes' journal clocks may disagree once aligned


def _calm_end_ns(records: list[dict[str, Any]]) -> int | None:
    """When the first fault started (None: the run had none)."""
    times = [
        int(r.get("time", 0))
        for r in records
        if r.get("process") == "nemesis"
        and r.get("type") == "invoke"
        and str(r.get("f", "")).startswith("start")
    ]
    return min(times) if times else None


def misfiled_hints(events: list[Event]) -> tuple[list[dict[str, Any]], int]:
    """Replica writes filed otherwise than their coordinator asked (a hint kept as the node's
    own, or a primary's copy filed as a hint); (the first of them, how many).

    A node numbers its requests afresh when it restarts, so a (coordinator, request) pair is
    matched with the latest ``version-created`` of that pair at or before the write (within
    ``CLOCK_SLACK_NS`` of the journals' aligned clocks)."""
    asked: dict[tuple[str, Any], list[tuple[int, dict[str, Any]]]] = {}
    for event in events:
        if event.get("kind") == "version-created" and isinstance(event.get("targets"), list):
            targets = {
                str(t[0]): t[1] for t in event["targets"] if isinstance(t, list) and len(t) == 2
            }
            key = (str(event.get("node")), event.get("req"))
            asked.setdefault(key, []).append((int(event.get("time", 0)), targets))
    for created in asked.values():
        created.sort(key=lambda pair: pair[0])
    wrong: list[dict[str, Any]] = []
    count = 0
    for event in events:
        if event.get("kind") != "replica-write" or event.get("repair"):
            continue
        written = int(event.get("time", 0))
        before = [
            targets
            for at, targets in asked.get((str(event.get("src")), event.get("req")), ())
            if at <= written + CLOCK_SLACK_NS
        ]
        node = str(event.get("node"))
        wanted = before[-1] if before else None
        if wanted is None or node not in wanted or wanted[node] == event.get("hint_for"):
            continue
        count += 1
        if len(wrong) < LISTED:
            wrong.append(
                {
                    "node": node,
                    "key": event.get("key"),
                    "coordinator": event.get("src"),
                    "req": event.get("req"),
                    "asked_hint_for": wanted[node],
                    "filed_hint_for": event.get("hint_for"),
                    "time": event.get("time"),
                }
            )
    return wrong, count


def check_placement(
    records: list[dict[str, Any]], events: list[Event] | None = None
) -> dict[str, Any]:
    """Acknowledged writes stay on the primaries, and most operations succeed, while no fault
    has started; every replica files a write as its coordinator asked (``events``: the nodes'
    journals, when there are)."""
    findings: list[dict[str, Any]] = []
    if events:
        wrong, count = misfiled_hints(events)
        if wrong:
            first = wrong[0]
            findings.append(
                {
                    "kind": "misfiled-hint",
                    "count": count,
                    "text": f"{count} replica writes filed otherwise than their coordinator"
                    f" asked: {first['node']} filed {first['key']} as"
                    f" {first['filed_hint_for'] or 'its own'}, asked to keep it as a hint for"
                    f" {first['asked_hint_for'] or 'nobody (a primary copy)'}",
                    "writes": wrong,
                }
            )
    end = _calm_end_ns(records)
    calm = [
        op
        for op in client_ops(records)
        if not op.is_final
        and op.start_ns >= SETTLE_NS
        and (end is None or (op.end_ns is not None and op.end_ns < end))
    ]
    completed = [op for op in calm if op.complete is not None]
    result: dict[str, Any] = {"calm_ops": len(completed)}
    if end is not None:
        result["calm_until_ns"] = end
    if not completed:
        result["valid"] = not findings
        result["note"] = "no operation completed before the first fault: nothing judged"
        if findings:
            result["findings"] = findings
        return result
    ok = sum(1 for op in completed if op.type == "ok")
    result["calm_ok_fraction"] = round(ok / len(completed), 4)
    misplaced = [
        op
        for op in completed
        if op.type == "ok" and op.f in WRITE_FUNCTIONS and op.field("fallbacks")
    ]
    if misplaced:
        findings.append(
            {
                "kind": "fallback-write",
                "count": len(misplaced),
                "text": f"{len(misplaced)} writes acknowledged by fallbacks while every node"
                " was up and no fault had started",
                "writes": [
                    {**op.to_json(), "fallbacks": op.field("fallbacks")}
                    for op in misplaced[:LISTED]
                ],
            }
        )
    if ok / len(completed) < CALM_FLOOR:
        findings.append(
            {
                "kind": "calm-availability",
                "text": f"only {ok} of {len(completed)} operations succeeded before the first"
                f" fault (floor {CALM_FLOOR:.0%})",
                "failed": [op.to_json() for op in completed if op.type != "ok"][:LISTED],
            }
        )
    result["valid"] = not findings
    if findings:
        result["findings"] = findings
    return result
