"""The report explains an invalid run: findings in plain words at the top of index.html, each
linked to its story on its key's page, where the node journals say what the protocol did."""

from __future__ import annotations

import json
import pathlib
import re
from html.parser import HTMLParser

from tests.zynamo.report_fixtures import write_lost_add_run
from zynamo.report import write_report
from zynamo.report.checkers import key_figures
from zynamo.report.faults import describe_fault
from zynamo.report.findings import find
from zynamo.report.history import HistoryView


class Page(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if found.get("id"):
            self.ids.add(str(found["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def test_the_front_page_states_the_lost_add_in_plain_words_and_links_its_story(
    tmp_path: pathlib.Path,
) -> None:
    run_dir = write_lost_add_run(tmp_path)
    write_report(run_dir)
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    page = Page(index)
    words = page.words
    assert "What went wrong" in words and "Failing: set" in words
    assert (
        "k3: add 5, acknowledged at 4.47 s by coordinator n2 (replicas n2, n4 as fallback),"
        " is missing from the final read at 63.20 s" in words
    )
    # The findings come before the list of files and the checkers' tables.
    assert index.index("What went wrong") < index.index("<h2>Files</h2>")
    assert "keys/k3.html#finding-0" in page.hrefs
    assert "zynamo test --workload set --nemesis kill" in words and "--seed 42" in words
    assert "git checkout caf5eee01234" in words


def test_every_link_of_a_finding_lands_on_an_anchor_of_the_key_page(
    tmp_path: pathlib.Path,
) -> None:
    run_dir = write_lost_add_run(tmp_path)
    write_report(run_dir)
    index = Page((run_dir / "index.html").read_text(encoding="utf-8"))
    key_page = Page((run_dir / "keys" / "k3.html").read_text(encoding="utf-8"))
    targets = [h for h in index.hrefs if h.startswith("keys/k3.html#")]
    assert targets
    for href in targets:
        assert href.split("#", 1)[1] in key_page.ids, href
    assert {"op-3", "op-11"} <= key_page.ids  # the add and the final read that missed it


def test_the_key_page_tells_what_the_nodes_did_with_the_element(tmp_path: pathlib.Path) -> None:
    run_dir = write_lost_add_run(tmp_path)
    write_report(run_dir)
    text = (run_dir / "keys" / "k3.html").read_text(encoding="utf-8")
    words = Page(text).words
    assert "5 first appears in version n2:7, created by n2 at 4.46 s" in words
    assert "n4 (hint for n3)" in words
    assert "n1 created version n1:2 without it" in words
    assert "Later faults on nodes that held it: kill n4 5.10–9.10 s" in words
    assert "fault starts: kill n4" in words
    assert "<svg" in text and "n2:7" in text  # the version graph names the version


def test_every_capped_list_says_how_many_and_the_rest_is_on_the_findings_page(
    tmp_path: pathlib.Path,
) -> None:
    run_dir = write_lost_add_run(tmp_path, lost_count=79)
    write_report(run_dir)
    words = Page((run_dir / "index.html").read_text(encoding="utf-8")).words
    assert "set: 1 of 79 lost listed by the checker" in words
    assert "1 of 79 listed (all counted in lost)" in words
    findings = Page((run_dir / "findings.html").read_text(encoding="utf-8")).words
    assert "1 of 79 lost are listed" in findings


def test_key_figures_format_times_and_never_cut_json_in_the_middle() -> None:
    result = json.loads(
        json.dumps(
            {
                "valid": False,
                "heal_ns": 61_491_694_518,
                "lost": 2,
                "lost_elements": [
                    {"key": "k3", "element": 5, "known_ns": 4_470_000_000, "missing_from": {}},
                    {"key": "k4", "element": 6, "known_ns": 5_000_000_000, "missing_from": {}},
                ],
            }
        )
    )
    figures = dict(key_figures(result))
    assert figures["heal_ns"] == "61.49 s"
    assert '{"' not in figures["lost_elements"]
    assert "key k3, element 5, known_ns 4.47 s" in figures["lost_elements"]


def test_a_moved_run_keeps_its_title(tmp_path: pathlib.Path) -> None:
    run_dir = write_lost_add_run(tmp_path)
    moved = tmp_path / "elsewhere" / "copy"
    moved.parent.mkdir()
    run_dir.rename(moved)
    write_report(moved)
    assert "<h1>set-kill</h1>" in (moved / "index.html").read_text(encoding="utf-8")


def test_a_linearizability_failure_becomes_a_finding_with_a_diagram(tmp_path: pathlib.Path) -> None:
    s = 1_000_000_000

    def line(index: int, process: int, type_: str, f: str, value: int | None) -> dict[str, object]:
        return {"index": index, "time": (index + 1) * s, "process": process, "type": type_,
                "f": f, "key": "k1", "value": value}  # fmt: skip

    history = [
        line(0, 0, "invoke", "write", 1),
        line(1, 0, "ok", "write", 1),
        line(2, 1, "invoke", "read", None),
        line(3, 1, "ok", "read", 0),
    ]
    result = {
        "valid": False,
        "key": "k1",
        "op": {"line": 3, "completed_line": 4, "process": 1, "type": "ok", "f": "read",
               "key": "k1", "value": 0},
        "linearized_prefix_length": 1,
        "linearized_prefix": [{"line": 1, "completed_line": 2, "process": 0, "type": "ok",
                               "f": "write", "key": "k1", "value": 1}],
        "state_after_prefix": 1,
    }  # fmt: skip
    findings = find({"valid": False, "checkers": {"linearizable": result}}, HistoryView.of(history))
    assert len(findings.items) == 1
    finding = findings.items[0]
    assert finding.kind == "not linearizable" and finding.key == "k1" and finding.ops == (3,)
    assert finding.text.startswith(
        "k1: read → 0 by process 1 at 3.00 s cannot be linearized: after the first 1"
        " operations the register holds 1, written by write 1, acknowledged at 2.00 s"
    ), finding.text
    run_dir = tmp_path / "reg" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (run_dir / "results.json").write_text(
        json.dumps({"valid": False, "checkers": {"linearizable": result}})
    )
    write_report(run_dir)
    page = (run_dir / "keys" / "k1.html").read_text(encoding="utf-8")
    assert "class=linear" in page and "#1 w 1" in page and "#cf222e" in page


def test_a_partition_is_described_by_its_sides() -> None:
    grudge = {"n1": ["n3"], "n2": ["n3"], "n3": ["n1", "n2"]}
    assert describe_fault("partition", {"grudge": grudge}) == "partition n1,n2 | n3"
    assert describe_fault("kill", {"nodes": ["n1", "n5"]}) == "kill n1, n5"


def test_two_values_under_one_version_name_are_called_out() -> None:
    """What per-node vector clocks do to two concurrent puts through one coordinator."""
    from zynamo.report.findings import Finding, OpIndex
    from zynamo.report.story import explain

    s = 1_000_000_000
    add = {"process": 0, "f": "add", "key": "k0", "value": 12}
    history = [
        {"index": 0, "time": s, "type": "invoke", **add},
        {"index": 1, "time": 2 * s, "type": "ok", **add},
    ]
    view = HistoryView.of(history)

    def created(t: float, value: list[int], dot: str, context: dict[str, int]) -> dict[str, object]:
        return {"time": int(t * s), "node": "n1", "kind": "version-created", "key": "k0",
                "req": int(t * 10), "dot": dot, "value": value, "context": context}  # fmt: skip

    events = [
        created(0.5, [11], "n1:7", {"n1": 6}),  # an ancestor: not what dropped 12
        created(1.5, [11, 12], "n1:8", {"n1": 7}),
        created(1.5, [11, 13], "n1:8", {"n1": 7}),
    ]
    finding = Finding("set", "lost", "k0: add 12 …", "k0", 12, (1,), 3 * s)
    sentences = explain(view, OpIndex(view), events, finding)
    assert sentences[0].startswith("12 first appears in version n1:8")
    assert "another version under the same name n1:8 with a different value ([11,13])" in " ".join(
        sentences
    )
    assert not any("n1:7 without it" in sentence for sentence in sentences)
