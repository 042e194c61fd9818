"""Statistics and performance of a run: counts, latencies, throughput, availability.

No I/O. Per operation function: how many completed ok / fail / info; latency quantiles of the
ok ones (completion minus invocation, in ms); throughput (ok ops per second between the first
invocation and the last completion); and availability (the ok fraction of completed client
operations) for operations invoked inside nemesis fault intervals and outside them. Purely
informative: the result is always valid.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from checker.dynamo.records import ClientOp, FaultInterval, client_ops, fault_intervals

QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


def quantiles_ms(values_ns: list[int]) -> dict[str, float | int]:
    """``{"count", "p50", "p90", "p99", "max"}`` of nanosecond values, in milliseconds
    (nearest-rank quantiles; only ``count`` when there are none)."""
    if not values_ns:
        return {"count": 0}
    ordered = sorted(values_ns)
    out: dict[str, float | int] = {"count": len(ordered)}
    for name, q in QUANTILES:
        rank = min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))
        out[name] = round(ordered[rank] / 1e6, 3)
    out["max"] = round(ordered[-1] / 1e6, 3)
    return out


def _inside(intervals: list[FaultInterval], starts: list[int], time_ns: int) -> bool:
    # Intervals are sorted by start; any interval starting at or before time_ns may hold it.
    upto = bisect_right(starts, time_ns)
    return any(intervals[i].contains(time_ns) for i in range(upto))


def check_stats(records: list[dict[str, Any]], ops: list[ClientOp] | None = None) -> dict[str, Any]:
    """Counts per function, latency quantiles, throughput and availability (``ops``: the
    records' `client_ops`, when the caller already has them)."""
    ops = client_ops(records) if ops is None else ops
    intervals = fault_intervals(records)
    starts = [interval.start_ns for interval in intervals]
    by_f: dict[str, dict[str, Any]] = {}
    latencies: dict[str, list[int]] = {}
    availability = {"inside": [0, 0], "outside": [0, 0]}  # [ok, total]
    first_ns: int | None = None
    last_ns: int | None = None
    ok_total = 0
    for op in ops:
        counts = by_f.setdefault(op.f, {"ok": 0, "fail": 0, "info": 0})
        counts[op.type] += 1
        first_ns = op.start_ns if first_ns is None else min(first_ns, op.start_ns)
        if op.end_ns is not None:
            last_ns = op.end_ns if last_ns is None else max(last_ns, op.end_ns)
        if op.type == "ok" and op.end_ns is not None:
            ok_total += 1
            latencies.setdefault(op.f, []).append(op.end_ns - op.start_ns)
        if op.is_final:
            continue  # the final reads after the heal say nothing about availability
        where = "inside" if _inside(intervals, starts, op.start_ns) else "outside"
        availability[where][1] += 1
        if op.type == "ok":
            availability[where][0] += 1

    for f, counts in by_f.items():
        counts["latency_ms"] = quantiles_ms(latencies.get(f, []))
    duration_s = 0.0
    if first_ns is not None and last_ns is not None and last_ns > first_ns:
        duration_s = (last_ns - first_ns) / 1e9
    return {
        "valid": True,
        "ops": len(ops),
        "by_f": by_f,
        "latency_ms": quantiles_ms([v for values in latencies.values() for v in values]),
        "duration_s": round(duration_s, 6),
        "throughput_ok_per_s": round(ok_total / duration_s, 3) if duration_s else None,
        "availability": {
            where: {
                "ok": ok,
                "total": total,
                "ok_fraction": round(ok / total, 6) if total else None,
            }
            for where, (ok, total) in availability.items()
        },
        "faults": [interval.to_json() for interval in intervals],
    }
