"""Lost versions: every acknowledged write's version is still there after recovery, or causally
superseded by one that is.

The set checker judges *elements*: an element that a version carried survives inside any later
read-modify-write that read it, so a version dropped on the way (a replica that merged it away,
a hint never handed over) goes unseen as long as someone read it first. This checker judges the
versions themselves, as the simulator's own protocol tests do. No I/O.

Inputs (docs/history.md): each ``ok`` write (``f`` ``add`` or ``write``, or any op carrying a
``version``) records the version its coordinator created, a clock ``{node: counter}``; the final
``replica-state`` dumps record, per replica, the clocks of the siblings it holds (``clocks``).
A write is **present** when a sibling's clock equals its version, **superseded** when a
sibling's clock dominates it (every counter at least as high, not equal), and **lost**
otherwise — judged against the union of the key's replicas in its last dump round, which agree
once the key has converged. Writes whose version is empty (``lww``, whose versions carry no
clocks) are not judged, and say so. A key with no usable dump is unknown.

The paper's vector clocks lose a write by design when two writes get the same clock: the
survivor's clock equals the lost one's, so this check counts it present — the element check
(``set``) is what catches that loss.
"""

from __future__ import annotations

from typing import Any

LISTED = 50


def _is_clock(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(c, int) for k, c in value.items())
    )


def _dominates(clock: dict[str, int], version: dict[str, int]) -> bool:
    return clock != version and all(clock.get(node, 0) >= c for node, c in version.items())


def _final_clocks(records: list[dict[str, Any]]) -> dict[Any, list[dict[str, int]] | None]:
    """key -> the clocks its replicas hold in its last dump round (None: no usable dump)."""
    last_round: dict[Any, int] = {}
    for record in records:
        if record.get("f") == "replica-state":
            key = record.get("key")
            last_round[key] = max(last_round.get(key, 0), int(record.get("round", 0)))
    clocks: dict[Any, list[dict[str, int]] | None] = {}
    for record in records:
        key = record.get("key")
        if record.get("f") != "replica-state" or int(record.get("round", 0)) != last_round[key]:
            continue
        held = record.get("clocks")
        known = clocks.setdefault(key, [])
        if record.get("type") != "ok" or not isinstance(held, list):
            clocks[key] = None  # an unreachable replica, or a dump without clocks
        elif known is not None:
            known.extend(c for c in held if isinstance(c, dict))
    return clocks


def check_lost_versions(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Acknowledged versions that are neither present nor superseded after recovery."""
    final = _final_clocks(records)
    writes = [
        r
        for r in records
        if r.get("type") == "ok" and "version" in r and r.get("f") != "replica-state"
    ]
    judged = unjudged = 0
    lost: list[dict[str, Any]] = []
    unknown_keys: set[Any] = set()
    for write in writes:
        version = write["version"]
        if not _is_clock(version):
            unjudged += 1
            continue
        held = final.get(write.get("key"))
        if held is None:
            unknown_keys.add(write.get("key"))
            continue
        judged += 1
        if any(c == version or _dominates(c, version) for c in held):
            continue
        lost.append(
            {
                "key": write.get("key"),
                "value": write.get("value"),
                "version": version,
                "index": write.get("index"),
                "process": write.get("process"),
                "coordinator": write.get("coordinator"),
                "final_clocks": held,
            }
        )
    result: dict[str, Any] = {
        "acknowledged_versions": judged,
        "lost": len(lost),
        "not_judged": unjudged,
    }
    if lost:
        result["valid"] = False
        result["lost_versions"] = lost[:LISTED]
        if len(lost) > LISTED:
            result["lost_versions_listed"] = f"{LISTED} of {len(lost)}"
    elif unknown_keys:
        result["valid"] = "unknown"
        result["unknown_keys"] = sorted(map(str, unknown_keys))
        result["reason"] = "no final replica dump with clocks for some written keys"
    else:
        result["valid"] = True
    if unjudged and not judged:
        result["note"] = "versions carry no clocks (lww): nothing to judge"
    return result
