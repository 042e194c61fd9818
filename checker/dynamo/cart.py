"""The cart check: every acknowledged add stays unless removed, and a removed element never
comes back (resurrection). No I/O.

Over the cart workload's history (``add``, ``remove``, ``read`` of a key; elements are unique
per key and never re-added):

- **resurrected**: a remove of ``e`` was acknowledged, and the key's final read (after the
  heal, once every replica agreed) still holds ``e`` — a version carrying the remove was lost
  (or a merge dropped the removes). Named with the remove and the final read.
- **lost**: an add of ``e`` was acknowledged, no remove of ``e`` was attempted (one that failed
  definitely does not count), and the key's final read does not hold ``e``.
- **unexpected**: a read returned an element no add ever tried.

A read that began after a remove's acknowledgement and still returned the element is counted
as **stale**, not a violation: with sloppy quorums and partitions a read may miss a recent
write, as the set check's stale adds. Removes of unknown outcome (``info``) excuse an absence
but never a presence in the final read. Valid when nothing is resurrected, lost or unexpected;
unknown when some key with acknowledged adds has no successful final read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from checker.dynamo.records import ClientOp, client_ops

LISTED = 50


def check_cart(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Resurrected, lost and unexpected cart elements (see the module docstring)."""
    by_key: dict[Any, list[ClientOp]] = defaultdict(list)
    for op in client_ops(records):
        by_key[op.key].append(op)
    findings: dict[str, list[dict[str, Any]]] = {"resurrected": [], "lost": [], "unexpected": []}
    counts = {"adds_acknowledged": 0, "removes_acknowledged": 0, "reads": 0, "stale": 0}
    unknown_keys = []
    for key, ops in by_key.items():
        tried = {op.invoke.get("value") for op in ops if op.f == "add"}
        acked_adds = [op for op in ops if op.f == "add" and op.type == "ok"]
        removes = [op for op in ops if op.f == "remove"]
        acked_removes = [op for op in removes if op.type == "ok"]
        attempted_removes = {op.invoke.get("value") for op in removes if op.type != "fail"}
        reads = [op for op in ops if op.f == "read" and op.type == "ok"]
        finals = [op for op in reads if op.is_final]
        final = set(finals[-1].value or []) if finals else set()
        counts["adds_acknowledged"] += len(acked_adds)
        counts["removes_acknowledged"] += len(acked_removes)
        counts["reads"] += len(reads)
        for read_op in reads:
            for element in set(read_op.value or []) - tried:
                findings["unexpected"].append(
                    {"key": key, "element": element, "read": read_op.to_json()}
                )
        if not finals:
            if acked_adds:
                unknown_keys.append(key)
            continue
        for remove in acked_removes:
            element = remove.invoke.get("value")
            ended = remove.end_ns or 0
            counts["stale"] += any(
                not op.is_final and op.start_ns > ended and element in (op.value or [])
                for op in reads
            )
            if element in final:
                findings["resurrected"].append(
                    {
                        "key": key,
                        "element": element,
                        "remove": remove.to_json(),
                        "final_read": finals[-1].to_json(),
                    }
                )
        for add in acked_adds:
            element = add.invoke.get("value")
            if element not in final and element not in attempted_removes:
                findings["lost"].append(
                    {
                        "key": key,
                        "element": element,
                        "add": add.to_json(),
                        "final_read": finals[-1].to_json(),
                    }
                )
    result: dict[str, Any] = {**counts, **{name: len(found) for name, found in findings.items()}}
    for name, found in findings.items():
        if found:
            result[f"{name}_elements"] = found[:LISTED]
            if len(found) > LISTED:
                result[f"{name}_listed"] = f"{LISTED} of {len(found)}"
    if any(findings.values()):
        result["valid"] = False
    elif unknown_keys:
        result["valid"] = "unknown"
        result["keys_without_final_read"] = sorted(map(str, unknown_keys))
    else:
        result["valid"] = True
    return result
