"""The timeline page: one column per process (the nemesis too), history flowing downwards, each
operation a box from its invocation to its completion, coloured by how it ended, with the
details in the box's tooltip — Jepsen's ``timeline.html``, without JavaScript.

``render_timeline`` is pure (history in, HTML text out); ``write_timeline`` writes the file.
The vertical axis is the history's order (rows of the file without the final replica dumps),
not wall-clock time: ops stay visible however short they are, and the left gutter gives the
time of the rows it labels. Every box is one short ``div`` so that a 20,000-operation run stays
a few megabytes.
"""

from __future__ import annotations

import bisect
import html
import json
import math
import pathlib
import statistics
from collections import defaultdict
from collections.abc import Sequence

from zynamo.report.history import (
    NANOS_PER_SECOND,
    NEMESIS,
    FaultInterval,
    HistoryView,
    Line,
    Operation,
)

# How tall a typical operation's box should be, and the bounds on the row height that gives.
TYPICAL_BOX_PX = 16.0
ROW_PX_MIN, ROW_PX_MAX = 1.0, 14.0
MAX_PAGE_PX = 200_000  # beyond this, rows shrink rather than the page growing further
GUTTER_PX = 72
TICK_EVERY_PX = 90
LABEL_MIN_BOX_PX = 13  # boxes shorter than this carry no text, only the tooltip
VALUE_CHARS_TOOLTIP = 160

FAULT_COLORS = {
    "partition": "#9e9ac8",
    "kill": "#fb6a4a",
    "pause": "#74c476",
    "clock": "#6baed6",
    "latency": "#fdae6b",
    "membership": "#bcbddc",
}
OTHER_FAULT_COLOR = "#bdbdbd"

