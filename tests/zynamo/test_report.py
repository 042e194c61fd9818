"""Tests of the run report: the plots, timeline.html and index.html written into a run directory."""

from __future__ import annotations

import json
import pathlib
import random
import struct
import time
from collections import Counter
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zynamo.report import (
    ReportError,
    fault_intervals,
    pair_operations,
    plot_latency_quantiles,
    plot_latency_raw,
    plot_rate,
    render_timeline,
    write_report,
)
from zynamo.report.checkers import key_figures

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
PLOT_NAMES = ("latency-raw.png", "latency-quantiles.png", "rate.png")
EVIL = "<script>alert('x')</script>"


# --- a realistic synthetic run -------------------------------------------------------------


def synthetic_history(
    rng: random.Random,
    workers: int = 4,
    duration_s: float = 12.0,
    keys: int = 4,
    faults: bool = True,
) -> list[dict[str, Any]]:
    """A set workload: workers add and read, a partition then a kill, final reads and dumps.

    Ops fail or time out (info, retiring the process) mostly while a fault is active.
    """
    partition = (3 * NS_PER_S, 6 * NS_PER_S)
    kill = (8 * NS_PER_S, 9 * NS_PER_S + NS_PER_S // 2)
    events: list[tuple[int, int, dict[str, Any]]] = []
    added: dict[str, list[Any]] = {f"k{i}": [] for i in range(keys)}
    seq = 0

    def emit(at_ns: int, line: dict[str, Any]) -> None:
        nonlocal seq
        events.append((at_ns, seq, line))
        seq += 1

    element = 0
    for worker in range(workers):
        process = worker
        now = int(rng.uniform(0, 5) * NS_PER_MS)
        while now < duration_s * NS_PER_S:
            key = f"k{rng.randrange(keys)}"
            node = f"n{rng.randint(1, 3)}"
            faulty = faults and (partition[0] <= now < partition[1] or kill[0] <= now < kill[1])
            f = "add" if rng.random() < 0.7 else "read"
            value: Any = None
            if f == "add":
                element += 1
                value = EVIL if element == 7 else element
            emit(
                now,
                {
                    "process": process,
                    "type": "invoke",
                    "f": f,
                    "key": key,
                    "value": value,
                    "node": node,
                },
            )
            latency_ms = rng.lognormvariate(0.8, 0.6)
            outcome = "ok"
            roll = rng.random()
            if faulty and roll < 0.05:
                outcome, latency_ms = "info", 1000.0
            elif faulty and roll < 0.25:
                outcome = "fail"
            done = now + int(latency_ms * NS_PER_MS)
            completion: dict[str, Any] = {
                "process": process,
                "type": outcome,
                "f": f,
                "key": key,
                "node": node,
                "value": value,
            }
            if outcome == "ok":
                completion.update(
                    coordinator=node, n=3, r=2, w=2, replicas=["n1", "n2", "n3"], fallbacks=[]
                )
                if f == "add":
                    added[key].append(value)
                else:
                    completion["value"] = list(added[key])
            else:
                completion["error"] = "timeout" if outcome == "info" else "unavailable"
            emit(done, completion)
            if outcome == "info":
                process += workers  # Jepsen retires the process after an indeterminate op
            now = done + int(rng.uniform(1, 20) * NS_PER_MS)
        final_at = int((duration_s + 1.0) * NS_PER_S) + worker * NS_PER_MS
        emit(
            final_at,
            {
                "process": process,
                "type": "invoke",
                "f": "read",
                "key": "k0",
                "value": None,
                "node": "n1",
                "final": True,
            },
        )
        emit(
            final_at + 3 * NS_PER_MS,
            {
                "process": process,
                "type": "ok",
                "f": "read",
                "key": "k0",
                "node": "n1",
                "final": True,
                "value": sorted(added["k0"], key=str),
            },
        )
    if faults:
        grudge = {"n1": ["n2", "n3"], "n2": ["n1"], "n3": ["n1"]}
        for fault, (start, stop), value in (
            ("partition", partition, {"grudge": grudge, "mode": "isolate-one"}),
            ("kill", kill, ["n2"]),
        ):
            for f, at in ((f"start-{fault}", start), (f"stop-{fault}", stop)):
                emit(
                    at - 10 * NS_PER_MS,
                    {"process": "nemesis", "type": "invoke", "f": f, "value": None},
                )
                emit(at, {"process": "nemesis", "type": "info", "f": f, "value": value})
    dump_at = int((duration_s + 2.0) * NS_PER_S)
    for round_ in (1, 2):
        for k in sorted(added):
            for node in ("n1", "n2", "n3"):
                emit(
                    dump_at + round_ * NS_PER_MS,
                    {
                        "process": "final",
                        "type": "ok",
                        "f": "replica-state",
                        "round": round_,
                        "key": k,
                        "node": node,
                        "value": sorted(added[k], key=str),
                        "tombstone": False,
                    },
                )
    events.sort(key=lambda event: (event[0], event[1]))
    return [{"index": i, "time": at, **line} for i, (at, _, line) in enumerate(events)]


RESULTS: dict[str, Any] = {
    "valid": False,
    "checkers": {
        "set": {
            "valid": False,
            "acknowledged-count": 240,
            "lost-count": 1,
            "lost": [17],
            "stale-count": 0,
            "stale": [],
        },
        "convergence": {"valid": True, "keys": 4, "converged-keys": 4, "time-after-heal-ms": 812.5},
        "linearizable": {
            "valid": False,
            "model": "register",
            "op_count": 300,
            "key": "k1",
            "op": {"line": 40, "process": 2, "type": "ok", "f": "read", "key": "k1", "value": 3},
            "concurrent": [
                {"line": 38, "process": 1, "type": "ok", "f": "write", "key": "k1", "value": 4},
            ],
            "message": "p2 read -> 3 cannot be linearized",
        },
        "stats": {"valid": True, "count": 300, "ok-count": 280, "fail-count": 15, "info-count": 5},
    },
}


def make_run(
    tmp_path: pathlib.Path,
    history: list[dict[str, Any]],
    *,
    results: dict[str, Any] | None = RESULTS,
    test: dict[str, Any] | None = None,
) -> pathlib.Path:
    run_dir = tmp_path / "set-partition" / "20240101T000000"
    run_dir.mkdir(parents=True)
    (run_dir / "history.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in history), encoding="utf-8"
    )
    if results is not None:
        (run_dir / "results.json").write_text(json.dumps(results), encoding="utf-8")
    test = (
        test
        if test is not None
        else {
            "name": "set-partition",
            "workload": "set",
            "nemesis": ["partition", "kill"],
            "seed": 42,
            "git-commit": "caf5eee0123456789",
        }
    )
    (run_dir / "test.json").write_text(json.dumps(test), encoding="utf-8")
    for node in ("n1", "n2", "n3"):
        (run_dir / f"{node}.log").write_text(f"{node} started\n", encoding="utf-8")
    return run_dir


@pytest.fixture(scope="module")
def history() -> list[dict[str, Any]]:
    return synthetic_history(random.Random(7))


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, history: list[dict[str, Any]]
) -> tuple[pathlib.Path, list[pathlib.Path]]:
    run_dir = make_run(tmp_path_factory.mktemp("report"), history)
    return run_dir, write_report(run_dir)


