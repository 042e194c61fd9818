"""Placement in a calm cluster: while no fault has started yet, every node is up and every
node sees every other, so the protocol has no reason to leave the primaries — an acknowledged
write that a fallback held, or a cluster that turns most requests away, means the placement
path is broken even when every write is later handed to its primaries and nothing is lost.

(Whether each replica files a write as its coordinator asked — a hint for the primary it
stands in for — is a protocol invariant judged at any time from the journals:
``checker.dynamo.invariants``, ``misfiled-write``.)

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

from checker.dynamo.records import WRITE_FUNCTIONS, client_ops

SETTLE_NS = 2_000_000_000  # the first heartbeats, before which a peer may not be seen up yet
CALM_FLOOR = 0.5  # measured: a calm cluster answers every operation in the default suite
LISTED = 20


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


def check_placement(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Acknowledged writes stay on the primaries, and most operations succeed, while no fault
    has started."""
    findings: list[dict[str, Any]] = []
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
        result["valid"] = True
        result["note"] = "no operation completed before the first fault: nothing judged"
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
