"""The shopping-cart check (Jepsen's set-full): what became of every element added to a set.

No I/O. For each key, reads are ordered by invocation time. An element is *known* once its add
was acknowledged or a read returned it; from then on every read that starts later should
contain it. Per element:

- **lost**: known, and the latest read that started after that does not contain it;
- **stale**: known, present in the latest read, but missing from some earlier read that
  started after it was known (eventual consistency at work);
- **never read**: acknowledged, but no read started after it was acknowledged;
- **stable**: present in every read from some read on; its *stable latency* is the time from
  the add's invocation to the start of the first read of that unbroken run.

``elements`` lists each element's outcome (the first thousand). Also reported: *unexpected*
elements (read, never added: invalid), adds that *failed* yet were read (a definite failure
that took effect: invalid) and *recovered* adds (unknown outcome, later read). Valid is false
if anything was lost, unexpected or failed-but-read; "unknown" if some acknowledged element
was never read; true otherwise.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from checker.dynamo.records import ClientOp, client_ops
from checker.dynamo.stats import quantiles_ms

LISTED = 50
ELEMENTS_LISTED = 1000


def _element(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_element(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _element(v)) for k, v in value.items()))
    return value


@dataclass(slots=True)
class _Element:
    adds: list[ClientOp] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(op.type == "ok" for op in self.adds)

    @property
    def invoked_ns(self) -> int:
        return min(op.start_ns for op in self.adds)

    def ok_ns(self) -> int | None:
        times = [op.end_ns for op in self.adds if op.type == "ok" and op.end_ns is not None]
        return min(times) if times else None


def check_set(records: list[dict[str, Any]], ops: list[ClientOp] | None = None) -> dict[str, Any]:
    """Run the set-full analysis over a set workload's history records (``ops``: the
    records' `client_ops`, when the caller already has them)."""
    ops = client_ops(records) if ops is None else ops
    by_key: dict[Any, tuple[dict[Any, _Element], list[ClientOp]]] = {}
    for op in ops:
        elements, reads = by_key.setdefault(op.key, ({}, []))
        if op.f == "add":
            elements.setdefault(_element(op.invoke.get("value")), _Element()).adds.append(op)
        elif op.f == "read" and op.type == "ok":
            reads.append(op)

    counts = dict.fromkeys(
        (
            "attempted",
            "acknowledged",
            "lost",
            "stale",
            "never_read",
            "stable",
            "recovered",
            "unexpected",
            "failed_but_read",
        ),
        0,
    )
    listed: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("lost", "stale", "never_read", "unexpected", "failed_but_read")
    }
    latencies_ns: list[int] = []
    per_element: list[dict[str, Any]] = []

    def record(
        key: Any, item: Any, element: _Element, outcome: str, latency_ns: int | None = None
    ) -> None:
        if len(per_element) < ELEMENTS_LISTED:
            entry: dict[str, Any] = {
                "key": key,
                "element": item,
                "acknowledged": element.acknowledged,
                "outcome": outcome,
            }
            if latency_ns is not None:
                entry["stable_latency_ms"] = round(latency_ns / 1e6, 3)
            per_element.append(entry)

    def note(kind: str, entry: dict[str, Any]) -> None:
        counts[kind] += 1
        if len(listed[kind]) < LISTED:
            listed[kind].append(entry)

    for key, (elements, reads) in by_key.items():
        reads.sort(key=lambda op: op.start_ns)
        starts = [op.start_ns for op in reads]
        read_sets = [frozenset(_element(v) for v in (op.value or ())) for op in reads]
        present_in: dict[Any, list[int]] = {}
        for index, contents in enumerate(read_sets):
            for item in contents:
                present_in.setdefault(item, []).append(index)

        for item, indices in present_in.items():
            if item not in elements:
                first = reads[indices[0]]
                note("unexpected", {"key": key, "element": item, "first_read": first.to_json()})

        for item, element in elements.items():
            counts["attempted"] += 1
            present = present_in.get(item, [])
            if (
                any(op.type == "fail" for op in element.adds)
                and present
                and not element.acknowledged
            ):
                note(
                    "failed_but_read",
                    {"key": key, "element": item, "read": reads[present[0]].to_json()},
                )
            if not element.acknowledged:
                if present:
                    counts["recovered"] += 1
                else:
                    record(key, item, element, "never-acknowledged, never read")
                    continue
            else:
                counts["acknowledged"] += 1
            ok_ns = element.ok_ns()
            first_seen_ns = reads[present[0]].end_ns if present else None
            known_candidates = [t for t in (ok_ns, first_seen_ns) if t is not None]
            known_ns = min(known_candidates)
            after = bisect_right(starts, known_ns)  # first read starting after it was known
            if after >= len(reads):
                if element.acknowledged:
                    note("never_read", {"key": key, "element": item, "acknowledged_ns": ok_ns})
                record(key, item, element, "never read")
                continue
            present_after = present[bisect_right(present, after - 1) :]
            last = len(reads) - 1
            if not present_after or present_after[-1] != last:
                note(
                    "lost",
                    {
                        "key": key,
                        "element": item,
                        "known_ns": known_ns,
                        "last_seen_read": reads[present[-1]].to_json() if present else None,
                        "missing_from": reads[last].to_json(),
                    },
                )
                record(key, item, element, "lost")
                continue
            # Walk back over the unbroken run of reads (ending with the last) that hold it.
            run_start = last
            position = len(present_after) - 1
            while position > 0 and present_after[position - 1] == run_start - 1:
                position -= 1
                run_start -= 1
            missing = (len(reads) - after) - len(present_after)
            if missing:
                note(
                    "stale",
                    {
                        "key": key,
                        "element": item,
                        "reads_missing_it": missing,
                        "stable_from": reads[run_start].to_json(),
                    },
                )
            counts["stable"] += 1
            latency_ns = max(0, reads[run_start].start_ns - element.invoked_ns)
            latencies_ns.append(latency_ns)
            record(key, item, element, "stale, then stable" if missing else "stable", latency_ns)

    if counts["lost"] or counts["unexpected"] or counts["failed_but_read"]:
        valid: bool | str = False
    elif counts["never_read"]:
        valid = "unknown"
    else:
        valid = True
    result: dict[str, Any] = {"valid": valid, **counts}
    result["stable_latency_ms"] = quantiles_ms(latencies_ns)
    for name, entries in listed.items():
        if entries:
            result[f"{name}_elements"] = entries
    result["elements"] = per_element
    if counts["attempted"] > len(per_element):
        result["elements_truncated"] = True
    return result