# --- parsing helpers -------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), plus the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def links(self) -> set[str]:
        return {str(attrs["href"]) for tag, attrs in self.tags if tag == "a" and attrs.get("href")}

    def classes(self, tag: str) -> list[list[str]]:
        return [str(a.get("class") or "").split() for t, a in self.tags if t == tag]


def png_size(path: pathlib.Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- write_report ----------------------------------------------------------------------------


def test_write_report_writes_every_artifact(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
) -> None:
    run_dir, written = rendered
    # The synthetic run is invalid on k1: its findings get their own page and a page per key.
    expected = {*PLOT_NAMES, "timeline.html", "index.html", "findings.html", "keys/k1.html"}
    assert {path.relative_to(run_dir).as_posix() for path in written} == expected
    for path in written:
        assert path.stat().st_size > 0, f"{path.name} is empty"


def test_plots_are_pngs_of_a_readable_size(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
) -> None:
    run_dir, _ = rendered
    for name in PLOT_NAMES:
        width, height = png_size(run_dir / name)
        assert 800 <= width <= 2500 and 400 <= height <= 1500, (name, width, height)


def test_index_links_every_artifact_and_node_log(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
) -> None:
    run_dir, _ = rendered
    page = Elements((run_dir / "index.html").read_text(encoding="utf-8"))
    expected = {
        *PLOT_NAMES,
        "timeline.html",
        "history.jsonl",
        "results.json",
        "test.json",
        "n1.log",
        "n2.log",
        "n3.log",
    }
    assert expected <= page.links()
    images = {attrs.get("src") for tag, attrs in page.tags if tag == "img"}
    assert set(PLOT_NAMES) <= images
    for link in page.links():
        target = link.split("#", 1)[0]
        assert (run_dir / target).is_file(), f"index.html links {link}, which does not exist"


def test_index_shows_verdict_and_each_checker(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
) -> None:
    run_dir, _ = rendered
    page = Elements((run_dir / "index.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert "INVALID" in text
    assert ["verdict", "invalid"] in page.classes("div")
    for name in RESULTS["checkers"]:
        assert name in text
    # Key figures: the lost count and the failing linearizability op are spelled out.
    assert "lost-count" in text
    assert "line 40 process 2 read k1 3 (ok)" in text
    assert "p2 read -> 3 cannot be linearized" in text
    assert "set-partition" in text and "42" in text  # test name and seed from test.json


def timeline_json(page: str) -> dict[str, Any]:
    """The operations the timeline page draws, as embedded in it."""
    start = page.index("<script type=application/json id=data>") + len(
        "<script type=application/json id=data>"
    )
    data: dict[str, Any] = json.loads(page[start : page.index("</script>", start)])
    return data


def test_timeline_has_a_lane_per_process_and_a_box_per_operation(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
    history: list[dict[str, Any]],
) -> None:
    run_dir, _ = rendered
    data = timeline_json((run_dir / "timeline.html").read_text(encoding="utf-8"))
    processes = {str(line["process"]) for line in history if line["process"] != "final"}
    assert sorted(data["lanes"]) == sorted(processes)
    invocations = [line for line in history if line["type"] == "invoke"]
    assert len(data["ops"]) == len(invocations)
    nemesis_lane = data["lanes"].index("nemesis")
    client_types = Counter(
        line["type"]
        for line in history
        if line["type"] != "invoke" and line["process"] not in ("nemesis", "final")
    )
    box_types = Counter(
        ("ok", "info", "fail")[op[3]] for op in data["ops"] if op[2] != nemesis_lane
    )
    assert box_types == client_types
    assert sum(1 for op in data["ops"] if op[2] == nemesis_lane) == 4  # start/stop of two faults
    # Every client box names its key and node; the faults carry their targets.
    client = [op for op in data["ops"] if op[2] != nemesis_lane]
    assert all(op[5] >= 0 and op[6] >= 0 for op in client)
    assert [f[2].split(" ")[0] for f in data["faults"]] == ["partition", "kill"]
    assert all(len(f[2].split(" ")) > 1 for f in data["faults"]), data["faults"]


def test_timeline_is_time_proportional_and_labels_the_final_phase(
    history: list[dict[str, Any]],
) -> None:
    data = timeline_json(render_timeline(history))
    for op in data["ops"]:
        assert op[0] <= op[1]  # start and end in milliseconds since the run started
    starts = [op[0] for op in data["ops"]]
    finals = [op for op in data["ops"] if op[9]]
    assert finals and data["final_ms"] == min(op[0] for op in finals)
    assert data["end_ms"] >= max(starts)
    failed = [op for op in data["ops"] if op[3] == 2]
    assert failed and all(op[8] for op in failed)  # the error is on the failed box


def test_history_values_are_escaped(
    rendered: tuple[pathlib.Path, list[pathlib.Path]],
    tmp_path: pathlib.Path,
) -> None:
    run_dir, _ = rendered
    timeline = (run_dir / "timeline.html").read_text(encoding="utf-8")
    assert EVIL not in timeline
    # Values travel as JSON inside a script element, with no "<" that could close it.
    assert "\\u003cscript>" in timeline
    assert any(EVIL in op[7] for op in timeline_json(timeline)["ops"])
    # Values from test.json and results.json are escaped on the index too.
    results = {"valid": True, "checkers": {"set": {"valid": True, "note": EVIL}}}
    other = make_run(tmp_path, [], results=results, test={"name": EVIL})
    write_report(other)
    index = (other / "index.html").read_text(encoding="utf-8")
    assert "<script" not in index
    assert "&lt;script&gt;" in index


def test_missing_results_means_unknown_not_checked(tmp_path: pathlib.Path) -> None:
    history = synthetic_history(random.Random(2), duration_s=2.0, faults=False)
    run_dir = make_run(tmp_path, history, results=None)
    written = write_report(run_dir)
    assert all(path.is_file() for path in written)
    page = Elements((run_dir / "index.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert "unknown" in text and "not checked" in text
    assert ["verdict", "unknown"] in page.classes("div")


def test_valid_run_says_valid(tmp_path: pathlib.Path) -> None:
    history = synthetic_history(random.Random(1), duration_s=2.0, faults=False)
    results = {"valid": True, "checkers": {"set": {"valid": True, "lost-count": 0}}}
    run_dir = make_run(tmp_path, history, results=results)
    write_report(run_dir)
    page = Elements((run_dir / "index.html").read_text(encoding="utf-8"))
    assert ["verdict", "valid"] in page.classes("div")
    assert "No faults were injected." in " ".join(page.text)


def test_empty_history_still_renders_every_file(tmp_path: pathlib.Path) -> None:
    run_dir = make_run(tmp_path, [])
    written = write_report(run_dir)
    for name in PLOT_NAMES:
        png_size(run_dir / name)
    assert {p.name for p in written} >= {*PLOT_NAMES, "timeline.html", "index.html"}
    timeline = Elements((run_dir / "timeline.html").read_text(encoding="utf-8"))
    assert "The history has no operations." in " ".join(timeline.text)
    index = " ".join(Elements((run_dir / "index.html").read_text(encoding="utf-8")).text)
    assert "No client operations." in index


def test_missing_history_renders_with_a_warning(tmp_path: pathlib.Path) -> None:
    run_dir = make_run(tmp_path, [])
    (run_dir / "history.jsonl").unlink()
    write_report(run_dir)
    index = " ".join(Elements((run_dir / "index.html").read_text(encoding="utf-8")).text)
    assert "history.jsonl is missing" in index


def test_plots_without_nemesis(tmp_path: pathlib.Path) -> None:
    history = synthetic_history(random.Random(3), duration_s=2.0, faults=False)
    for plot, name in zip(
        (plot_latency_raw, plot_latency_quantiles, plot_rate), PLOT_NAMES, strict=True
    ):
        path = plot(history, tmp_path / name)
        assert png_size(path)[0] > 0


def test_a_malformed_history_line_names_file_and_line(tmp_path: pathlib.Path) -> None:
    run_dir = make_run(tmp_path, [])
    good = {"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "read"}
    (run_dir / "history.jsonl").write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"history\.jsonl:2: not valid JSON"):
        write_report(run_dir)
    (run_dir / "history.jsonl").write_text(json.dumps({**good, "type": "done"}) + "\n")
    with pytest.raises(ReportError, match=r"history\.jsonl:1: .*'type'.*accepted: invoke"):
        write_report(run_dir)


def test_not_a_directory_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ReportError, match="not a directory"):
        write_report(tmp_path / "nope")


# --- pairing and nemesis intervals ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["ok", "fail", "info", None]), min_size=1, max_size=5),
        min_size=1,
        max_size=4,
    ),
    st.randoms(use_true_random=False),
)
def test_each_invocation_pairs_with_its_own_completion(
    outcomes_per_process: list[list[str | None]],
    rng: random.Random,
) -> None:
    # Each process runs its ops one after the other; processes interleave arbitrarily.
    # A None outcome (never completed) can only be a process's last op.
    queues = []
    for process, outcomes in enumerate(outcomes_per_process):
        lines: list[dict[str, Any]] = []
        for n, outcome in enumerate(outcomes):
            op_id = f"{process}-{n}"
            lines.append({"process": process, "type": "invoke", "f": "write", "value": op_id})
            if outcome is None:
                break
            lines.append({"process": process, "type": outcome, "f": "write", "value": op_id})
        queues.append(lines)
    history: list[dict[str, Any]] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        history.append({"index": len(history), "time": len(history) * 1000, **queue.pop(0)})
    ops = pair_operations(history)
    assert len(ops) == sum(1 for line in history if line["type"] == "invoke")
    for op in ops:
        if op.completion is None:
            assert op.type == "info"
            assert op.end_ns == history[-1]["time"]
        else:
            assert op.completion["value"] == op.invocation["value"]
            assert op.type == op.completion["type"]
            assert op.latency_ms is not None and op.latency_ms > 0


def test_fault_active_from_start_completion_to_stop_completion() -> None:
    lines = [
        ("nemesis", "invoke", "start-partition", 1),
        ("nemesis", "info", "start-partition", 2),
        (0, "invoke", "read", 3),
        (0, "ok", "read", 4),
        ("nemesis", "invoke", "stop-partition", 5),
        ("nemesis", "info", "stop-partition", 6),
        ("nemesis", "invoke", "start-kill", 7),
        ("nemesis", "info", "start-kill", 8),
        (0, "invoke", "read", 9),
        (0, "ok", "read", 10),
        ("final", "ok", "replica-state", 99),
    ]
    history = [
        {"index": i, "process": p, "type": t, "f": f, "time": s * NS_PER_S}
        for i, (p, t, f, s) in enumerate(lines)
    ]
    intervals = fault_intervals(history)
    assert [(i.fault, i.start_s, i.end_s, i.healed) for i in intervals] == [
        ("partition", 2.0, 6.0, True),
        ("kill", 8.0, 10.0, False),  # never stopped: active to the end (final dumps excluded)
    ]


def test_timeline_shows_an_uncompleted_op_as_info_to_the_end() -> None:
    history = [
        {"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "add", "value": 1},
        {"index": 1, "time": 10, "process": 1, "type": "invoke", "f": "add", "value": 2},
        {"index": 2, "time": 20_000_000, "process": 1, "type": "ok", "f": "add", "value": 2},
    ]
    data = timeline_json(render_timeline(history))
    by_lane = {data["lanes"][op[2]]: op for op in data["ops"]}
    assert ("ok", "info")[by_lane["1"][3]] == "ok"
    never = by_lane["0"]
    assert ("ok", "info")[never[3]] == "info"
    assert never[8] == "never completed" and never[1] == data["end_ms"] == 20.0


def test_key_figures_put_what_went_wrong_first() -> None:
    figures = key_figures(RESULTS["checkers"]["set"])
    assert dict(figures)["lost"] == "1 (17)"
    assert dict(figures)["acknowledged-count"] == "240"
    assert figures[0][0].startswith("lost")  # what went wrong comes first
    per_key = {
        "valid": False,
        "results": {
            "k1": {"valid": True},
            "k2": {
                "valid": False,
                "op": {
                    "index": 9,
                    "process": 4,
                    "type": "ok",
                    "f": "read",
                    "key": "k2",
                    "value": 5,
                },
            },
        },
    }
    assert dict(key_figures(per_key))["results"] == (
        "2 checked, 1 INVALID: k2 (first: #9 process 4 read k2 5 (ok))"
    )


# --- scale ---------------------------------------------------------------------------------------


def test_timeline_of_20k_operations_is_fast_and_compact() -> None:
    rng = random.Random(11)
    history = synthetic_history(rng, workers=5, duration_s=60.0, keys=20)
    ops = sum(1 for line in history if line["type"] == "invoke")
    assert ops >= 20_000
    # CPU time, not wall time: other tests running alongside must not make this flaky.
    started = time.process_time()
    page = render_timeline(history, "big")
    elapsed = time.process_time() - started
    assert elapsed < 3.0, f"rendering {ops} ops took {elapsed:.1f} s of CPU"
    size = len(page.encode("utf-8"))
    assert size < 400 * ops, f"{size / 1e6:.1f} MB for {ops} ops"
