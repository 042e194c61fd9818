"""What a run leaves behind besides the data: hints still held after recovery, and fault
operations that failed. No I/O.

- ``check_leftovers``: the final ``node-state`` records (docs/history.md: one per node after the
  replicas agreed, with the hints it still holds) must show no hint anywhere. A hint left after
  recovery is a write its owner never got through handoff — redundant at best (anti-entropy or
  read repair delivered the data), a sign of a dead handoff path at worst; either way the
  convergence check, which reads primaries only, cannot see it.
- ``check_nemesis``: a fault operation that failed (a leave that timed out, a restart that never
  came up, a heal that could not reach a node) means the run did not test what it claims, so the
  verdict is unknown, never silently valid; each failure is named.
"""

from __future__ import annotations

from typing import Any


def check_leftovers(records: list[dict[str, Any]]) -> dict[str, Any]:
    """No node holds hints once recovery is over."""
    states = [r for r in records if r.get("f") == "node-state"]
    if not states:
        return {"valid": "unknown", "reason": "the history has no node-state records"}
    holding = {
        str(r.get("node")): r["value"]["hints"]
        for r in states
        if r.get("type") == "ok" and isinstance(r.get("value"), dict) and r["value"].get("hints")
    }
    unreachable = sorted(str(r.get("node")) for r in states if r.get("type") != "ok")
    result: dict[str, Any] = {"nodes": len(states), "hints_left": sum(holding.values())}
    if holding:
        result["valid"] = False
        result["holding"] = holding
        result["summary"] = "hints left after recovery: " + ", ".join(
            f"{node} holds {count}" for node, count in sorted(holding.items())
        )
    elif unreachable:
        result["valid"] = "unknown"
        result["unreachable"] = unreachable
    else:
        result["valid"] = True
    return result


def check_nemesis(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Every fault operation did what it was asked to (else: unknown, naming each failure)."""
    completions = [
        r for r in records if r.get("process") == "nemesis" and r.get("type") != "invoke"
    ]
    failed = [
        {"index": r.get("index"), "f": r.get("f"), "error": r.get("error")}
        for r in completions
        if r.get("error")
    ]
    result: dict[str, Any] = {"operations": len(completions), "failed": len(failed)}
    if failed:
        result["valid"] = "unknown"
        result["failures"] = failed
        result["summary"] = "fault operations failed: " + "; ".join(
            f"{f['f']}: {f['error']}" for f in failed[:3]
        )
    else:
        result["valid"] = True
    return result
