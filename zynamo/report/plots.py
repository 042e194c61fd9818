"""The run's performance plots, drawn the way Jepsen's perf checker draws them: raw latency,
latency quantiles and throughput over time, with nemesis faults shaded and labelled.

Each ``plot_*`` function takes the history (a list of line dicts) and writes one PNG: that is
its only I/O. matplotlib is imported lazily with the Agg backend, so importing this module
costs nothing and never needs a display.
"""

from __future__ import annotations

import math
import pathlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from zynamo.report.history import (
    NANOS_PER_SECOND,
    FaultInterval,
    HistoryView,
    Line,
    Operation,
)

# Each plot takes the history as line dicts, or a HistoryView when the caller already has one.
History = Sequence[Line] | HistoryView

# Jepsen's perf colours for completion types, a touch deeper so small points show on white.
TYPE_COLORS = {"ok": "#4a9ee8", "info": "#ffa400", "fail": "#ff1e90"}
TYPE_ORDER = ("ok", "info", "fail")
# Jepsen's quantile colours: the higher the quantile, the hotter the colour.
QUANTILES = (0.5, 0.95, 0.99, 1.0)
QUANTILE_COLORS = {0.5: "#2f6fd6", 0.95: "#8e44ad", 0.99: "#ff8c00", 1.0: "#d62728"}
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
FAULT_COLORS = {
    "partition": "#9e9ac8",
    "kill": "#fb6a4a",
    "pause": "#74c476",
    "clock": "#6baed6",
    "latency": "#fdae6b",
    "membership": "#bcbddc",
}
OTHER_FAULT_COLORS = ("#c7e9c0", "#fdd0a2", "#dadaeb", "#c6dbef")
# Candidate bucket widths for quantiles and rates; the smallest giving at most ~60 buckets wins.
BUCKET_WIDTHS_S = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
MIN_LATENCY_MS = 1e-3  # a log axis cannot show zero


def plot_latency_raw(
    history: History, path: pathlib.Path, title: str = "latency (raw)"
) -> pathlib.Path:
    """Every completed client operation as a point: invocation time against latency.

    Colour says how it ended (ok / info / fail), the marker which function it was.
    """
    view = HistoryView.of(history)
    ops = _client_ops(view)
    with _figure(view, path, title) as ax:
        fs = _functions(ops)
        for f in fs:
            for kind in TYPE_ORDER:
                points = [op for op in ops if op.f == f and op.type == kind]
                if not points:
                    continue
                ax.scatter(
                    [op.start_ns / NANOS_PER_SECOND for op in points],
                    [_latency(op) for op in points],
                    s=_point_size(len(ops)),
                    marker=_marker(fs, f),
                    color=TYPE_COLORS.get(kind, "#777777"),
                    alpha=0.75,
                    linewidths=0,
                    label=f"{f} {kind}",
                    # Rare outcomes on top: a few failures must not hide under thousands of oks.
                    zorder=3 + TYPE_ORDER.index(kind),
                )
        _log_latency_axis(ax, [_latency(op) for op in ops])
        if not ops:
            _say_nothing(ax, "no completed client operations")
    return path


