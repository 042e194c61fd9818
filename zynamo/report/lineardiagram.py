"""The linearizability diagram of a register failure, in the spirit of Porcupine's visualization
and Knossos's linear.svg: the operations on the failing key around the failure, one row per
process on a time axis, the last operations of the longest linearizable prefix numbered in the
order the search linearized them, and the operation that cannot be linearized in red.

Bounded: at most ``MAX_OPS`` operations (the prefix's tail the checker listed, the failing one,
what overlaps them), so the SVG stays a few tens of kilobytes whatever the history's size.
Pure: the checker's result and the key's operations in, SVG text out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zynamo.report.findings import OpIndex, checker_op, op_ref
from zynamo.report.fmt import duration, e, seconds, value
from zynamo.report.history import Operation

MAX_OPS = 60
ROW_PX = 30
LEFT_PX = 90
WIDTH_PX = 1180
COLOURS = {"read": "#ddf4ff", "write": "#dafbe1", "cas": "#fff8c5"}


def render_linear_diagram(result: Mapping[str, Any], ops: OpIndex, anchor: str = "") -> str:
    """The diagram (SVG inside a little HTML) for a failed linearizability result; empty when
    the result names no failing operation. ``anchor`` prefixes links to operations."""
    failing_record = result.get("op")
    if not isinstance(failing_record, Mapping):
        return ""
    failing = checker_op(ops, failing_record)
    if failing is None:
        return ""
    key = str(result.get("key", failing_record.get("key")))
    prefix: list[Operation] = []
    for record in result.get("linearized_prefix") or []:
        if isinstance(record, Mapping):
            op = checker_op(ops, record)
            if op is not None:
                prefix.append(op)
    order = {id(op): n for n, op in enumerate(prefix)}
    base = int(result.get("linearized_prefix_length") or len(prefix)) - len(prefix)
    shown = [*prefix, failing]
    start = min(op.start_ns for op in shown)
    end = failing.end_ns
    # What overlaps the window on the same key: the ops the search had to order.
    for op in ops.by_key.get(key, []):
        if len(shown) >= MAX_OPS:
            break
        if op.start_ns <= end and op.end_ns >= start and all(op is not s for s in shown):
            shown.append(op)
    end = max(end, max(op.end_ns for op in shown if op.completed) if shown else end)
    start = min(start, min(op.start_ns for op in shown))
    processes = sorted({str(op.process) for op in shown}, key=lambda p: (len(p), p))
    usable = WIDTH_PX - LEFT_PX - 20
    # The axis is the order of invocations and completions, not their times: real-time order
    # is what linearizability depends on, and operations of a few milliseconds in a window of
    # a second would otherwise be slivers (Knossos draws it the same way).
    instants = sorted({t for op in shown for t in (op.start_ns, min(op.end_ns, end))})
    slot = {t: n for n, t in enumerate(instants)}
    step = usable / max(len(instants) - 1, 1)

    def x(ns: int) -> float:
        return LEFT_PX + step * slot[min(max(ns, start), end)]

    height = 40 + ROW_PX * len(processes)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH_PX}' height='{height}'"
        f" viewBox='0 0 {WIDTH_PX} {height}' class=linear>"
    ]
    for row, process in enumerate(processes):
        y = 20 + ROW_PX * row
        parts.append(
            f"<text x=4 y={y + 15}>process {e(process)}</text>"
            f"<line x1={LEFT_PX} y1={y + ROW_PX - 4} x2={WIDTH_PX - 10} y2={y + ROW_PX - 4}"
            " stroke='#f0f2f4'/>"
        )
    for op in sorted(shown, key=lambda o: o.start_ns):
        row = processes.index(str(op.process))
        y = 20 + ROW_PX * row
        x1, x2 = x(op.start_ns), x(min(op.end_ns, end))
        width = max(x2 - x1, 3.0)
        is_failing = op is failing
        number = order.get(id(op))
        fill = "#ffebe9" if is_failing else COLOURS.get(op.f, "#eaeef2")
        stroke = "#cf222e" if is_failing else ("#0969da" if number is not None else "#8c959f")
        dash = " stroke-dasharray='4 3'" if op.type != "ok" else ""
        done = op.completion or {}
        got = done.get("value") if op.f == "read" else op.invocation.get("value")
        label = f"{'r' if op.f == 'read' else op.f[0]} {value(got, 12)}"
        if number is not None:
            label = f"#{base + number + 1} {label}"
        tip = (
            f"{op.f} {value(got, 60)} ({op.type}) by process {op.process} via"
            f" {done.get('coordinator') or op.invocation.get('node')}, {seconds(op.start_ns)}"
            f" → {seconds(op.end_ns)}"
            + (" — cannot be linearized" if is_failing else "")
            + (f" — linearized #{base + number + 1}" if number is not None else "")
        )
        parts.append(
            f"<a href='{anchor}#op-{op_ref(op)}'><g><title>{e(tip)}</title>"
            f"<rect x={x1:.1f} y={y + 2} width={width:.1f} height={ROW_PX - 10} rx=3"
            f" fill='{fill}' stroke='{stroke}' stroke-width='{2.5 if is_failing else 1}'{dash}/>"
            f"<text x={x1 + 3:.1f} y={y + 15}>{e(label)}</text></g></a>"
        )
    parts.append(
        f"<text x={LEFT_PX} y={height - 4} fill='#656d76'>{seconds(start)}</text>"
        f"<text x={WIDTH_PX - 80} y={height - 4} fill='#656d76'>{seconds(end)}</text></svg>"
    )
    state = result.get("state_after_prefix")
    caption = (
        f"{key}: {len(shown)} operations over {duration(end - start)}, left to right in the"
        " order they were invoked and completed (not to scale). Blue outline: the last"
        f" {len(prefix)} of the {base + len(prefix)} operations of the longest linearizable prefix,"
        f" numbered in linearization order (state after it: {value(state, 30)}). Red: the"
        f" operation that cannot be linearized next. Dashed: outcome unknown or failed."
    )
    return f"<p class=note>{e(caption)}</p><div style=overflow-x:auto>{''.join(parts)}</div>"


def linear_results(results: Mapping[str, Any] | None) -> list[tuple[str, Mapping[str, Any]]]:
    """The failed linearizability results of a run: (checker name, result)."""
    checkers = (results or {}).get("checkers")
    if not isinstance(checkers, Mapping):
        return []
    return [
        (str(name), result)
        for name, result in checkers.items()
        if isinstance(result, Mapping)
        and result.get("valid") is False
        and isinstance(result.get("op"), Mapping)
        and "linearized_prefix" in result
    ]


__all__ = ["linear_results", "render_linear_diagram"]
