"""The run report: the PNG plots, ``timeline.html`` and ``index.html`` a person opens to
understand a test run. ``write_report(run_dir)`` does it all (file I/O in the run directory);
the pieces are exposed for callers that hold a history in memory.
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
