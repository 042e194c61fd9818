"""A page per key (``keys/<key>.html``), for every key with a finding: the findings on it, each
with its story (what the nodes did with the element, then its operations, node events and
faults in time order), the linearizability diagram when the key is not linearizable, the
key's version graph, and then everything that happened to the key, each operation anchored
as ``#op-<history index>`` so findings elsewhere can link to it.

Also ``findings.html``: every finding of the run, where the front page shows the first few.
Pure: HTML text out; the writer writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from zynamo.report.events import Event
from zynamo.report.findings import Findings, OpIndex
from zynamo.report.fmt import e, key_page, of, page, seconds
from zynamo.report.history import HistoryView
from zynamo.report.lineardiagram import render_linear_diagram
from zynamo.report.story import Row, explain, key_rows, story_rows
from zynamo.report.versiongraph import (
    render_version_graph,
    versions_from_events,
    versions_from_ops,
)

FINDINGS_WITH_STORY = 12  # per key page; the others are listed with their links


def finding_anchors(findings: Findings) -> dict[int, str]:
    """``id(finding)`` -> ``keys/k3.html#finding-2``, where each finding's story is."""
    anchors: dict[int, str] = {}
    numbers: dict[str, int] = {}
    for finding in findings.items:
        if finding.key is not None:
            number = numbers.get(finding.key, 0)
            numbers[finding.key] = number + 1
            anchors[id(finding)] = f"{key_page(finding.key)}#finding-{number}"
    return anchors


def _rows_table(rows: Sequence[Row], link_ops: bool = True, ids: bool = False) -> str:
    body = []
    for row in rows:
        css = f"{row.kind}{' hl' if row.highlight else ''}"
        anchor = f" id='op-{row.ref}'" if ids and row.ref is not None else ""
        text = e(row.text)
        if link_ops and row.ref is not None and not ids:
            text = f"<a href='#op-{row.ref}'>{text}</a>"
        body.append(
            f"<tr class='{css}'{anchor}><td class=num>{seconds(row.time_ns)}</td>"
            f"<td>{e(row.node)}</td><td>{text}</td><td>{e(row.faults)}</td></tr>"
        )
    return (
        "<table class=story><thead><tr><th class=num>time</th><th>node</th><th>what happened</th>"
        f"<th>faults active</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def render_key_page(
    key: str,
    view: HistoryView,
    ops: OpIndex,
    events: Sequence[Event],
    findings: Findings,
    results: Mapping[str, Any] | None,
    run_name: str,
) -> str:
    mine = [f for f in findings.items if f.key == key]
    timeline = f"../timeline.html?key={quote(key)}"
    parts = [
        f"<h1>key {e(key)}</h1><div class=sub>{e(run_name)} · <a href='{e(timeline)}'>the"
        f" timeline of {e(key)} →</a></div>"
    ]
    if not events:
        parts.append(
            "<p class=note>No node event journals in this run directory: the story shows the"
            " client's view only.</p>"
        )
    for number, finding in enumerate(mine):
        css = "finding" if finding.valid is False else "finding unknown"
        block = [
            f"<div class='card' id='finding-{number}'><div class='{css}'>"
            f"<p><b>{e(finding.checker)}</b> · {e(finding.kind)}</p><p>{e(finding.text)}</p></div>"
        ]
        if number < FINDINGS_WITH_STORY:
            sentences = explain(view, ops, events, finding)
            if sentences:
                block.append(
                    "<h3>What the nodes did</h3><ul>"
                    + "".join(f"<li>{e(s)}</li>" for s in sentences)
                    + "</ul>"
                )
            rows, left_out = story_rows(view, ops, events, finding)
            if rows:
                more = f" ({left_out} more rows of this key below)" if left_out else ""
                block.append(f"<h3>Story{e(more)}</h3>{_rows_table(rows)}")
        else:
            block.append("<p class=note>Its operations are highlighted in the table below.</p>")
        block.append("</div>")
        parts.append("".join(block))
    for name, result in _linear_for(results, key):
        diagram = render_linear_diagram(result, ops)
        if diagram:
            parts.append(f"<div class=card><h2>Linearizability ({e(name)})</h2>{diagram}</div>")
    versions = versions_from_events(events) or versions_from_ops(ops.by_key.get(key, []))
    element = next((f.element for f in mine if f.element is not None), None)
    focus = next((f.time_ns for f in mine if f.time_ns is not None), None)
    graph = render_version_graph(versions, element, focus)
    if graph:
        parts.append(
            f"<div class=card><h2>Version graph</h2><div style=overflow-x:auto>{graph}</div></div>"
        )
    everything = key_rows(view, ops, events, key)
    highlighted = {ref for f in mine for ref in f.ops}
    everything = [
        Row(r.time_ns, r.kind, r.text, r.node, r.ref, r.ref in highlighted, r.faults)
        for r in everything
    ]
    counts = f"{len(ops.by_key.get(key, []))} operations, {len(events)} node events"
    parts.append(
        f"<div class=card><h2>Everything on {e(key)}</h2><p class=note>{e(counts)}, and every"
        f" fault, in time order.</p>{_rows_table(everything, ids=True)}</div>"
    )
    return page(f"{key} — {run_name}", "".join(parts), depth=1)


def _linear_for(results: Mapping[str, Any] | None, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    checkers = (results or {}).get("checkers")
    if not isinstance(checkers, Mapping):
        return []
    return [
        (str(name), result)
        for name, result in checkers.items()
        if isinstance(result, Mapping)
        and result.get("valid") is False
        and str(result.get("key")) == key
        and isinstance(result.get("op"), Mapping)
    ]


def render_findings_page(findings: Findings, run_name: str) -> str:
    """Every finding, each linked to its story on its key's page."""
    rows = []
    anchors = finding_anchors(findings)
    for finding in findings.items:
        link = e(anchors.get(id(finding), ""))
        text = f"<a href='{link}'>{e(finding.text)}</a>" if link else e(finding.text)
        rows.append(
            f"<tr><td>{e(finding.checker)}</td><td>{e(finding.kind)}</td>"
            f"<td class=num>{seconds(finding.time_ns)}</td><td>{text}</td></tr>"
        )
    capped = "".join(
        f"<p class=note>{e(name)}: {e(of(listed, counted, kind))} are listed — the checker"
        " counted the rest without naming them (results.json).</p>"
        for (name, kind), (listed, counted) in findings.capped.items()
    )
    body = (
        f"<h1>Every finding</h1><div class=sub>{e(run_name)}</div><div class=card>{capped}"
        "<table><thead><tr><th>checker</th><th>kind</th><th class=num>when</th><th>finding</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return page(f"findings — {run_name}", body)
