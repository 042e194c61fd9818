"""The timeline page: every operation of the run on a time-proportional axis, one lane per
process (the nemesis too), each box from invocation to completion, coloured by how it ended and
labelled with its key, node, function and value (and the error, on failed boxes). Above the
lanes: the nemesis faults as bands with their targets, and a strip per node showing when it was
killed or paused; the final phase (after the heal) is shaded and labelled as such.

The page draws on a ``<canvas>`` from the operations embedded as compact JSON, drawing only
what is in view, so it stays responsive at 100,000 operations; zoom (wheel, buttons, or a
selection) and pan (drag), filters by key, node and process, and a tooltip with the details.
A click on an operation opens its key's page when the key has a finding.

``timeline_data`` and ``render_timeline`` are pure (history in, data or HTML text out);
``write_timeline`` writes the file.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from zynamo.report.faults import describe_fault
from zynamo.report.fmt import e
from zynamo.report.history import NEMESIS, HistoryView, Line, Operation

VALUE_CHARS = 80
TYPES = ("ok", "info", "fail")
FAULT_COLORS = {
    "partition": "#9e9ac8",
    "kill": "#fb6a4a",
    "pause": "#74c476",
    "clock": "#6baed6",
    "latency": "#fdae6b",
    "membership": "#bcbddc",
}


def write_timeline(
    history: Sequence[Line] | HistoryView,
    path: pathlib.Path,
    title: str = "timeline",
    key_pages: Mapping[str, str] | None = None,
) -> pathlib.Path:
    path.write_text(render_timeline(history, title, key_pages), encoding="utf-8")
    return path


def _lane_order(processes: set[object]) -> list[object]:
    numbers = sorted(p for p in processes if isinstance(p, int))
    others = sorted((p for p in processes if not isinstance(p, int)), key=str)
    return [p for p in others if p == NEMESIS] + numbers + [p for p in others if p != NEMESIS]


def _text(value: object, limit: int = VALUE_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ms(ns: int) -> float:
    return round(ns / 1e6, 1)


def timeline_data(
    history: Sequence[Line] | HistoryView,
    title: str = "timeline",
    key_pages: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the page draws, as JSON-able data (see the module docstring)."""
    view = HistoryView.of(history)
    ops: Sequence[Operation] = view.ops
    lanes = _lane_order({op.process for op in ops})
    lane_of = {p: i for i, p in enumerate(lanes)}
    names: dict[str, dict[str, int]] = {"f": {}, "key": {}, "node": {}}

    def name(kind: str, item: object) -> int:
        if item is None:
            return -1
        table = names[kind]
        return table.setdefault(str(item), len(table))

    rows = []
    final_ms: float | None = None
    for op in ops:
        done = op.completion or {}
        final = bool(op.invocation.get("final") or done.get("final"))
        if op.is_nemesis:
            value: object = done.get("value", op.invocation.get("value"))
        elif op.f == "read":
            value = done.get("value") if op.type == "ok" else None
        else:
            value = op.invocation.get("value")
        node = done.get("coordinator") or op.invocation.get("node")
        index = done.get("index", op.invocation.get("index", -1))
        error = str(done.get("error") or ("never completed" if op.completion is None else ""))
        rows.append(
            [
                _ms(op.start_ns),
                _ms(op.end_ns),
                lane_of[op.process],
                TYPES.index(op.type) if op.type in TYPES else 1,
                name("f", op.f),
                name("key", op.invocation.get("key")),
                name("node", node),
                "" if value is None else _text(value),
                _text(error, 120),
                int(final),
                index,
            ]
        )
        if final and (final_ms is None or op.start_ns / 1e6 < final_ms):
            final_ms = _ms(op.start_ns)
    faults = [
        [
            round(i.start_s * 1000, 1),
            round(i.end_s * 1000, 1),
            describe_fault(i.fault, i.value),
            FAULT_COLORS.get(i.fault, "#bdbdbd"),
            int(i.healed),
        ]
        for i in view.intervals
    ]
    down = []
    for interval in view.intervals:
        if interval.fault in ("kill", "pause") and isinstance(interval.value, Mapping):
            nodes = interval.value.get("nodes")
            for node in nodes if isinstance(nodes, list) else []:
                down.append(
                    [
                        name("node", node),
                        round(interval.start_s * 1000, 1),
                        round(interval.end_s * 1000, 1),
                        "killed" if interval.fault == "kill" else "paused",
                    ]
                )
    return {
        "title": title,
        "end_ms": round(view.duration_s * 1000, 1),
        "final_ms": final_ms,
        "lanes": [str(p) for p in lanes],
        "fs": list(names["f"]),
        "keys": list(names["key"]),
        "nodes": list(names["node"]),
        "ops": rows,
        "faults": faults,
        "down": down,
        "key_pages": dict(key_pages or {}),
    }


