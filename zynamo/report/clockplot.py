"""The clock plot: each node's clock offset (ms against true time) over the run, one line per
node — steps where a bump, strobe, scramble or reset set it, slopes while it drifted, a gap
while the node was down — with the nemesis faults shaded and labelled along the top as the
performance plots shade them.

A static SVG drawn by hand (like the linearizability diagram) rather than by matplotlib, so the
index page can hold it inline: a person hovering a line reads its node, and a test can count
the lines. Pure: the series (``nemesis.clock_history``) and the fault intervals in, SVG text
out; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from nemesis.clock_history import ClockSeries
from zynamo.report.fmt import e
from zynamo.report.history import FaultInterval
from zynamo.report.plots import fault_color

_Scale = Callable[[float], float]  # seconds or milliseconds to pixels

WIDTH_PX = 1180
HEIGHT_PX = 360
LEFT_PX = 78
RIGHT_PX = 150  # the legend
TOP_PX = 14
BOTTOM_PX = 44
LANE_PX = 13  # one lane per fault kind along the top, as the other plots have
# matplotlib's tab10, the performance plots' palette: distinct for up to ten nodes.
NODE_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def render_clock_plot(
    series: Sequence[ClockSeries], intervals: Sequence[FaultInterval], duration_s: float
) -> str:
    """The plot as an ``<svg>`` element (with its namespace, so it also stands alone as a
    file); empty when there is no series."""
    if not series:
        return ""
    kinds = sorted({interval.fault for interval in intervals})
    top = TOP_PX + LANE_PX * len(kinds)
    plot_w = WIDTH_PX - LEFT_PX - RIGHT_PX
    plot_h = HEIGHT_PX - top - BOTTOM_PX
    span_s = duration_s * 1.01 if duration_s > 0 else 1.0
    values = [v for s in series for _, v in s.points] + [0.0]
    low, high = min(values), max(values)
    if high - low < 1.0:
        low, high = low - 1.0, high + 1.0
    pad = (high - low) * 0.06
    y_ticks = nice_ticks(low - pad, high + pad)
    y_lo, y_hi = min(y_ticks[0], low - pad), max(y_ticks[-1], high + pad)

    def x(time_s: float) -> float:
        return LEFT_PX + plot_w * min(max(time_s, 0.0), span_s) / span_s

    def y(offset_ms: float) -> float:
        return top + plot_h * (y_hi - offset_ms) / (y_hi - y_lo)

    parts = [
        _tag("rect", {"x": 0, "y": 0, "width": WIDTH_PX, "height": HEIGHT_PX, "fill": "#fff"}),
        *_faults(intervals, kinds, x, top, plot_h),
        *_axes(y_ticks, nice_ticks(0.0, span_s), x, y, top, plot_w, plot_h, y_lo, y_hi),
        *(
            _line(one, NODE_COLORS[i % len(NODE_COLORS)], x, y, duration_s)
            for i, one in enumerate(series)
        ),
        *_legend(series, top),
    ]
    return _tag(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "clock-plot",
            "viewBox": f"0 0 {WIDTH_PX} {HEIGHT_PX}",
            "width": "100%",
            "role": "img",
            "font-family": "system-ui,sans-serif",
            "font-size": 11,
            "aria-label": "clock offset of each node over the run",
        },
        "".join(parts),
    )


def _tag(name: str, attributes: Mapping[str, object], body: str | None = None) -> str:
    """An SVG element, every attribute quoted (an unquoted value ending in ``/`` would swallow
    the self-closing slash in HTML), ``body`` already escaped; no body: self-closing."""
    attrs = "".join(
        f' {key}="{e(f"{value:.1f}" if isinstance(value, float) else value)}"'
        for key, value in attributes.items()
    )
    return f"<{name}{attrs}/>" if body is None else f"<{name}{attrs}>{body}</{name}>"


def _faults(
    intervals: Sequence[FaultInterval], kinds: Sequence[str], x: _Scale, top: float, plot_h: float
) -> list[str]:
    """Each fault's active time shaded, and a labelled bar in its kind's lane above the plot."""
    parts = []
    for interval in intervals:
        lane = kinds.index(interval.fault)
        colour = fault_color(interval.fault, lane)
        x0, x1 = x(interval.start_s), x(interval.end_s)
        width = max(x1 - x0, 1.0)
        label = interval.fault + ("" if interval.healed else " (never healed)")
        lane_y = float(TOP_PX + LANE_PX * lane)
        title = f"{label}: {interval.start_s:.2f}–{interval.end_s:.2f} s"
        shade = {"x": x0, "width": width, "fill": colour}
        parts.append(
            _tag(
                "g",
                {"class": "clock-fault", "data-fault": interval.fault},
                _tag("title", {}, e(title))
                + _tag("rect", {**shade, "y": top, "height": plot_h, "fill-opacity": "0.22"})
                + _tag("rect", {**shade, "y": lane_y, "height": LANE_PX - 2, "fill-opacity": "0.9"})
                + _tag(
                    "text",
                    {"x": x0 + 3, "y": lane_y + LANE_PX - 4, "font-size": 9, "fill": "#222"},
                    e(label),
                ),
            )
        )
    return parts


def _axes(
    y_ticks: Sequence[float],
    x_ticks: Sequence[float],
    x: _Scale,
    y: _Scale,
    top: float,
    plot_w: float,
    plot_h: float,
    y_lo: float,
    y_hi: float,
) -> list[str]:
    parts = []
    right = LEFT_PX + plot_w
    bottom = top + plot_h
    for tick in y_ticks:
        if not y_lo <= tick <= y_hi:
            continue
        at = y(tick)
        stroke = "#888" if tick == 0 else "#e5e5e5"
        parts.append(
            _tag("line", {"x1": LEFT_PX, "x2": right, "y1": at, "y2": at, "stroke": stroke})
            + _tag(
                "text",
                {"x": LEFT_PX - 6, "y": at + 4, "text-anchor": "end", "fill": "#444"},
                _ms(tick),
            )
        )
    for tick in x_ticks:
        if tick > x_ticks[0] and x(tick) >= right:
            continue  # past the end of the run
        at = x(tick)
        parts.append(
            _tag("line", {"x1": at, "x2": at, "y1": top, "y2": bottom, "stroke": "#f0f0f0"})
            + _tag(
                "text",
                {"x": at, "y": bottom + 16, "text-anchor": "middle", "fill": "#444"},
                f"{tick:g}",
            )
        )
    parts.append(
        _tag(
            "rect",
            {
                "x": LEFT_PX,
                "y": top,
                "width": plot_w,
                "height": plot_h,
                "fill": "none",
                "stroke": "#999",
            },
        )
        + _tag(
            "text",
            {"x": LEFT_PX + plot_w / 2, "y": HEIGHT_PX - 8, "text-anchor": "middle"},
            "time since the start of the run (s)",
        )
        + _tag(
            "text",
            {"transform": f"translate(16 {top + plot_h / 2:.1f}) rotate(-90)"}
            | {"text-anchor": "middle"},
            "clock offset (ms, + ahead of true time)",
        )
    )
    return parts


def _line(one: ClockSeries, colour: str, x: _Scale, y: _Scale, end_s: float) -> str:
    """One node's offsets as one path (a sub-path per segment: a gap while it was down)."""
    path = " ".join(
        "M" + " L".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment) for segment in one.segments
    )
    title = f"{one.node}: largest offset {_ms(_largest(one))} ms"
    # Where the node went down (×) and came back (○): overlapping lines would hide the gap.
    marks = []
    for number, segment in enumerate(one.segments):
        if number > 0:
            t, v = segment[0]
            marks.append(
                _tag(
                    "circle",
                    {"cx": x(t), "cy": y(v), "r": "3.5", "fill": "#fff", "stroke": colour},
                    _tag("title", {}, e(f"{one.node} back at {t:.2f} s")),
                )
            )
        t, v = segment[-1]
        if number < len(one.segments) - 1 or t < end_s:
            cx, cy = x(t), y(v)
            marks.append(
                _tag(
                    "path",
                    {
                        "d": f"M{cx - 4:.1f},{cy - 4:.1f} l8,8 m0,-8 l-8,8",
                        "stroke": colour,
                        "stroke-width": "2",
                    },
                    _tag("title", {}, e(f"{one.node} down at {t:.2f} s")),
                )
            )
    line = _tag(
        "path",
        {
            "class": "clock-line",
            "data-node": one.node,
            "d": path,
            "fill": "none",
            "stroke": colour,
            "stroke-width": "1.8",
            "stroke-linejoin": "round",
            "opacity": "0.9",
        },
        _tag("title", {}, e(title)),
    )
    return _tag("g", {"class": "clock-node", "data-node": one.node}, line + "".join(marks))