def plot_latency_quantiles(
    history: History, path: pathlib.Path, title: str = "latency quantiles"
) -> pathlib.Path:
    """Latency quantiles (0.5, 0.95, 0.99, max) per function over time buckets.

    Colour is the quantile, marker and line style the function; a bucket with no operations
    leaves a gap rather than a line drawn across it.
    """
    view = HistoryView.of(history)
    ops = _client_ops(view)
    fs = _functions(ops)
    duration = view.duration_s
    # Enough operations per bucket for the upper quantiles to mean something.
    max_buckets = min(60, max(8, len(ops) // (max(len(fs), 1) * 40)))
    width_s = bucket_width_s(duration, max_buckets)
    last_bucket = _bucket(int(duration * NANOS_PER_SECOND), width_s)
    with _figure(view, path, title, subtitle=f"buckets of {width_s:g} s") as ax:
        plotted: list[float] = []
        for f in fs:
            buckets: dict[int, list[float]] = defaultdict(list)
            for op in ops:
                if op.f == f:
                    buckets[_bucket(op.start_ns, width_s)].append(_latency(op))
            for values in buckets.values():
                values.sort()
            times = [(b + 0.5) * width_s for b in range(last_bucket + 1)]
            # Highest quantile first, so lower ones stay visible where they coincide.
            for rank, q in enumerate(reversed(QUANTILES)):
                points = [
                    quantile(buckets[b], q) if buckets.get(b) else math.nan
                    for b in range(last_bucket + 1)
                ]
                plotted.extend(p for p in points if not math.isnan(p))
                ax.plot(
                    times,
                    points,
                    marker=_marker(fs, f),
                    markersize=4,
                    linewidth=1.2,
                    linestyle=_linestyle(fs, f),
                    color=QUANTILE_COLORS[q],
                    label=f"{f} {_quantile_name(q)}",
                    zorder=3 + rank,
                )
        _log_latency_axis(ax, plotted)
        if not ops:
            _say_nothing(ax, "no completed client operations")
    return path


def plot_rate(history: History, path: pathlib.Path, title: str = "rate") -> pathlib.Path:
    """Completions per second, per function and completion type, over time buckets."""
    view = HistoryView.of(history)
    ops = _client_ops(view)
    duration = view.duration_s
    width_s = bucket_width_s(duration)
    with _figure(view, path, title, subtitle=f"buckets of {width_s:g} s") as ax:
        fs = _functions(ops)
        last_bucket = _bucket(int(duration * NANOS_PER_SECOND), width_s)
        for f in fs:
            for kind in TYPE_ORDER:
                counts = [0] * (last_bucket + 1)
                for op in ops:
                    if op.f == f and op.type == kind:
                        counts[min(_bucket(op.end_ns, width_s), last_bucket)] += 1
                if not any(counts):
                    continue
                # A zero rate of ok is news (the system stalled); of fail or info it is not, and
                # lines along the axis would hide it: leave gaps.
                rates = [count / width_s if count or kind == "ok" else math.nan for count in counts]
                ax.plot(
                    [(b + 0.5) * width_s for b in range(len(counts))],
                    rates,
                    marker=_marker(fs, f),
                    markersize=3.5,
                    linewidth=1.2,
                    color=TYPE_COLORS.get(kind, "#777777"),
                    label=f"{f} {kind}",
                    zorder=3 + TYPE_ORDER.index(kind),
                )
        ax.set_ylabel("throughput (Hz)")
        ax.set_ylim(bottom=0)
        if not ops:
            ax.set_ylim(0, 1)
            _say_nothing(ax, "no completed client operations")
    return path


def bucket_width_s(duration: float, max_buckets: int = 60) -> float:
    """A round bucket width giving at most ``max_buckets`` buckets over the run."""
    for width in BUCKET_WIDTHS_S:
        if duration / width <= max_buckets:
            return float(width)
    return float(math.ceil(duration / max_buckets))


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank quantile of a non-empty sorted sequence (q=1 is the maximum)."""
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _client_ops(view: HistoryView) -> list[Operation]:
    # Performance is about what clients saw: nemesis actions and unfinished ops have no latency.
    return [op for op in view.ops if not op.is_nemesis and op.completed]


def _functions(ops: Sequence[Operation]) -> list[str]:
    return sorted({op.f for op in ops})


def _marker(fs: Sequence[str], f: str) -> str:
    return MARKERS[fs.index(f) % len(MARKERS)]


def _linestyle(fs: Sequence[str], f: str) -> str:
    return LINESTYLES[fs.index(f) % len(LINESTYLES)]


def _quantile_name(q: float) -> str:
    return "max" if q == 1.0 else f"p{q * 100:g}"


def _latency(op: Operation) -> float:
    return max(op.latency_ms or 0.0, MIN_LATENCY_MS)


def _bucket(time_ns: int, width_s: float) -> int:
    return int(time_ns / NANOS_PER_SECOND // width_s)


def _point_size(count: int) -> float:
    # Fewer, bigger points for short runs; small ones so 20k points stay legible.
    return 18.0 if count < 2000 else 8.0 if count < 10000 else 4.0


@contextmanager
def _figure(view: HistoryView, path: pathlib.Path, title: str, subtitle: str = "") -> Iterator[Any]:
    """A figure with the shared look: time axis, fault shading, legend, saved on exit."""
    import matplotlib

    matplotlib.use("Agg")
    # A bare Figure rather than pyplot: no global figure registry, so nothing leaks if drawing
    # fails and reports can be drawn from any thread.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5.2), dpi=110)
    ax = fig.subplots()
    duration = view.duration_s
    ax.set_xlim(0, duration * 1.01 if duration > 0 else 1.0)
    ax.set_xlabel("time since the start of the run (s)")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    if subtitle:
        ax.set_title(subtitle, loc="right", fontsize=9, color="#666666")
    ax.grid(True, which="major", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    yield ax
    handles, _labels = ax.get_legend_handles_labels()
    handles += _shade_faults(ax, view.intervals)
    if handles:
        legend = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
        )
        for handle in legend.legend_handles:
            set_sizes = getattr(handle, "set_sizes", None)
            if set_sizes is not None:  # scatter points: legible however small on the plot
                set_sizes([30.0])
    fig.tight_layout()
    fig.savefig(path, format="png")


def _shade_faults(ax: Any, intervals: Sequence[FaultInterval]) -> list[Any]:
    """Shade each fault's active time and label it along the top, one lane per fault kind.

    Returns legend handles, one per fault kind.
    """
    from matplotlib.patches import Patch

    kinds = sorted({interval.fault for interval in intervals})
    colors = {kind: fault_color(kind, i) for i, kind in enumerate(kinds)}
    for interval in intervals:
        color = colors[interval.fault]
        lane = kinds.index(interval.fault)
        ax.axvspan(interval.start_s, interval.end_s, color=color, alpha=0.22, lw=0, zorder=1)
        # A solid bar in the kind's own lane at the top, so overlapping faults stay readable.
        top = 1.0 - 0.035 * lane
        ax.axvspan(
            interval.start_s,
            interval.end_s,
            ymin=top - 0.03,
            ymax=top,
            color=color,
            alpha=0.9,
            lw=0,
            zorder=2,
        )
        ax.text(
            interval.start_s,
            top - 0.015,
            f" {interval.fault}" + ("" if interval.healed else " (never healed)"),
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="center",
            ha="left",
            color="#222222",
            zorder=4,
            clip_on=True,
        )
    return [Patch(color=colors[kind], alpha=0.5, label=f"nemesis: {kind}") for kind in kinds]


def fault_color(kind: str, index: int) -> str:
    return FAULT_COLORS.get(kind, OTHER_FAULT_COLORS[index % len(OTHER_FAULT_COLORS)])


def _log_latency_axis(ax: Any, latencies: Sequence[float]) -> None:
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms)")
    if latencies:
        low, high = min(latencies), max(latencies)
        ax.set_ylim(low / 1.6, high * 2.4)  # headroom above for the fault lanes
    else:
        ax.set_ylim(0.1, 1000)


def _say_nothing(ax: Any, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=12,
        color="#888888",
    )
