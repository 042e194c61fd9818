"""Deletes across reaping: a value removed by an acknowledged delete must never come back.
No I/O.

The register-with-deletes workload (``workloads.register_delete``) writes unique values; a
delete removes exactly the values its read saw (``removed``), as its tombstone carries that
read's context. After the heal every key is read from all its primaries (the ``final``
reads); a final read that still holds a removed value is a **resurrection**: the tombstone was
lost or reaped before every copy of the value was covered (a replica that missed the delete,
a hint, a handoff). Each is named with the write that made the value, the delete that
removed it and the final read that saw it again. A final value no write ever wrote is
**unexpected**.

Reads during the run are not judged here: under sloppy quorums a read may legitimately see a
replica the delete has not reached yet.
"""

from __future__ import annotations

from typing import Any

MAX_LISTED = 20


def check_deletes(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"valid": ..., "resurrected": [...], "unexpected": [...]}`` over the history."""
    written: dict[tuple[str, Any], dict[str, Any]] = {}  # (key, value) -> its write's invoke
    removed: dict[tuple[str, Any], dict[str, Any]] = {}  # (key, value) -> the delete's ok
    final_reads: list[dict[str, Any]] = []
    deletes = 0
    for record in records:
        f, kind, key = record.get("f"), record.get("type"), str(record.get("key"))
        if f == "write" and kind == "invoke":
            written.setdefault((key, record.get("value")), record)
        elif f == "delete" and kind == "ok":
            deletes += 1
            for value in record.get("removed") or ():
                removed.setdefault((key, value), record)
        elif f == "read" and kind == "ok" and _final(record):
            final_reads.append(record)  # the final reads' processes come after the run's
    resurrected: list[dict[str, Any]] = []
    unexpected: list[dict[str, Any]] = []
    for read in final_reads:
        key = str(read.get("key"))
        for value in read.get("values") or ([] if read.get("value") is None else [read["value"]]):
            if (key, value) not in written:
                unexpected.append({"key": key, "value": value, "read": read.get("index")})
            elif (key, value) in removed:
                delete = removed[(key, value)]
                resurrected.append(
                    {
                        "key": key,
                        "value": value,
                        "write": written[(key, value)].get("index"),
                        "delete": delete.get("index"),
                        "delete_coordinator": delete.get("coordinator"),
                        "final_read": read.get("index"),
                    }
                )
    result: dict[str, Any] = {
        "deletes": deletes,
        "values_removed": len(removed),
        "final_reads": len(final_reads),
        "resurrected_count": len(resurrected),
        "unexpected_count": len(unexpected),
    }
    if not final_reads:
        result["valid"] = "unknown"
        result["reason"] = "the history has no final reads"
        return result
    result["valid"] = not (resurrected or unexpected)
    if resurrected:
        result["resurrected"] = resurrected[:MAX_LISTED]
    if unexpected:
        result["unexpected"] = unexpected[:MAX_LISTED]
    if resurrected or unexpected:
        first = resurrected[0] if resurrected else None
        result["summary"] = (
            f"{len(resurrected)} removed value(s) came back"
            + (
                f" (key {first['key']} value {first['value']}: written at #{first['write']},"
                f" deleted at #{first['delete']}, read again at #{first['final_read']})"
                if first
                else ""
            )
            + (f"; {len(unexpected)} value(s) no write wrote" if unexpected else "")
        )
    return result


def _final(record: dict[str, Any]) -> bool:
    """A final read: marked ``final``, or (older histories) by its process, numbered from
    1,000,000 above the run's."""
    process = record.get("process")
    return bool(record.get("final")) or (isinstance(process, int) and process >= 1_000_000)
