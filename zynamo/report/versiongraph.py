"""A key's version graph, drawn as SVG: every version the nodes created (from the journal's
``version-created`` events, else from the history's acknowledged writes), on a time axis with
one lane per coordinator, an arrow from each version to the versions written with a context
that covers it (the transitive reduction: networkx), and the versions holding the finding's
element in green, those created after it without it in red.

Under last-write-wins there are no contexts: the versions stand alone, ordered by time, and the
page says the highest timestamp wins. Bounded: at most ``MAX_VERSIONS`` versions, those nearest
the finding. Pure: events or operations in, SVG text out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from zynamo.report.fmt import e, seconds, value
from zynamo.report.history import Operation

MAX_VERSIONS = 80
LANE_PX = 46
LEFT_PX = 60
WIDTH_PX = 1180


@dataclass(frozen=True)
class Version:
    name: str
    node: str
    time_ns: int
    clock: Mapping[str, int]  # the version's causal past, its own dot included
    value: Any


def _dot_clock(dot: str, context: Mapping[str, int]) -> dict[str, int]:
    clock = {str(k): int(v) for k, v in context.items() if isinstance(v, int)}
    actor, sep, counter = dot.rpartition(":")
    if sep and counter.isdigit():
        clock[actor] = max(clock.get(actor, 0), int(counter))
    return clock


def version_clock(event: Mapping[str, Any]) -> dict[str, int]:
    """A ``version-created`` event's causal past, its own dot included (empty under lww)."""
    raw = event.get("context")
    context: Mapping[str, int] = raw if isinstance(raw, Mapping) else {}
    return _dot_clock(str(event.get("dot")), context)


def versions_from_events(events: Sequence[Mapping[str, Any]]) -> list[Version]:
    out = []
    for ev in events:
        if ev.get("kind") != "version-created":
            continue
        dot = str(ev.get("dot"))
        raw = ev.get("context")
        context: Mapping[str, int] = raw if isinstance(raw, Mapping) else {}
        out.append(
            Version(
                dot, str(ev.get("node")), int(ev["time"]), _dot_clock(dot, context), ev.get("value")
            )
        )
    return out


def versions_from_ops(ops: Sequence[Operation]) -> list[Version]:
    out = []
    for op in ops:
        done = op.completion or {}
        clock = done.get("version")
        if op.type != "ok" or op.f not in ("add", "write") or not isinstance(clock, Mapping):
            continue
        if not clock:
            continue
        name = ",".join(f"{k}:{v}" for k, v in sorted(clock.items()))
        out.append(
            Version(
                name,
                str(done.get("coordinator")),
                op.end_ns,
                dict(clock),
                op.invocation.get("value"),
            )
        )
    return out


def descends(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """Whether ``a`` has seen everything ``b`` has (and is not ``b``)."""
    return a != b and all(a.get(k, 0) >= v for k, v in b.items())


def _holds(data: object, element: object) -> bool:
    return element in data if isinstance(data, list) else data == element


def render_version_graph(
    versions: Sequence[Version], element: object = None, focus_ns: int | None = None
) -> str:
    """The SVG (and a one-line caption) of ``versions``; empty text when there are none."""
    if not versions:
        return ""
    total = len(versions)
    chosen = list(versions)
    if total > MAX_VERSIONS:
        centre = focus_ns if focus_ns is not None else chosen[-1].time_ns
        chosen = sorted(chosen, key=lambda v: abs(v.time_ns - centre))[:MAX_VERSIONS]
    chosen.sort(key=lambda v: v.time_ns)
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(range(len(chosen)))
    causal = any(len(v.clock) for v in chosen)
    if causal:
        for i, older in enumerate(chosen):
            for j, newer in enumerate(chosen):
                if i != j and descends(newer.clock, older.clock):
                    graph.add_edge(i, j)
        if nx.is_directed_acyclic_graph(graph):
            graph = nx.transitive_reduction(graph)
    lanes = sorted({v.node for v in chosen})
    t0, t1 = chosen[0].time_ns, chosen[-1].time_ns
    span = max(t1 - t0, 1)
    usable = WIDTH_PX - LEFT_PX - 40

    # Versions close in time would overlap: spread them by order as well as by time.
    def x_of(index: int) -> float:
        by_time = (chosen[index].time_ns - t0) / span
        by_order = index / max(len(chosen) - 1, 1)
        return LEFT_PX + 20 + usable * (0.5 * by_time + 0.5 * by_order)

    def y_of(index: int) -> float:
        return 30 + LANE_PX * lanes.index(chosen[index].node)

    first_holding = next(
        (i for i, v in enumerate(chosen) if element is not None and _holds(v.value, element)), None
    )
    height = 50 + LANE_PX * len(lanes)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH_PX}' height='{height}'"
        f" viewBox='0 0 {WIDTH_PX} {height}' class=vgraph>",
        "<defs><marker id=arrow viewBox='0 0 8 8' refX=8 refY=4 markerWidth=7 markerHeight=7"
        " orient=auto><path d='M0,0 L8,4 L0,8 z' fill='#8c959f'/></marker></defs>",
    ]
    for lane, node in enumerate(lanes):
        y = 30 + LANE_PX * lane
        parts.append(
            f"<line x1={LEFT_PX} y1={y} x2={WIDTH_PX - 10} y2={y} stroke='#eaeef2'/>"
            f"<text x=4 y={y + 4}>{e(node)}</text>"
        )
    for a, b in graph.edges:
        x1, y1, x2, y2 = x_of(a), y_of(a), x_of(b), y_of(b)
        parts.append(
            f"<line x1={x1:.1f} y1={y1:.1f} x2={x2 - 7:.1f} y2={y2:.1f} stroke='#8c959f'"
            " marker-end='url(#arrow)'/>"
        )
    for i, version in enumerate(chosen):
        colour = "#6e7781"
        if element is not None:
            if _holds(version.value, element):
                colour = "#1a7f37"
            elif first_holding is not None and i > first_holding:
                colour = "#cf222e"
        cx, cy = x_of(i), y_of(i)
        at = seconds(version.time_ns)
        tip = f"{version.name} by {version.node} at {at}: {value(version.value, 200)}"
        parts.append(
            f"<g><title>{e(tip)}</title><circle cx={cx:.1f} cy={cy:.1f} r=6 fill='{colour}'/>"
            f"<text x={cx + 7:.1f} y={cy - 8:.1f} font-size=10>{e(version.name[-14:])}</text></g>"
        )
    parts.append(
        f"<text x={LEFT_PX} y={height - 6} fill='#656d76'>{seconds(t0)}</text>"
        f"<text x={WIDTH_PX - 70} y={height - 6} fill='#656d76'>{seconds(t1)}</text></svg>"
    )
    caption = (
        f"{len(chosen)} of {total} versions (those nearest the finding)"
        if total > len(chosen)
        else f"{total} versions"
    )
    if not causal:
        caption += (
            "; no causal contexts (last-write-wins): the highest timestamp wins,"
            " nothing links the versions"
        )
    elif element is not None:
        caption += f"; green: holds {value(element)}, red: created later without it"
    return f"<p class=note>{e(caption)}. Hover a version for its value.</p>" + "".join(parts)
