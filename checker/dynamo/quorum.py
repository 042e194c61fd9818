"""Strict-quorum reads: a read that starts after a write was acknowledged must see it.

No I/O. Applies to pairs that used strict quorums: the read's R plus the write's W exceed N,
and the write was acknowledged by primaries only (no ``fallbacks``). For such a read that
starts after such a write completed ``ok`` (same key), the read must return that write or a
causally newer value:

- with causal contexts (vector clocks, dotted version vectors): the read's ``context``
  dominates the write's ``version``;
- without them (last-write-wins): for an ``add``, the element is in the read's set; for a
  register write, the value read was not written by an operation that completed before the
  acknowledged write began.

Reads answered with fallbacks in their quorum are counted separately (and how many of them
were stale), not called violations. Violations name both operations.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

from checker.dynamo.records import WRITE_FUNCTIONS, ClientOp, client_ops, dominates

LISTED = 50


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


class _WriteGroup:
    """Acknowledged strict writes of one key with one W, sorted by completion time."""

    def __init__(self, writes: list[ClientOp]) -> None:
        self.writes = sorted(writes, key=lambda op: op.end_ns or 0)
        self.ends = [op.end_ns or 0 for op in self.writes]
        # Prefix aggregates: the join of versions, the latest-starting write.
        self.joins: list[dict[str, int]] = [{}]
        self.latest_start: list[ClientOp | None] = [None]
        join: dict[str, int] = {}
        latest: ClientOp | None = None
        for op in self.writes:
            version = op.field("version")
            if isinstance(version, Mapping) and version:
                join = dict(join)
                for node, counter in version.items():
                    if counter > join.get(node, 0):
                        join[node] = counter
            self.joins.append(join)
            if latest is None or op.start_ns > latest.start_ns:
                latest = op
            self.latest_start.append(latest)

    def before(self, time_ns: int) -> int:
        """How many of these writes completed strictly before ``time_ns``."""
        return bisect_left(self.ends, time_ns)


def check_quorum(
    records: list[dict[str, Any]], n: int | None = None, ops: list[ClientOp] | None = None
) -> dict[str, Any]:
    """Check strict-quorum reads against the writes acknowledged before they started
    (``ops``: the records' `client_ops`, when the caller already has them)."""
    ops = client_ops(records) if ops is None else ops
    keys: dict[Any, tuple[list[ClientOp], list[ClientOp]]] = {}
    writers_of_value: dict[tuple[Any, Any], ClientOp] = {}
    saw_quorum_fields = False
    sloppy_writes = 0
    for op in ops:
        if op.field("r") is not None or op.field("w") is not None:
            saw_quorum_fields = True
        if op.f in WRITE_FUNCTIONS and op.f != "add" and op.type != "fail":
            written = None if op.f == "delete" else _hashable(op.invoke.get("value"))
            if op.f == "delete":  # reading nothing after several deletes: the latest explains it
                writers_of_value[(op.key, written)] = op
            else:
                writers_of_value.setdefault((op.key, written), op)
        if op.type != "ok":
            continue
        reads, writes = keys.setdefault(op.key, ([], []))
        if op.f in ("read", "get"):
            reads.append(op)
        elif op.f in WRITE_FUNCTIONS:
            if op.field("fallbacks"):
                sloppy_writes += 1
            elif _int(op.field("w")) is not None:
                writes.append(op)
    if not saw_quorum_fields:
        return {"valid": "unknown", "reason": "no operation records its quorum (r, w, n)"}

    counts = dict.fromkeys(
        (
            "strict_reads",
            "fallback_reads",
            "fallback_reads_stale",
            "not_strict_reads",
            "pairs_checked",
        ),
        0,
    )
    counts["sloppy_writes"] = sloppy_writes
    violations: list[dict[str, Any]] = []
    violation_count = 0
    for key, (reads, writes) in keys.items():
        groups: dict[int, _WriteGroup] = {}
        by_w: dict[int, list[ClientOp]] = {}
        for op in writes:
            by_w.setdefault(_int(op.field("w")) or 0, []).append(op)
        for w, members in by_w.items():
            groups[w] = _WriteGroup(members)
        for read in reads:
            r = _int(read.field("r"))
            read_n = _int(read.field("n")) or n
            if r is None or read_n is None:
                counts["not_strict_reads"] += 1
                continue
            relevant = [group for w, group in groups.items() if r + w > read_n]
            if not relevant:
                counts["not_strict_reads"] += 1
                continue
            fallback = bool(read.field("fallbacks"))
            counts["fallback_reads" if fallback else "strict_reads"] += 1
            stale_write: ClientOp | None = None
            why = ""
            for group in relevant:
                upto = group.before(read.start_ns)
                counts["pairs_checked"] += upto
                if not upto:
                    continue
                stale_write, why = _missed_write(read, group, upto, writers_of_value)
                if stale_write is not None:
                    break
            if stale_write is None:
                continue
            if fallback:
                counts["fallback_reads_stale"] += 1
                continue
            violation_count += 1
            if len(violations) < LISTED:
                violations.append(
                    {"key": key, "read": read.to_json(), "write": stale_write.to_json(), "why": why}
                )
    result: dict[str, Any] = {"valid": violation_count == 0, **counts}
    result["violation_count"] = violation_count
    if violations:
        result["violations"] = violations
    return result


def _missed_write(
    read: ClientOp,
    group: _WriteGroup,
    upto: int,
    writers_of_value: Mapping[tuple[Any, Any], ClientOp],
) -> tuple[ClientOp | None, str]:
    """A write among the first ``upto`` of the group that the read did not observe."""
    context = read.field("context")
    if isinstance(context, Mapping) and group.joins[upto]:
        if dominates(context, group.joins[upto]):
            return None, ""
        for op in reversed(group.writes[:upto]):
            if not dominates(context, op.field("version")):
                return op, "the read's context does not include the write's version"
        return None, ""
    if read.f in ("read", "get") and all(op.f == "add" for op in group.writes[:upto]):
        contents = {_hashable(v) for v in (read.value or ())}
        for op in reversed(group.writes[:upto]):
            if _hashable(op.invoke.get("value")) not in contents:
                return op, "the read's set lacks the acknowledged element"
        return None, ""
    latest = group.latest_start[upto]
    assert latest is not None
    value = _hashable(read.value)
    source = writers_of_value.get((read.key, value))
    if source is None:
        if value is not None:
            return None, ""  # a value nobody wrote: not this check's business
        source_end: float = float("-inf")  # the initial, empty value is older than any write
    else:
        source_end = source.end_ns if source.end_ns is not None else float("inf")
        if source.type == "info":
            source_end = float("inf")
    if latest.start_ns > source_end:
        return latest, "the value read was overwritten before the read began"
    return None, ""
