"""``zynamo test-all``'s named suites: rows as data, validated before any runs, picked by
name, swept over seeds, and named in the table and summary.json."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workloads.catalog import WORKLOADS
from zynamo.options import REPAIRS
from zynamo.options import TestOptions as Options
from zynamo.suite import DEFAULT_SUITE, SUITES, SuiteRow, suite_options, suite_rows

SIM = ["--env", "sim", "--time-limit", "8", "--nemesis-interval", "3"]


def zynamo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zynamo", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("env", ["sim", "real"])
def test_every_row_of_every_suite_is_a_valid_test_in_both_environments(env: str) -> None:
    for name, rows in SUITES.items():
        built = suite_options(Options(env=env, seed=5), rows)
        assert [o.test_name for o in built] == [row.name for row in rows], name
        assert all(o.env == env and o.seed == 5 for o in built)
        assert len({row.name for row in rows}) == len(rows)
        assert all(row.exercises for row in rows)


def test_the_default_suite_reaches_what_issue_16_asks_for() -> None:
    built = suite_options(Options(env="sim"), DEFAULT_SUITE)
    assert any(o.pr and o.pw for o in built), "a strict-primaries row"
    assert {o.workload for o in built} == set(WORKLOADS), "every workload, deletes included"
    assert any(o.key_distribution == "zipf" for o in built), "hot keys"
    assert any(o.tombstone_grace_ms <= 1000 for o in built), "reaping within the run"
    assert any("membership" in o.nemesis for o in built), "ownership transfers"
    for mechanism in REPAIRS:
        assert any(o.repairs == (mechanism,) for o in built), f"{mechanism} alone"


def test_a_rows_options_win_over_the_shared_flags_but_not_where_and_when() -> None:
    row = SuiteRow("hot", "hot keys", {"concurrency": 20, "key_distribution": "zipf"})
    shared = Options(env="sim", concurrency=3, time_limit_s=7.0, seed=9)
    (built,) = suite_options(shared, [row])
    assert (built.concurrency, built.key_distribution) == (20, "zipf")
    assert (built.time_limit_s, built.seed, built.name) == (7.0, 9, "hot")
    with pytest.raises(ValueError, match=r"'where'.*seed"):
        SuiteRow("where", "", {"seed": 3}).apply(shared)


def test_a_bad_row_is_refused_naming_the_row_and_the_option() -> None:
    with pytest.raises(ValueError, match=r"suite row 'bad'.*--pw"):
        SuiteRow("bad", "", {"pw": 3}).apply(Options())


def test_rows_are_picked_by_name_in_the_suites_order() -> None:
    names = [row.name for row in suite_rows("default", ("hot-keys", "strict-primaries"))]
    assert names == ["strict-primaries", "hot-keys"]
    with pytest.raises(ValueError, match="--rows: nope not in suite 'default'"):
        suite_rows("default", ("nope",))
    with pytest.raises(ValueError, match="--suite: 'nope' is not one of default"):
        suite_rows("nope")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rows", "strict-primaries,nope"], ["--rows", "nope", "hot-keys"]),
        (["--suite", "nope"], ["--suite", "'nope'"]),
        (["--rows", "hot-keys", "--workloads", "set"], ["--suite/--rows", "not both"]),
        (["--test-count", "0"], ["--test-count"]),
    ],
)
def test_test_all_refuses_a_bad_suite_before_anything_runs(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    proc = zynamo("test-all", "--env", "sim", "--results", str(tmp_path), *args)
    assert proc.returncode == 254, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_test_all_runs_the_rows_it_is_given_and_names_them(tmp_path: Path) -> None:
    proc = zynamo("test-all", *SIM, "--rows", "strict-primaries,read-repair-alone", "--seed",
                  "2", "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = proc.stdout.split("\nrow ", 1)[1]
    assert "strict-primaries" in table and "read-repair-alone" in table
    (summary_path,) = tmp_path.glob("test-all/*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["suite"] == "default"
    assert [r["name"] for r in summary["suite_rows"]] == ["strict-primaries", "read-repair-alone"]
    assert summary["suite_rows"][0]["options"]["pw"] == 2
    assert [run["test"] for run in summary["runs"]] == ["strict-primaries", "read-repair-alone"]
    test_json = json.loads(next(tmp_path.glob("strict-primaries/*/test.json")).read_text())
    assert (test_json["pr"], test_json["pw"], test_json["time_limit_s"]) == (2, 2, 8.0)
    # read repair alone: the keys read are dumped again after the final reads, and owed
    results = json.loads(next(tmp_path.glob("read-repair-alone/*/results.json")).read_text())
    owed = results["checkers"]["convergence"]["read_repair"]
    assert owed["valid"] is True and owed["keys_read"] > 0
    history = (next(tmp_path.glob("read-repair-alone/*/history.jsonl"))).read_text()
    records = [json.loads(line) for line in history.splitlines()]
    phases = [r.get("phase") for r in records if r.get("f") == "replica-state"]
    assert "after-final-reads" in phases and phases[-1] == "after-final-reads"
    # the replicas are dumped only once every hint has been handed off (node-state first)
    finals = [r["f"] for r in records if r.get("f") in ("node-state", "replica-state")]
    assert finals.index("replica-state") > max(i for i, f in enumerate(finals) if f == "node-state")


def test_test_all_sweeps_every_row_over_the_seeds(tmp_path: Path) -> None:
    proc = zynamo("test-all", *SIM, "--rows", "cart-removes,hints-alone", "--seeds", "3..4",
                  "--results", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (summary_path,) = tmp_path.glob("test-all/*/summary.json")
    summary = json.loads(summary_path.read_text())
    runs = [(run["test"], run["seed"]) for run in summary["runs"]]
    assert runs == [("cart-removes", 3), ("cart-removes", 4), ("hints-alone", 3),
                    ("hints-alone", 4)]  # fmt: skip
    assert summary["seeds"] == 2 and summary["counts"]["valid"] == 4
    assert "cart-removes" in proc.stdout.split("\nrow ", 1)[1]
    assert list(tmp_path.glob("cart-removes/sweep-*/summary.json"))


def test_options_replace_keeps_a_row_frozen() -> None:
    row = DEFAULT_SUITE[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        row.options["workload"] = "register"  # type: ignore[index]
