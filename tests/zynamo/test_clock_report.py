"""The report's clock plot and each kill's cost on the index page: a run with clock faults shows
each node's clock offset over the run (one line per node, steps, a slope for a drift, a gap
while a node was down), a run without shows no plot; the Nemesis table says what each fault
did, a kill with the requests that failed while its node was down."""

from __future__ import annotations

import itertools
import pathlib
import re

from hypothesis import given
from hypothesis import strategies as st

from tests.zynamo.clock_fixtures import clock_history, without_clock_faults, write_run
from zynamo.report import write_report
from zynamo.report.clockplot import nice_ticks


def index_of(run: pathlib.Path) -> str:
    write_report(run)
    return (run / "index.html").read_text(encoding="utf-8")


def test_a_run_with_clock_faults_plots_one_line_per_node(tmp_path: pathlib.Path) -> None:
    page = index_of(write_run(tmp_path, clock_history()))
    assert page.count("<svg") >= 1 and 'class="clock-plot"' in page
    lines = re.findall(r'<path class="clock-line" data-node="(n\d)"', page)
    assert lines == ["n1", "n2", "n3", "n4", "n5"]
    # n4 went down and came back: a × where its line stops, a ○ where it starts again.
    assert "n4 down at 7.00 s" in page and "n4 back at 9.00 s" in page
    # The clock section sits right after the Nemesis table, before the performance plots.
    nemesis, clock = page.index("id=nemesis"), page.index("id=clock-offsets")
    assert nemesis < clock < page.index("<h2>Plots</h2>")


def test_a_run_without_clock_faults_has_no_clock_plot(tmp_path: pathlib.Path) -> None:
    page = index_of(write_run(tmp_path, without_clock_faults(clock_history())))
    assert "clock-plot" not in page and "Clock offsets" not in page


def test_the_nemesis_table_says_what_each_kill_cost(tmp_path: pathlib.Path) -> None:
    page = index_of(write_run(tmp_path, clock_history()))
    # Every fourth request in 7..9 s went to n4 (every fifth request: 4 of the 20).
    assert "4 requests failed (4 fail, 0 info; 4 sent to n4)" in page
    assert "clock drift n5 +100,000 ppm" in page  # what was done, in words


@given(st.floats(-1e7, 1e7), st.floats(0.5, 1e7))
def test_ticks_are_round_evenly_spaced_and_cover_the_range(low: float, size: float) -> None:
    high = low + size
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low + 1e-6 and ticks[-1] >= high - 1e-6
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and 2 <= len(ticks) <= 9
    (step,) = steps
    mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)
