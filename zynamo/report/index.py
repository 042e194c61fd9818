"""The run's front page, ``index.html``: the verdict first, then what each checker found, what
the operations and the nemesis did, the plots, every file of the run, and the test's options.

``render_index`` is pure (a ``RunSummary`` in, HTML text out). The page is self-contained:
inline CSS, no scripts, no external resources; everything that comes from the run is escaped.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nemesis.clock_history import clock_offsets
from nemesis.downtime import KillCost, kill_costs
from nemesis.effects import NO_EFFECT
from zynamo.report.checkers import Verdict, key_figures, verdict
from zynamo.report.clockplot import render_clock_plot
from zynamo.report.faults import describe_fault
from zynamo.report.findings import Findings, first_of_each, headline
from zynamo.report.fmt import key_page, of
from zynamo.report.history import FINAL, NANOS_PER_SECOND, FaultInterval, HistoryView, Line
from zynamo.report.keypage import finding_anchors
from zynamo.report.plots import quantile
from zynamo.report.repro import commit_of, reproduce_command
from zynamo.report.schedule import schedule_section

PLOTS = (
    (
        "latency-raw.png",
        "Latency of every operation",
        "invocation time against latency; colour is how it ended, marker the function",
    ),
    (
        "latency-quantiles.png",
        "Latency quantiles",
        "0.5, 0.95, 0.99 and max per function and time bucket",
    ),
    ("rate.png", "Throughput", "completions per second per function and outcome"),
)
DATA_FILES = ("history.jsonl", "results.json", "test.json")
REPORT_FILES = ("timeline.html", "findings.html", *(name for name, _, _ in PLOTS))
DETAILS_CHARS = 20_000
FINDINGS_SHOWN = 10

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#f4f5f7}
main{max-width:1240px;margin:0 auto;padding:24px 24px 60px}
h1{font-size:24px;margin:0}
h2{font-size:17px;margin:0 0 10px}
.sub{color:#656d76;margin-top:2px}
a{color:#0b62d6;text-decoration:none}
a:hover{text-decoration:underline}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:16px 18px;margin-top:18px}
.top{display:flex;gap:18px;align-items:stretch;flex-wrap:wrap}
.top .card{margin-top:0}
.verdict{flex:none;min-width:260px;display:flex;flex-direction:column;justify-content:center;
border-radius:8px;padding:16px 24px;color:#fff}
.verdict b{font-size:40px;line-height:1.1;letter-spacing:.5px}
.verdict span{opacity:.92}
.verdict.valid{background:#1a7f37}
.verdict.invalid{background:#cf222e}
.verdict.unknown{background:#bf8700}
.facts{flex:1;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px 18px}
.facts div{min-width:0}
.facts small{display:block;color:#656d76;font-size:12px}
.facts b{font-size:16px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;color:#656d76;font-weight:600;background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;
color:#fff;white-space:nowrap}
.badge.valid{background:#1a7f37}.badge.invalid{background:#cf222e}.badge.unknown{background:#bf8700}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}
dt{color:#656d76}
dd{margin:0;overflow-wrap:anywhere}
details summary{cursor:pointer;color:#0b62d6;font-size:12px}
pre{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:8px;font-size:12px;
max-height:360px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
code{font-size:12px}
.ok{color:#1a7f37}.fail{color:#cf222e}.info{color:#bf5b00}
.plots figure{margin:0 0 18px}
.plots img{width:100%;height:auto;border:1px solid #eaeef2;border-radius:6px;background:#fff}
.plots figcaption{font-size:13px;color:#656d76;margin-bottom:4px}
.plots figcaption b{color:#1f2328}
.files{display:flex;flex-wrap:wrap;gap:8px 48px}
.files h3{font-size:12px;text-transform:uppercase;letter-spacing:.4px;color:#656d76;margin:0 0 4px}
.files ul{margin:0;padding:0;list-style:none}
.files li{padding:1px 0}
.files small{color:#8c959f}
th.w-name{width:16%}th.w-verdict{width:10%}th.w-option{width:28%}
.note{color:#656d76}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;
margin-top:12px}
.timeline-link{display:inline-block;margin-top:4px;font-weight:600}
.finding{border-left:4px solid #cf222e;padding:6px 10px;margin:8px 0;background:#fff5f5}
.finding.unknown{border-color:#bf8700;background:#fffbeb}
.finding p{margin:2px 0}
.repro code{display:block;background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;
padding:6px 10px;font-size:13px;overflow-wrap:anywhere}
h3{font-size:14px;margin:14px 0 4px}
.clock svg{display:block;border:1px solid #eaeef2;border-radius:6px;margin-top:6px}
td.effect{font-size:13px}
"""


