"""Writing a run directory's report: reads history.jsonl, results.json, test.json and the nodes'
event journals (``<node>.events.jsonl``) from the directory and writes the plots,
timeline.html, findings.html, a page per key with a finding (``keys/``) and index.html.

This is the report's only entry point with file I/O beyond the single files each piece writes;
``zynamo test`` calls it after checking and ``zynamo analyze DIR`` calls it to re-render.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from typing import Any

from zynamo.report.events import EventIndex, load_events
from zynamo.report.findings import Findings, OpIndex, find
from zynamo.report.fmt import key_page
from zynamo.report.history import HistoryError, HistoryView, load_history
from zynamo.report.index import RunSummary, render_index
from zynamo.report.keypage import render_findings_page, render_key_page
from zynamo.report.plots import plot_latency_quantiles, plot_latency_raw, plot_rate
from zynamo.report.timeline import write_timeline


class ReportError(ValueError):
    """The run directory cannot be reported on; the message names the file and the problem."""


def write_report(run_dir: pathlib.Path) -> list[pathlib.Path]:
    """Render the report of the run in ``run_dir``; returns the paths written, index.html last.

    A missing history.jsonl renders as an empty run and a missing results.json as "unknown: not
    checked", each with a warning on the page, so a run that crashed half-way can still be read.
    """
    run_dir = pathlib.Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory (expected a run directory of results/)")
    problems: list[str] = []
    history_path = run_dir / "history.jsonl"
    history: list[dict[str, Any]] = []
    if history_path.is_file():
        try:
            history = load_history(history_path)
        except HistoryError as err:
            raise ReportError(str(err)) from err
    else:
        problems.append("history.jsonl is missing: the run recorded no operations.")
    results = _load_json_object(run_dir / "results.json")
    if results is None:
        problems.append("results.json is missing: the verdict is unknown (not checked).")
    test = _load_json_object(run_dir / "test.json")
    name = run_name(test, run_dir)

    view = HistoryView.of(history)  # analysed once, drawn five times
    written = [
        plot_latency_raw(view, run_dir / "latency-raw.png", f"{name}: latency (raw)"),
        plot_latency_quantiles(
            view, run_dir / "latency-quantiles.png", f"{name}: latency quantiles"
        ),
        plot_rate(view, run_dir / "rate.png", f"{name}: rate"),
    ]
    events = load_events(run_dir)
    findings = find(results, view)
    pages = {f.key: key_page(f.key) for f in findings.items if f.key is not None}
    written.append(write_timeline(view, run_dir / "timeline.html", name, pages))
    written += _write_findings_pages(run_dir, name, view, events, findings, results)
    summary = RunSummary(
        name=name,
        run_id=run_dir.resolve().name,
        history=view,
        test=test,
        results=results,
        files=_files(run_dir),
        problems=problems,
        findings=findings,
        journals=sorted({str(ev.get("node")) for ev in events}),
        schedule=_load_json_object(run_dir / "schedule.json"),
    )
    index = run_dir / "index.html"
    index.write_text(render_index(summary), encoding="utf-8")
    written.append(index)
    return written


def run_name(test: Mapping[str, Any] | None, run_dir: pathlib.Path) -> str:
    """The test's name as test.json records it (so a moved run keeps its title), else the
    name of the folder above the run's."""
    for field in ("test", "name"):
        if test and test.get(field):
            return str(test[field])
    return run_dir.resolve().parent.name


def _write_findings_pages(
    run_dir: pathlib.Path,
    name: str,
    view: HistoryView,
    events: list[dict[str, Any]],
    findings: Findings,
    results: Mapping[str, Any] | None,
) -> list[pathlib.Path]:
    """``findings.html`` and a page per key with a finding (under ``keys/``)."""
    written: list[pathlib.Path] = []
    keys_dir = run_dir / "keys"
    if keys_dir.is_dir():
        for old in keys_dir.glob("*.html"):
            old.unlink()  # a re-render must not leave pages of findings that are gone
    if not findings.items:
        return written
    ops = OpIndex(view)
    index = EventIndex.of(events)
    keys = sorted({f.key for f in findings.items if f.key is not None})
    keys_dir.mkdir(exist_ok=True)
    for key in keys:
        path = run_dir / key_page(key)
        path.write_text(
            render_key_page(key, view, ops, index.for_key(key), findings, results, name),
            encoding="utf-8",
        )
        written.append(path)
    path = run_dir / "findings.html"
    path.write_text(render_findings_page(findings, name), encoding="utf-8")
    written.append(path)
    return written


def _load_json_object(path: pathlib.Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReportError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from err
    if not isinstance(data, Mapping):
        raise ReportError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return dict(data)


def _files(run_dir: pathlib.Path) -> list[tuple[str, int]]:
    return sorted(
        (entry.name, entry.stat().st_size)
        for entry in run_dir.iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    )