def _script_json(data: object) -> str:
    # Inside <script>, "</script>" or "<!--" in a value would end or confuse it: no "<" at all.
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def render_timeline(
    history: Sequence[Line] | HistoryView,
    title: str = "timeline",
    key_pages: Mapping[str, str] | None = None,
) -> str:
    data = timeline_data(history, title, key_pages)
    count = len(data["ops"])
    empty = "<p class=empty>The history has no operations.</p>" if not count else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>timeline — {e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{e(title)}: timeline</h1><div class=sub><a href='index.html'>← run report"
        f"</a> · {count} operations, {len(data['lanes'])} processes ·"
        " Ctrl+wheel or +/− to zoom, drag or Shift+wheel to pan, Shift+drag to zoom into a"
        " selection; click an operation to open its key's page (keys with a finding)</div>"
        f"{CONTROLS}{LEGEND}</header>{empty}"
        "<div id=wrap><canvas id=axis></canvas><div id=scroll><canvas id=lanes></canvas></div>"
        "<div id=tip hidden></div></div>"
        f"<script type=application/json id=data>{_script_json(data)}</script>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


CSS = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
background:#fafafa;display:flex;flex-direction:column;height:100vh}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #ddd;flex:none}
header h1{margin:0;font-size:18px}.sub{color:#666}a{color:#2563eb}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-top:8px}
.controls input{font:inherit;padding:2px 6px;width:110px;border:1px solid #ccc;border-radius:4px}
.controls button{font:inherit;padding:1px 8px}
.legend span{display:inline-block;margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;
margin-right:4px;border:1px solid rgba(0,0,0,.25)}
#wrap{position:relative;flex:1;display:flex;flex-direction:column;min-height:0}
#axis{flex:none;width:100%;display:block;border-bottom:1px solid #ccc;background:#fff}
#scroll{flex:1;overflow-y:auto;overflow-x:hidden}
#lanes{display:block;width:100%;cursor:grab}
#tip{position:fixed;z-index:10;max-width:520px;background:#fff;border:1px solid #999;
border-radius:4px;padding:6px 8px;box-shadow:0 2px 8px rgba(0,0,0,.2);font-size:12px;
pointer-events:none;white-space:pre-wrap;overflow-wrap:anywhere}
.empty{padding:20px}
"""

CONTROLS = (
    "<div class=controls>"
    "<label>key <input id=f-key placeholder='e.g. k3'></label>"
    "<label>node <input id=f-node placeholder='e.g. n2'></label>"
    "<label>process <input id=f-process placeholder='e.g. 7'></label>"
    "<label><input type=checkbox id=f-bad> only fail and info</label>"
    "<button id=zoom-in>+</button><button id=zoom-out>−</button><button id=zoom-all>all</button>"
    "<span id=shown class=sub></span></div>"
)

LEGEND = (
    "<div class=legend><span><i style=background:#6cc070></i>ok</span>"
    "<span><i style=background:#f0a030></i>info (unknown outcome)</span>"
    "<span><i style=background:#e05050></i>fail</span>"
    "<span><i style=background:#b0b0b0></i>nemesis</span>"
    "<span><i style=background:rgba(120,120,200,.25)></i>fault active</span>"
    "<span><i style=background:#fb6a4a></i>node killed</span>"
    "<span><i style=background:#74c476></i>node paused</span>"
    "<span><i style=background:rgba(0,0,0,.08)></i>final phase</span></div>"
)

# The page's script, kept in its own file so it reads as JavaScript.
SCRIPT = (pathlib.Path(__file__).parent / "timeline.js").read_text(encoding="utf-8")
