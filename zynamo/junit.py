"""JUnit XML of a batch of runs, the report CI systems render (GitHub, GitLab, Jenkins).

One ``<testsuite>`` per test (workload × nemesis × options); in it one ``<testcase>`` per run
(``seed N``) and one per checker of each run (``seed N: checker``). A run or checker that
found a violation is a ``<failure>``, one that could not decide or whose harness failed an
``<error>``; the message is the finding in words, the body adds the other findings, the
command that reproduces the run and where its files are. ``junit_xml`` is pure;
``write_junit`` writes the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from zynamo.outcome import RunOutcome


def _problem(case: ET.Element, verdict: str, message: str, body: str) -> None:
    tag = "failure" if verdict == "INVALID" else "error"
    element = ET.SubElement(case, tag, message=message, type=verdict)
    element.text = body


def _run_body(run: RunOutcome) -> str:
    lines = []
    for name, checker in run.checkers.items():
        if checker.verdict != "valid":
            lines.append(f"{name}: {checker.verdict}: {checker.summary}")
            lines += [f"  - {finding}" for finding in checker.findings]
    if run.error:
        lines.append(f"harness error: {run.error}")
    lines.append(f"reproduce: {run.reproduce}")
    if run.directory:
        lines.append(f"run directory: {run.directory}")
    return "\n".join(lines)


def _first_finding(run: RunOutcome) -> str:
    for name, checker in run.checkers.items():
        if checker.verdict != "valid":
            words = checker.findings[0] if checker.findings else checker.summary
            return f"{name}: {words}"
    return run.error or run.verdict


def _cases(suite: ET.Element, run: RunOutcome) -> None:
    name = f"seed {run.seed}"
    case = ET.SubElement(
        suite, "testcase", classname=run.test, name=name, time=f"{run.elapsed_s:.3f}"
    )
    if run.verdict != "valid":
        _problem(case, run.verdict, f"{run.verdict}: {_first_finding(run)}", _run_body(run))
        ET.SubElement(case, "system-out").text = f"reproduce: {run.reproduce}\n"
    for checker_name, checker in run.checkers.items():
        case = ET.SubElement(
            suite, "testcase", classname=run.test, name=f"{name}: {checker_name}", time="0"
        )
        if checker.verdict != "valid":
            words = "; ".join(checker.findings) or checker.summary
            body = "\n".join(
                [checker.summary, *checker.findings, f"reproduce: {run.reproduce}"]
                + ([f"run directory: {run.directory}"] if run.directory else [])
            )
            _problem(case, checker.verdict, f"{checker.verdict}: {words}", body)


def junit_xml(runs: Sequence[RunOutcome], name: str = "zynamo") -> str:
    """The JUnit XML document of ``runs`` (in the order given)."""
    root = ET.Element("testsuites", name=name)
    suites: dict[str, ET.Element] = {}
    for run in runs:
        suite = suites.get(run.test)
        if suite is None:
            suite = suites[run.test] = ET.SubElement(root, "testsuite", name=run.test)
        _cases(suite, run)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in suites.values():
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        seconds = sum(float(c.get("time", "0")) for c in cases)
        suite.set("time", f"{seconds:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, runs: Sequence[RunOutcome], name: str = "zynamo") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(runs, name), encoding="utf-8")
