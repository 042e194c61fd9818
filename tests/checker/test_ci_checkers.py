"""The log checker and the availability checker (issue 14, item 4)."""

from __future__ import annotations

from checker.base import CheckContext
from checker.logs import LogChecker

REAL_LOG = """2026-01-01 10:00:00,000 INFO cluster.net: n1 starting
2026-01-01 10:00:01,000 ERROR cluster.net: error handling Put from 'n2'
Traceback (most recent call last):
  File "server.py", line 420, in handle
ValueError: boom
"""
SIM_LOG = "     0.000 info    n2 starting\n     1.500 error   n2 store failed\n"
REFUSED = "2026-01-01 10:00:00,000 ERROR cluster.net: refusing to start: the database is damaged: x"


def test_a_traceback_or_an_error_line_makes_the_run_invalid_naming_node_and_line() -> None:
    result = LogChecker({"n1": REAL_LOG, "n2": SIM_LOG}).check([], CheckContext())
    assert result["valid"] is False and result["matches"] == 3
    where = [(line["node"], line["line"]) for line in result["lines"]]
    assert where == [("n1", 2), ("n1", 3), ("n2", 2)]
    assert "n1.log line 2" in result["summary"]


def test_clean_logs_and_refusals_the_nemesis_caused_are_valid() -> None:
    clean = "2026-01-01 10:00:00,000 INFO cluster.net: fine\n2026 WARNING slow\n"
    result = LogChecker({"n1": clean, "n2": REFUSED}).check([], CheckContext())
    assert result["valid"] is True and result["matches"] == 0


def test_patterns_are_configurable() -> None:
    logs = {"n1": "all fine\nhint queue overflow\n"}
    assert LogChecker(logs, patterns=("overflow",)).check([], CheckContext())["valid"] is False
    assert LogChecker(logs, patterns=()).check([], CheckContext())["valid"] is True
    ignored = LogChecker({"n1": REAL_LOG}, ignore=(r"error handling", r"Traceback"))
    assert ignored.check([], CheckContext())["matches"] == 0
