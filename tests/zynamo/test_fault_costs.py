"""A simulated run under kills and clock faults says what each kill cost: the progress lines,
``results.json`` and the report agree on the requests that failed while a node was down, and
the report plots every node's clock from what the clock nemesis recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

from zynamo.options import TestOptions as Options
from zynamo.runner import run_test


def test_each_kill_says_how_many_requests_failed_and_the_clocks_are_plotted(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    options = Options(
        results_dir=tmp_path,
        env="sim",
        nemesis=("kill", "clock"),
        time_limit_s=16.0,
        nemesis_interval_s=2.0,
        seed=4,
    )
    result = run_test(options, progress=said.append)
    kills = result.results["faults"]["kills"]
    assert kills and all(kill["until_ns"] is not None for kill in kills)
    assert sum(kill["requests_failed"] for kill in kills) > 0  # a kill the clients noticed
    for kill in kills:  # the summary printed at the end is the one results.json keeps
        assert kill["summary"] in said
        assert re.fullmatch(
            r"kill .+: down .+, (no request failed|\d+ requests? failed .+)", kill["summary"]
        )
    stops = [line for line in said if line.startswith("nemesis stop-kill:")]
    assert stops and all("failed" in line and line.endswith("so far") for line in stops)
    ops = result.results["faults"]["ops"]
    assert all("requests_failed" in op for op in ops if op["f"] == "stop-kill")

    page = (result.directory / "index.html").read_text(encoding="utf-8")
    history = [json.loads(line) for line in (result.directory / "history.jsonl").open()]
    clocked = any(
        line["f"] == "start-clock" and line["type"] == "info" and "error" not in line
        for line in history
        if line["process"] == "nemesis"
    )
    assert clocked, "the seed was chosen for a run with clock faults"
    nodes = re.findall(r'<path class="clock-line" data-node="(n\d)"', page)
    assert nodes == ["n1", "n2", "n3", "n4", "n5"]
    first = kills[0]
    assert first["summary"].split(": down")[0].removeprefix("kill ") in page
    assert f"{first['requests_failed']} request" in page or first["requests_failed"] == 0
