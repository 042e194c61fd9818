"""The run report: the PNG plots, ``timeline.html``, ``index.html`` (what went wrong first),
``findings.html`` and a page per key with a finding (``keys/``: the story of each finding from
the nodes' event journals, the version graph, the linearizability diagram) a person opens to
understand a test run. ``write_report(run_dir)`` does it all (file I/O in the run directory);
the pieces are exposed for callers that hold a history in memory. ``runs`` and ``runlist``
are what ``zynamo serve`` shows of the results store.
"""

from zynamo.report.history import HistoryError, fault_intervals, load_history, pair_operations
from zynamo.report.plots import plot_latency_quantiles, plot_latency_raw, plot_rate
from zynamo.report.timeline import render_timeline, write_timeline
from zynamo.report.writer import ReportError, write_report

__all__ = [
    "HistoryError",
    "ReportError",
    "fault_intervals",
    "load_history",
    "pair_operations",
    "plot_latency_quantiles",
    "plot_latency_raw",
    "plot_rate",
    "render_timeline",
    "write_report",
    "write_timeline",
]