@dataclass(frozen=True)
class RunSummary:
    """What the index page shows about one run directory."""

    name: str
    run_id: str
    history: HistoryView
    test: Mapping[str, Any] | None
    results: Mapping[str, Any] | None
    files: Sequence[tuple[str, int]]  # (file name, size in bytes) present in the run directory
    problems: Sequence[str] = field(default_factory=tuple)
    findings: Findings = field(default_factory=Findings)
    journals: Sequence[str] = field(default_factory=tuple)  # nodes whose event journal is here
    schedule: Mapping[str, Any] | None = None  # schedule.json


def render_index(run: RunSummary) -> str:
    """The whole index page as HTML text."""
    overall = _overall_verdict(run)
    body = [
        f"<h1>{_e(run.name)}</h1><div class=sub>run <code>{_e(run.run_id)}</code></div>",
        "".join(f"<div class=warn>{_e(problem)}</div>" for problem in run.problems),
        "<div class=top style=margin-top:16px>",
        _verdict_box(overall),
        _facts(run),
        "</div>",
        _what_went_wrong(run),
        _files(run),
        _checkers(run),
        _operations(run.history),
        _faults(run.history),
        _clock(run),
        schedule_section(run.schedule),
        _plots(run),
        _options(run.test),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{_e(overall.word)} — {_e(run.name)} {_e(run.run_id)}</title>"
        f"<style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )


def _what_went_wrong(run: RunSummary) -> str:
    """The failing checkers, the first findings in plain words, each linked to its story and
    operations, and the command that runs the test again."""
    failing = headline(run.results)
    command = reproduce_command(run.test)
    commit = commit_of(run.test)
    repro = ""
    if command:
        checkout = f"git checkout {commit[:12]} && " if commit else ""
        repro = (
            "<h3>Run it again</h3><div class=repro><code id=repro>"
            f"{_e(checkout + command)}</code></div><p class=note>The same options and seed; a"
            " real-cluster run replays the schedule, not the exact timing.</p>"
        )
    if not failing:
        return f"<div class=card>{repro}</div>" if repro and run.results else ""
    findings = run.findings
    anchors = finding_anchors(findings)
    items = []
    for finding in first_of_each(findings.items, FINDINGS_SHOWN):
        link = anchors.get(id(finding))
        text = _e(finding.text)
        if link:
            text = f"<a class=finding-link href='{_e(link)}'>{text}</a>"
        ops = "".join(
            f" <a class=op-link href='{_e(key_page(finding.key))}#op-{ref}'>#{ref}</a>"
            for ref in finding.ops
            if finding.key is not None
        )
        css = "finding" if finding.valid is False else "finding unknown"
        items.append(
            f"<div class='{css}'><p><b>{_e(finding.checker)}</b> · {_e(finding.kind)}</p>"
            f"<p>{text}</p>" + (f"<p class=note>operations:{ops}</p>" if ops else "") + "</div>"
        )
    total = len(findings.items)
    more = ""
    if total > FINDINGS_SHOWN:
        shown = _e(of(FINDINGS_SHOWN, total, "findings"))
        more = f"<p>{shown} shown — <a href='findings.html'>all {total} findings →</a></p>"
    elif total:
        more = "<p><a href='findings.html'>the findings on one page →</a></p>"
    capped = "".join(
        f"<p class=note>{_e(name)}: {_e(of(listed, counted, kind + ' listed'))} by the checker"
        " (it counts the rest without naming them).</p>"
        for (name, kind), (listed, counted) in findings.capped.items()
    )
    journal = (
        f"<p class=note>Node event journals: {_e(', '.join(run.journals))} — each finding's page"
        " tells what the nodes did.</p>"
        if run.journals
        else "<p class=note>No node event journals in this run: findings show the client's view"
        " only.</p>"
    )
    names = ", ".join(failing)
    return (
        "<div class=card id=what-went-wrong><h2>What went wrong</h2>"
        f"<p>Failing: <b>{_e(names)}</b></p>"
        f"{''.join(items)}{more}{capped}{journal}{repro}</div>"
    )


def _overall_verdict(run: RunSummary) -> Verdict:
    if run.results is None:
        return verdict(None, "not checked (no results.json)")
    return verdict(run.results.get("valid"))


def _verdict_box(overall: Verdict) -> str:
    explanation = overall.explanation or {
        "valid": "every checker passed",
        "invalid": "at least one checker found a violation",
        "unknown": "a checker could not decide",
    }.get(overall.css, "")
    return (
        f"<div class='verdict {overall.css}'><span>verdict</span><b>{_e(overall.word)}</b>"
        f"<span>{_e(explanation)}</span></div>"
    )


def _facts(run: RunSummary) -> str:
    ops = run.history.client_ops
    counts = _count_types(ops)
    test = run.test or {}
    facts: list[tuple[str, str]] = [
        ("duration", f"{run.history.duration_s:.1f} s"),
        ("client operations", f"{len(ops)}"),
        ("ok / info / fail", f"{counts['ok']} / {counts['info']} / {counts['fail']}"),
        ("processes", f"{len({op.process for op in ops})}"),
        ("nemesis faults", f"{len(run.history.intervals)}"),
    ]
    for label, keys in (
        ("workload", ("workload",)),
        ("nemesis", ("nemesis",)),
        ("nodes", ("nodes", "node-count", "node_count")),
        ("seed", ("seed",)),
        ("git commit", ("git-commit", "git_commit", "commit")),
    ):
        value = next((test[key] for key in keys if key in test), None)
        if value is not None:
            text = ", ".join(_plain(v) for v in value) if isinstance(value, list) else _plain(value)
            facts.append((label, text[:12] if label == "git commit" else text))
    final = _final_dump_summary(run.history.history)
    if final:
        facts.append(("final replica reads", final))
    cells = "".join(f"<div><small>{_e(k)}</small><b>{_e(v)}</b></div>" for k, v in facts)
    return f"<div class='card facts'>{cells}</div>"


def _final_dump_summary(history: Sequence[Line]) -> str:
    dumps = [line for line in history if line.get("process") == FINAL]
    if not dumps:
        return ""
    rounds = len({line.get("round") for line in dumps})
    keys = len({line.get("key") for line in dumps})
    return f"{keys} keys, {rounds} round{'s' if rounds != 1 else ''}"


def _checkers(run: RunSummary) -> str:
    if run.results is None:
        return (
            "<div class=card><h2>Checkers</h2><p class=note>No results.json in this run "
            "directory: the history was not checked. Run <code>zynamo analyze</code> on it.</p>"
            "</div>"
        )
    checkers = run.results.get("checkers")
    if not isinstance(checkers, Mapping) or not checkers:
        return (
            "<div class=card><h2>Checkers</h2><p class=note>results.json lists no checkers.</p>"
            "</div>"
        )
    rows = []
    for name, result in checkers.items():
        valid = result.get("valid") if isinstance(result, Mapping) else None
        badge = verdict(valid)
        figures = "".join(
            f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>" for label, text in key_figures(result)
        )
        details = json.dumps(result, indent=2, default=str, sort_keys=True)
        if len(details) > DETAILS_CHARS:
            details = (
                details[:DETAILS_CHARS]
                + f"\n… (the first {DETAILS_CHARS:,} of {len(details):,} characters:"
                " the whole result is in results.json)"
            )
        rows.append(
            f"<tr><td><b>{_e(str(name))}</b></td>"
            f"<td><span class='badge {badge.css}'>{_e(badge.word)}</span></td>"
            f"<td><dl>{figures}</dl><details><summary>full result</summary>"
            f"<pre>{_e(details)}</pre></details></td></tr>"
        )
    return (
        "<div class=card><h2>Checkers</h2><table><thead><tr><th class=w-name>checker</th>"
        "<th class=w-verdict>verdict</th>"
        f"<th>key figures</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _operations(view: HistoryView) -> str:
    ops = view.client_ops
    if not ops:
        return "<div class=card><h2>Operations</h2><p class=note>No client operations.</p></div>"
    by_f: dict[str, list[Any]] = defaultdict(list)
    for op in ops:
        by_f[op.f].append(op)
    rows = []
    for f in sorted(by_f):
        group = by_f[f]
        counts = _count_types(group)
        latencies = sorted(op.latency_ms for op in group if op.latency_ms is not None)
        cells = [f"{quantile(latencies, q):.1f}" if latencies else "–" for q in (0.5, 0.99, 1.0)]
        never = sum(1 for op in group if not op.completed)
        rows.append(
            f"<tr><td><b>{_e(f)}</b></td><td class=num>{len(group)}</td>"
            f"<td class='num ok'>{counts['ok']}</td><td class='num info'>{counts['info']}</td>"
            f"<td class='num fail'>{counts['fail']}</td><td class=num>{never}</td>"
            + "".join(f"<td class=num>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    return (
        "<div class=card><h2>Operations</h2><table><thead><tr><th>f</th><th class=num>total</th>"
        "<th class=num>ok</th><th class=num>info</th><th class=num>fail</th>"
        "<th class=num>never completed</th><th class=num>p50 ms</th><th class=num>p99 ms</th>"
        f"<th class=num>max ms</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<a class=timeline-link href='timeline.html'>open the timeline of every operation →</a>"
        "</div>"
    )


def _faults(view: HistoryView) -> str:
    intervals = view.intervals
    if not intervals:
        return "<div class=card><h2>Nemesis</h2><p class=note>No faults were injected.</p></div>"
    costs = {(cost.fault, cost.from_ns / NANOS_PER_SECOND): cost for cost in kill_costs(view.lines)}
    rows = "".join(
        f"<tr><td><b>{_e(interval.fault)}</b></td><td class=num>{interval.start_s:.2f}</td>"
        f"<td class=num>{interval.end_s:.2f}{'' if interval.healed else ' (never healed)'}</td>"
        f"<td class=num>{interval.end_s - interval.start_s:.2f}</td>"
        f"<td>{_e(describe_fault(interval.fault, interval.value))}</td>"
        f"<td class=effect>{_effect(interval, costs.get((interval.fault, interval.start_s)))}"
        "</td></tr>"
        for interval in intervals
    )
    return (
        "<div class=card id=nemesis><h2>Nemesis</h2><table><thead><tr><th>fault</th>"
        "<th class=num>active from (s)</th><th class=num>until (s)</th>"
        "<th class=num>for (s)</th><th>what was done</th><th>what it did</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _effect(interval: FaultInterval, cost: KillCost | None) -> str:
    """What the fault's start and stop said they did (a fault that did nothing flagged), and
    for a kill the client requests that failed while its nodes were down."""
    said = []
    for value in (interval.value, interval.stop_value):
        info = value.get("effect") if isinstance(value, Mapping) else None
        if not isinstance(info, Mapping):
            continue
        summary = _e(str(info.get("summary", "")))
        if info.get("mattered", True):
            said.append(summary)
        else:
            said.append(f"<span class=fail>{_e(NO_EFFECT)}:</span> {summary}")
    if cost is not None:
        css = "kill-cost fail" if cost.requests_failed else "kill-cost"
        said.append(f"<b class='{css}'>{_e(cost.cost())}</b>")
    return "<br>".join(said)


def _clock(run: RunSummary) -> str:
    """Each node's clock offset over the run, when it had clock faults."""
    series = clock_offsets(run.history.lines, _node_names(run.test))
    if not series:
        return ""
    svg = render_clock_plot(series, _from_invocation(run.history), run.history.duration_s)
    return (
        "<div class='card clock' id=clock-offsets><h2>Clock offsets</h2><p class=note>Each"
        " node's wall clock against true time, from what the clock nemesis set: steps at a"
        " bump, strobe, scramble or reset, slopes while a clock drifted, a gap while the node was"
        " down (it comes back with its clock right). Faults are shaded as in the plots below, but"
        " from when each start was invoked: a strobe flips the clocks while its start runs.</p>"
        f"{svg}</div>"
    )


def _from_invocation(view: HistoryView) -> list[FaultInterval]:
    """The fault intervals, each from its start's invocation rather than its completion: a
    strobe moves the clocks while its start op runs, and its shading must cover that."""
    invoked = {
        op.end_ns / NANOS_PER_SECOND: op.start_ns / NANOS_PER_SECOND
        for op in view.ops
        if op.is_nemesis and op.f.startswith("start-")
    }
    return [replace(i, start_s=invoked.get(i.start_s, i.start_s)) for i in view.intervals]


def _node_names(test: Mapping[str, Any] | None) -> list[str]:
    """The cluster's nodes as test.json gives them: a list of names, or a count (n1…nN)."""
    nodes = (test or {}).get("nodes")
    if isinstance(nodes, list):
        return [str(node) for node in nodes]
    if isinstance(nodes, int) and not isinstance(nodes, bool) and 0 < nodes <= 100:
        return [f"n{i}" for i in range(1, nodes + 1)]
    return []


def _plots(run: RunSummary) -> str:
    present = {name for name, _ in run.files}
    figures = "".join(
        f"<figure><figcaption><b>{_e(title)}</b> — {_e(caption)} · "
        f"<a href='{_e(name)}'>{_e(name)}</a></figcaption>"
        f"<a href='{_e(name)}'><img src='{_e(name)}' alt='{_e(title)}'></a></figure>"
        for name, title, caption in PLOTS
        if name in present
    )
    if not figures:
        return ""
    return f"<div class='card plots'><h2>Plots</h2>{figures}</div>"


def _files(run: RunSummary) -> str:
    present = dict(run.files)
    groups = [
        ("report", [n for n in REPORT_FILES if n in present]),
        ("data", [n for n in DATA_FILES if n in present]),
        ("node logs", sorted(n for n in present if n.endswith(".log"))),
        ("node event journals", sorted(n for n in present if n.endswith(".events.jsonl"))),
    ]
    listed = {name for _, names in groups for name in names} | {"index.html"}
    groups.append(("other files", sorted(n for n in present if n not in listed)))
    columns = "".join(
        f"<div><h3>{_e(group)}</h3><ul>"
        + "".join(
            f"<li><a href='{_e(name)}'>{_e(name)}</a> <small>{_size(present[name])}</small></li>"
            for name in names
        )
        + "</ul></div>"
        for group, names in groups
        if names
    )
    missing = [name for name in DATA_FILES if name not in present]
    note = f"<p class=note>Not in this directory: {_e(', '.join(missing))}.</p>" if missing else ""
    return f"<div class=card><h2>Files</h2><div class=files>{columns}</div>{note}</div>"


def _options(test: Mapping[str, Any] | None) -> str:
    if test is None:
        return (
            "<div class=card><h2>Test options</h2><p class=note>No test.json in this run "
            "directory.</p></div>"
        )
    rows = "".join(
        f"<tr><td><code>{_e(str(key))}</code></td><td><code>{_e(_plain(value, 600))}</code>"
        "</td></tr>"
        for key, value in test.items()
    )
    return (
        "<div class=card><h2>Test options</h2><table><thead><tr><th class=w-option>option</th>"
        "<th>value</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _count_types(ops: Sequence[Any]) -> dict[str, int]:
    counts = {"ok": 0, "info": 0, "fail": 0}
    for op in ops:
        counts[op.type] = counts.get(op.type, 0) + 1
    return counts


def _plain(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} B"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