CSS = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
background:#fafafa}
header{padding:14px 20px 10px;background:#fff;border-bottom:1px solid #ddd}
header h1{margin:0 0 4px;font-size:18px}
header a{color:#2563eb}
.legend span{display:inline-block;margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;
margin-right:4px;border:1px solid rgba(0,0,0,.25)}
.note{color:#666;font-size:12px;margin-top:4px}
.heads{position:sticky;top:0;z-index:5;display:flex;background:#fff;border-bottom:1px solid #ccc;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.heads div{flex:none;padding:4px 2px;text-align:center;font-weight:600;font-size:12px;
overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.heads div small{display:block;font-weight:400;color:#777;font-size:10px}
.tl{position:relative;display:flex}
.gut{flex:none;position:relative;border-right:1px solid #ccc;background:#fff}
.gut span{position:absolute;right:6px;font-size:10px;color:#666;transform:translateY(-50%)}
.tick{position:absolute;left:0;right:0;border-top:1px dashed #e3e3e3}
.band{position:absolute;left:0;right:0;opacity:.28}
.bl{position:absolute;left:3px;font-size:11px;font-weight:600;color:#333;z-index:3;
background:rgba(255,255,255,.75);padding:0 4px;border-radius:3px}
.col{flex:none;position:relative;border-right:1px solid #eee}
.o{position:absolute;left:2px;right:2px;border-radius:2px;overflow:hidden;white-space:nowrap;
font-size:10px;line-height:12px;padding:0 2px;border:1px solid rgba(0,0,0,.28);z-index:2}
.o:hover{outline:2px solid #111;z-index:4}
.ok{background:#a6e3a1}
.info{background:#ffc46b}
.fail{background:#f7a1b5}
.nem{background:#d6cdf2}
.empty{padding:40px;color:#888;font-size:15px}
"""


def write_timeline(
    history: Sequence[Line] | HistoryView, path: pathlib.Path, title: str = "timeline"
) -> pathlib.Path:
    """Write the timeline page for ``history`` to ``path``."""
    path.write_text(render_timeline(history, title), encoding="utf-8")
    return path


def render_timeline(history: Sequence[Line] | HistoryView, title: str = "timeline") -> str:
    """The timeline page for ``history`` (line dicts, or their HistoryView) as HTML text."""
    view = HistoryView.of(history)
    lines, ops, intervals = view.lines, view.ops, view.intervals
    processes = _column_order({op.process for op in ops})
    head = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(title)} — timeline</title><style>{CSS}</style></head><body>"
        + _header(title, ops, intervals)
    )
    if not ops:
        return head + "<div class=empty>The history has no operations.</div></body></html>\n"
    row_px = _row_px(ops, len(lines))
    col_px = _column_px(len(processes))
    height = math.ceil(len(lines) * row_px) + 8
    by_process: dict[object, list[Operation]] = defaultdict(list)
    for op in ops:
        by_process[op.process].append(op)
    parts = [head, _column_heads(processes, by_process, col_px)]
    parts.append(f'<div class=tl style="height:{height}px">')
    parts.append(_gutter(lines, row_px, height))
    parts.append(_fault_bands(lines, intervals, row_px, col_px * len(processes)))
    for process in processes:
        parts.append(f'<div class=col data-process="{_e(str(process))}" style=width:{col_px}px>')
        parts.extend(_box(op, row_px, col_px) for op in by_process[process])
        parts.append("</div>")
    parts.append("</div></body></html>\n")
    return "".join(parts)


def _column_order(processes: set[object]) -> list[object]:
    """The nemesis first, then client processes by number, then anything else by name."""
    numbers = sorted(p for p in processes if isinstance(p, int) and not isinstance(p, bool))
    others = sorted((p for p in processes if p != NEMESIS and p not in numbers), key=str)
    return ([NEMESIS] if NEMESIS in processes else []) + list(numbers) + others


def _row_px(ops: Sequence[Operation], rows: int) -> float:
    # Scale so a typical client op is TYPICAL_BOX_PX tall, within bounds, and cap the page.
    spans = [op.row_end - op.row_start for op in ops if not op.is_nemesis and op.completed]
    typical = statistics.median(spans) if spans else 1.0
    row_px = min(ROW_PX_MAX, max(ROW_PX_MIN, TYPICAL_BOX_PX / max(typical, 1.0)))
    return min(row_px, max(ROW_PX_MIN, MAX_PAGE_PX / max(rows, 1)))


def _column_px(columns: int) -> int:
    # Wide columns while they fit a screen; narrower (never unreadable) when processes abound.
    return max(26, min(120, 1250 // max(columns, 1)))


def _header(title: str, ops: Sequence[Operation], intervals: Sequence[FaultInterval]) -> str:
    counts = {kind: 0 for kind in ("ok", "info", "fail")}
    for op in ops:
        if not op.is_nemesis:
            counts[op.type] = counts.get(op.type, 0) + 1
    swatches = "".join(
        f"<span><i class={kind}></i>{kind} ({counts.get(kind, 0)})</span>"
        for kind in ("ok", "info", "fail")
    )
    faults = sorted({interval.fault for interval in intervals})
    swatches += "<span><i class=nem></i>nemesis action</span>"
    swatches += "".join(
        f'<span><i style="background:{_fault_color(fault)};opacity:.5"></i>'
        f"{_e(fault)} active</span>"
        for fault in faults
    )
    return (
        f"<header><h1>{_e(title)} — timeline</h1>"
        f"<div class=legend>{swatches}</div><div class=note>"
        "Each box runs from an operation's invocation to its completion; rows follow the order "
        "of history.jsonl (times on the left). Hover a box for its details. "
        '<a href="index.html">back to the report</a></div></header>'
    )


def _column_heads(
    processes: Sequence[object], by_process: dict[object, list[Operation]], col_px: int
) -> str:
    heads = [f"<div style=width:{GUTTER_PX}px>time</div>"]
    for process in processes:
        label = "nemesis" if process == NEMESIS else f"{process}"
        ops = len(by_process[process])
        heads.append(
            f'<div style=width:{col_px}px title="process {_e(label)}: {ops} ops">'
            f"{_e(label)}<small>{ops} ops</small></div>"
        )
    return f"<div class=heads>{''.join(heads)}</div>"


def _gutter(lines: Sequence[Line], row_px: float, height: int) -> str:
    step = max(1, math.ceil(TICK_EVERY_PX / row_px))
    marks = []
    for row in range(0, len(lines), step):
        seconds = int(lines[row]["time"]) / NANOS_PER_SECOND
        top = max(round(row * row_px), 7)  # labels are centred on their row: keep the first whole
        marks.append(f"<span style=top:{top}px>{seconds:.3f} s</span>")
    return f'<div class=gut style="width:{GUTTER_PX}px;height:{height}px">{"".join(marks)}</div>'


def _fault_bands(
    lines: Sequence[Line], intervals: Sequence[FaultInterval], row_px: float, width: int
) -> str:
    """Translucent bands across all columns while a fault is active, with ticks under them."""
    times = [int(line["time"]) for line in lines]
    step = max(1, math.ceil(TICK_EVERY_PX / row_px))
    parts = [f'<div style="position:absolute;left:{GUTTER_PX}px;top:0;bottom:0;width:{width}px">']
    parts.extend(
        f"<div class=tick style=top:{round(row * row_px)}px></div>"
        for row in range(0, len(lines), step)
    )
    for interval in intervals:
        start = bisect.bisect_left(times, round(interval.start_s * NANOS_PER_SECOND))
        end = bisect.bisect_right(times, round(interval.end_s * NANOS_PER_SECOND))
        top, bottom = round(start * row_px), round(max(end, start + 1) * row_px)
        color = _fault_color(interval.fault)
        state = "" if interval.healed else " (never healed)"
        parts.append(
            f'<div class=band style="top:{top}px;height:{bottom - top}px;background:{color}">'
            f"</div><div class=bl style=top:{top}px>{_e(interval.fault)}{state}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _box(op: Operation, row_px: float, col_px: int) -> str:
    top = round(op.row_start * row_px)
    height = max(3, round((op.row_end - op.row_start) * row_px))
    kind = "nem" if op.is_nemesis else op.type
    value = _value_text(op)
    label = ""
    if height >= LABEL_MIN_BOX_PX and col_px >= 40:
        label = _e(_short(f"{op.f} {value}".strip(), col_px // 5))
    return (
        f'<div class="o {kind}" style=top:{top}px;height:{height}px '
        f'title="{_tooltip(op, value)}">'
        f"{label}</div>"
    )


def _tooltip(op: Operation, value: str) -> str:
    """The box's details, one fact per line; escaped for an attribute."""
    invocation, completion = op.invocation, op.completion
    done: Line = completion or {}
    index = f"#{invocation.get('index')}"
    index += f" → #{done.get('index')}" if completion is not None else " → (never completed)"
    what = f"{op.f}"
    if "key" in invocation:
        what += f" {invocation['key']}"
    facts = [index, f"process {op.process}", what]
    if value:
        facts.append(f"value: {value}")
    outcome = op.type if completion is not None else "info (no completion)"
    if op.latency_ms is not None:
        outcome += f" · {op.latency_ms:.2f} ms"
    facts.append(outcome)
    if done.get("error") is not None:
        facts.append(f"error: {_preview(done['error'], 80)}")
    node = done.get("node", invocation.get("node"))
    where = [f"node {node}"] if node is not None else []
    if done.get("coordinator") is not None:
        where.append(f"coordinator {done['coordinator']}")
    if where:
        facts.append(" · ".join(where))
    if done.get("replicas"):
        replicas = " ".join(str(r) for r in done["replicas"])
        fallbacks = done.get("fallbacks") or []
        facts.append(
            f"replicas {replicas}"
            + (f" (fallbacks {' '.join(str(f) for f in fallbacks)})" if fallbacks else "")
        )
    start_s = op.start_ns / NANOS_PER_SECOND
    end = f"{op.end_ns / NANOS_PER_SECOND:.3f} s" if completion is not None else "end"
    facts.append(f"t {start_s:.3f} s → {end}")
    # A literal newline in an attribute is a line break in the tooltip, and shorter than &#10;.
    return _e("\n".join(str(fact) for fact in facts))


def _value_text(op: Operation) -> str:
    """What the op carried: the completion's value if it has one (reads), else the invocation's."""
    value = op.completion.get("value") if op.completion is not None else None
    if value is None:
        value = op.invocation.get("value")
    return "" if value is None else _preview(value, VALUE_CHARS_TOOLTIP)


def _fault_color(fault: str) -> str:
    return FAULT_COLORS.get(fault, OTHER_FAULT_COLOR)


def _preview(value: object, limit: int) -> str:
    """``value`` as compact JSON, cut at about ``limit`` characters.

    Set reads can hold thousands of elements: encode only the first ones, and say how many.
    """
    if not isinstance(value, list):
        return _short(_json(value), limit)
    # Every item takes at least two characters ("1,"), so this slice covers the limit.
    text = _json(value[: limit // 2 + 1])
    if len(text) <= limit and len(value) <= limit // 2 + 1:
        return text
    return text[: limit - 20].rsplit(",", 1)[0] + f",… ({len(value)} elements)]"


def _json(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # most values are; json.dumps costs ten times more
    return json.dumps(value, separators=(",", ":"), default=str)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
