"""Coverage of a run: which protocol paths ran and how often, counted from the nodes' event
journals, and how much the workload's writes contended (from the history). A run that
exercised nothing shows it at a glance: the result lists the paths that never ran. Never
invalid. Pure, no I/O.

Paths (issue 16, item 6): versions created; fallback writes (a replica or coordinator stored a
write for a down primary: a hint); hints delivered (handed to their owner and deleted);
ownership transfers (keys of a moved partition handed to the new owners); read repairs (stale
replicas sent the merged state); anti-entropy keys synced; tombstones reaped; writes that left
siblings and writes that merged them; failure-detector transitions; restarts; forwarded
requests (from the history: a client request the contacted node handed to a coordinator).

Contention (item 1): the fraction of acknowledged or indefinite writes whose invocation
overlapped another write to the same key (either may have been coordinated anywhere).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from checker.dynamo.journals import Event

WRITE_FS = frozenset({"add", "write", "remove", "delete", "cas"})
# The paths a run should normally reach; the summary names those that never ran.
PATHS = (
    "versions_created",
    "fallback_writes",
    "hints_delivered",
    "read_repairs",
    "aae_keys_synced",
    "transfers_delivered",
    "reaps",
    "siblings_created",
    "siblings_merged",
    "peer_down",
    "peer_up",
    "restarts",
    "forwarded_requests",
)


def journal_counts(events: list[Event]) -> dict[str, int]:
    """How often each protocol path ran, from every node's journal."""
    counts: dict[str, int] = dict.fromkeys(PATHS, 0)
    last_siblings: dict[str, int] = {}
    for event in sorted(events, key=lambda e: int(e.get("time", 0))):
        kind = event.get("kind")
        keys = event.get("keys") or ()
        if kind == "version-created":
            counts["versions_created"] += 1
            key = str(event.get("key"))
            siblings = int(event.get("siblings") or 0)
            if event.get("hint_for"):
                counts["fallback_writes"] += 1
            if siblings > 1:
                counts["siblings_created"] += 1
            elif last_siblings.get(key, 0) > 1:
                counts["siblings_merged"] += 1
            last_siblings[key] = siblings
        elif kind == "replica-write" and event.get("hint_for") and not event.get("repair"):
            counts["fallback_writes"] += 1
        elif kind == "hint-delivered":
            counts["hints_delivered"] += len(keys)
        elif kind == "transfer-delivered":
            counts["transfers_delivered"] += len(keys)
        elif kind == "read-repair":
            counts["read_repairs"] += len(event.get("to") or ())
        elif kind == "aae-sync":
            counts["aae_keys_synced"] += len(keys)
        elif kind == "reaped" and event.get("by") == event.get("node"):
            counts["reaps"] += len(keys)  # counted once, by the reaper
        elif kind in ("peer-down", "peer-up"):
            counts[kind.replace("-", "_")] += 1
        elif kind == "start" and int(event.get("generation") or 1) > 1:
            counts["restarts"] += 1
    return counts


def forwarded_requests(records: list[dict[str, Any]]) -> int:
    """Client requests the node they were sent to forwarded to another coordinator (§4.5)."""
    return sum(
        1
        for r in records
        if r.get("type") == "ok"
        and isinstance(r.get("process"), int)
        and r.get("coordinator") is not None
        and r.get("node") is not None
        and r.get("coordinator") != r.get("node")
    )


def contention(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many writes overlapped another write to the same key."""
    invoked: dict[Any, dict[str, Any]] = {}
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for record in records:
        process = record.get("process")
        if not isinstance(process, int) or record.get("f") not in WRITE_FS:
            continue
        if record.get("type") == "invoke":
            invoked[process] = record
        elif (begun := invoked.pop(process, None)) is not None and record.get("type") != "fail":
            spans[str(begun.get("key"))].append((int(begun["time"]), int(record["time"])))
    writes = concurrent = 0
    for key_spans in spans.values():
        key_spans.sort()
        latest_end = -1
        for i, (start, end) in enumerate(key_spans):
            overlaps = latest_end > start or (i + 1 < len(key_spans) and key_spans[i + 1][0] < end)
            concurrent += overlaps
            latest_end = max(latest_end, end)
        writes += len(key_spans)
    return {
        "writes": writes,
        "concurrent_writes": concurrent,
        "concurrent_fraction": round(concurrent / writes, 4) if writes else 0.0,
        "keys_written": len(spans),
    }


def check_coverage(records: list[dict[str, Any]], events: list[Event] | None) -> dict[str, Any]:
    """``{"valid": true, "paths": {...}, "not_exercised": [...], "contention": {...}}``."""
    result: dict[str, Any] = {"valid": True, "contention": contention(records)}
    share = result["contention"]["concurrent_fraction"]
    if not events:
        result["skipped"] = "no node journals were given"
        result["summary"] = f"no journals; concurrent writes {share:.0%}"
        return result
    paths = journal_counts(events)
    paths["forwarded_requests"] = forwarded_requests(records)
    idle = [path for path in PATHS if not paths[path]]
    result["paths"] = paths
    result["not_exercised"] = idle
    # One line of the verdict table: hints stored→delivered, read repairs, anti-entropy
    # keys, reaps, siblings created/merged, concurrent writes; then what never ran.
    result["summary"] = (
        f"hints {paths['fallback_writes']}→{paths['hints_delivered']}"
        f" rr {paths['read_repairs']} aae {paths['aae_keys_synced']} reaps {paths['reaps']}"
        f" sib {paths['siblings_created']}/{paths['siblings_merged']} conc {share:.0%}"
        + (f"; idle: {', '.join(idle)}" if idle else "")
    )
    return result
