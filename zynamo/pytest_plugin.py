"""The pytest plugin (entry point ``pytest11``: installed with zynamo, active in every pytest
session): nemesis tests written as pytest tests.

Fixtures:

- ``zynamo_run``: a function ``run(**options) -> ZynamoRun`` that runs one whole test
  (``TestOptions`` fields: ``workload``, ``nemesis``, ``time_limit_s``, ...) and returns its
  history, results and verdicts; ``run.assert_valid()`` fails the test with the findings;
- ``zynamo_cluster``: a started cluster (an ``Environment``: ``--zynamo-env sim`` by default,
  or ``real`` processes behind Toxiproxy) for tests that drive it themselves;
- ``zynamo_nemesis``: a nemesis over that cluster (``zynamo_options().faults``), healed after;
- ``zynamo_options``: the options of this test (the environment, the seed, a results folder);
- ``zynamo_seed``: the seed, from ``@pytest.mark.zynamo_seed(7)``; with several seeds
  (``zynamo_seed(1, 2, 3)``) the test runs once per seed.

A failing test prints, for every run it made, the verdict, the findings in words, the command
that reproduces the run and its directory, which is kept (``--zynamo-results``, default
``results/pytest``); a passing test's runs are deleted unless ``--zynamo-keep``.
Guide: docs/pytest.md. Does file, process and network I/O through the runner.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zynamo.env.base import Environment
    from zynamo.options import TestOptions
    from zynamo.outcome import RunOutcome

SEED_MARKER = "zynamo_seed"
RUNS_KEY = pytest.StashKey[list["ZynamoRun"]]()
REPORT_KEY = pytest.StashKey[pytest.TestReport]()


@dataclass
class ZynamoRun:
    """One run a test made: what the workload did and what the checkers said."""

    options: TestOptions
    directory: Path
    results: dict[str, Any]
    history: list[dict[str, Any]]
    outcome: RunOutcome
    kept: bool = field(default=False)

    @property
    def valid(self) -> Any:
        return self.results.get("valid", "unknown")

    @property
    def verdicts(self) -> dict[str, str]:
        """Each checker's verdict word: valid, INVALID or unknown."""
        return {name: c.verdict for name, c in self.outcome.checkers.items()}

    @property
    def reproduce(self) -> str:
        return self.outcome.reproduce

    def explain(self) -> str:
        """The verdict, the findings in words, the reproduce command and the directory."""
        lines = [f"{self.outcome.test} seed {self.outcome.seed}: {self.outcome.verdict}"]
        for name, checker in self.outcome.checkers.items():
            if checker.verdict != "valid":
                lines.append(f"  {name}: {checker.verdict}: {checker.summary}")
                lines += [f"    - {finding}" for finding in checker.findings]
        lines.append(f"  reproduce: {self.reproduce}")
        lines.append(f"  run directory: {self.directory}")
        return "\n".join(lines)

    def assert_valid(self) -> None:
        """Fail the test (AssertionError with the findings) unless every checker is valid."""
        if self.valid is not True:
            raise AssertionError(self.explain())


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zynamo", "Zynamo nemesis tests")
    group.addoption(
        "--zynamo-env",
        default="sim",
        choices=("sim", "real"),
        help="where zynamo fixtures run clusters: sim (default) or real processes",
    )
    group.addoption(
        "--zynamo-results",
        default="results/pytest",
        help="where runs of zynamo fixtures are stored (default results/pytest)",
    )
    group.addoption("--zynamo-keep", action="store_true", help="keep the runs of passing tests too")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SEED_MARKER}(*seeds): the seed of zynamo fixtures; several seeds run the test"
        " once per seed",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(SEED_MARKER)
    uses_seed = {"zynamo_seed", "zynamo_options", "zynamo_run", "zynamo_cluster"}
    if marker is None or not uses_seed & set(metafunc.fixturenames):
        return
    seeds = [int(seed) for seed in marker.args] or [0]
    if len(seeds) > 1:
        metafunc.parametrize("zynamo_seed", seeds, ids=[f"seed{s}" for s in seeds])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[REPORT_KEY] = report
        runs = item.stash.get(RUNS_KEY, [])
        if report.failed and runs:
            report.sections.append(("zynamo runs", "\n\n".join(run.explain() for run in runs)))
    return report


