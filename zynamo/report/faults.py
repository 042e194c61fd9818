"""Nemesis faults in words: ``kill n1, n5``, ``partition n1,n2 | n3`` (the sides that still
hear each other) or the links cut, and which faults were active at a moment. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zynamo.report.fmt import value
from zynamo.report.history import FaultInterval


def describe_fault(fault: str, what: object) -> str:
    """``kill n1, n5`` or ``partition n1,n2,n3 | n4,n5`` from a fault interval's value."""
    if isinstance(what, Mapping):
        drifts = what.get("drifts_ppm")
        if isinstance(drifts, Mapping) and drifts:
            rates = ", ".join(f"{node} {ppm:+,} ppm" for node, ppm in drifts.items())
            return f"{fault} drift {rates}"
        nodes = what.get("nodes") or what.get("targets")
        if isinstance(nodes, list):
            return f"{fault} {', '.join(map(str, nodes))}"
        grudge = what.get("grudge")
        if isinstance(grudge, Mapping):
            return f"{fault} {_components(grudge)}"
        if "offset_ms" in what or "offsets" in what:
            return f"{fault} {value(what.get('offsets', what.get('offset_ms')), 50)}"
    return fault if what is None else f"{fault} {value(what, 50)}"


def _components(grudge: Mapping[str, Any]) -> str:
    """A grudge as the groups of nodes that still hear each other (``n1,n2 | n3``)."""
    nodes = sorted(set(grudge) | {p for peers in grudge.values() for p in peers})
    groups: list[list[str]] = []
    for node in nodes:
        blocked = set(grudge.get(node, []))
        for group in groups:
            if not blocked & set(group) and not any(node in grudge.get(g, []) for g in group):
                group.append(node)
                break
        else:
            groups.append([node])
    partitioned = all(
        b in grudge.get(a, []) or a in grudge.get(b, [])
        for g in groups
        for h in groups
        if g is not h
        for a in g
        for b in h
    )
    if len(groups) == 1 or not partitioned:
        cut = sorted(f"{a}→{b}" for a, peers in grudge.items() for b in peers)
        return "cut " + ", ".join(cut[:6]) + (" …" if len(cut) > 6 else "")
    return " | ".join(",".join(g) for g in groups)


def active_faults(intervals: Sequence[FaultInterval], time_ns: int) -> list[FaultInterval]:
    t = time_ns / 1e9
    return [i for i in intervals if i.start_s <= t <= i.end_s]


def fault_label(intervals: Sequence[FaultInterval], time_ns: int) -> str:
    return "; ".join(describe_fault(i.fault, i.value) for i in active_faults(intervals, time_ns))