def _legend(series: Sequence[ClockSeries], top: float) -> list[str]:
    left = WIDTH_PX - RIGHT_PX + 14
    parts = []
    for index, one in enumerate(series):
        at = top + 8 + index * 18
        colour = NODE_COLORS[index % len(NODE_COLORS)]
        parts.append(
            _tag(
                "g",
                {"class": "clock-legend"},
                _tag(
                    "line",
                    {
                        "x1": left,
                        "x2": left + 22,
                        "y1": at,
                        "y2": at,
                        "stroke": colour,
                        "stroke-width": "2.5",
                    },
                )
                + _tag(
                    "text",
                    {"x": left + 28, "y": at + 4, "fill": "#222"},
                    e(one.node)
                    + _tag("tspan", {"fill": "#777"}, f" max {e(_ms(_largest(one)))} ms"),
                ),
            )
        )
    return parts


def _largest(one: ClockSeries) -> float:
    """The offset of largest size the node's clock had, with its sign."""
    return max((v for _, v in one.points), key=abs, default=0.0)


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering ``low``..``high``."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    tick = first
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 9))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 9))
    return ticks


def _ms(value: float) -> str:
    """``+4,212`` or ``-0.5``: whole milliseconds unless the value has a fraction that shows."""
    if not value:
        return "0"
    return f"{value:+,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:+,.1f}"