@pytest.fixture
def zynamo_seed(request: pytest.FixtureRequest) -> int:
    """The seed: the parameter of a several-seed marker, the marker's one seed, else 0."""
    if hasattr(request, "param"):
        return int(request.param)
    marker = request.node.get_closest_marker(SEED_MARKER)
    return int(marker.args[0]) if marker is not None and marker.args else 0


@pytest.fixture
def zynamo_options(request: pytest.FixtureRequest, zynamo_seed: int) -> Callable[..., TestOptions]:
    """``options(**fields) -> TestOptions`` for this test: the environment of
    ``--zynamo-env``, the seed, a results folder per test, short runs (15 s) unless given."""
    from zynamo.options import TestOptions

    config = request.config
    folder = Path(str(config.getoption("--zynamo-results"))) / _safe(request.node.name)

    def tidy() -> None:  # after every other zynamo fixture: a passing test leaves nothing
        if not config.getoption("--zynamo-keep") and _passed(request):
            shutil.rmtree(folder, ignore_errors=True)

    request.addfinalizer(tidy)

    def options(**fields: Any) -> TestOptions:
        values: dict[str, Any] = {
            "env": config.getoption("--zynamo-env"),
            "seed": zynamo_seed,
            "results_dir": folder,
            "time_limit_s": 15.0,
            "nemesis_interval_s": 3.0,
        }
        values.update(fields)
        return TestOptions(**values)

    return options


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100]


def _passed(request: pytest.FixtureRequest) -> bool:
    report = request.node.stash.get(REPORT_KEY, None)
    return report is not None and report.passed


@pytest.fixture
def zynamo_run(
    request: pytest.FixtureRequest, zynamo_options: Callable[..., TestOptions]
) -> Iterator[Callable[..., ZynamoRun]]:
    """``run(**options) -> ZynamoRun``: one whole test (cluster, workload under the nemesis,
    heal, checks), in this test's results folder."""
    runs: list[ZynamoRun] = []
    request.node.stash[RUNS_KEY] = runs

    def run(**fields: Any) -> ZynamoRun:
        from zynamo.outcome import outcome_of
        from zynamo.report import write_report
        from zynamo.runner import new_run_dir, run_test
        from zynamo.sweep import load_run_history

        options = zynamo_options(**fields)
        directory = new_run_dir(options)
        result = run_test(options, progress=lambda line: None, directory=directory, report=False)
        history = load_run_history(directory) or []
        outcome = outcome_of(options, result.results, directory, history)
        if result.valid is not True:
            write_report(directory)  # a failing run is kept: it gets its report now
        zynamo = ZynamoRun(options, directory, result.results, history, outcome)
        runs.append(zynamo)
        return zynamo

    yield run
    if request.config.getoption("--zynamo-keep") or not _passed(request):
        for zynamo in runs:
            zynamo.kept = True


@pytest.fixture
def zynamo_cluster(zynamo_options: Callable[..., TestOptions]) -> Iterator[Environment]:
    """A started cluster of ``zynamo_options()`` (5 nodes, N=3): an ``Environment`` with
    ``client``, ``admin``, ``kill``, ``clock``, ... Stopped after the test."""
    from zynamo.runner import cluster_config, default_environment, new_run_dir

    options = zynamo_options()
    directory = new_run_dir(options)
    with default_environment(options, cluster_config(options), directory) as env:
        env.start()
        try:
            yield env
        finally:
            env.collect_logs(directory)
            env.stop()


@pytest.fixture
def zynamo_nemesis(
    zynamo_cluster: Environment, zynamo_options: Callable[..., TestOptions]
) -> Iterator[Any]:
    """The nemesis of ``zynamo_options()`` (partition and kill by default) over
    ``zynamo_cluster``: ``invoke(op)`` a fault, ``heal()``; healed and torn down after."""
    from nemesis.combined import build_nemesis

    options = zynamo_options()
    nemesis = build_nemesis(
        options.faults or ("partition",),
        env=zynamo_cluster,
        rng=random.Random(options.seed),
        options=options,
    )
    nemesis.setup()
    try:
        yield nemesis
    finally:
        nemesis.heal()
        nemesis.teardown()


__all__ = ["ZynamoRun"]
