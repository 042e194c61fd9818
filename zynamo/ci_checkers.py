"""The checks a run gets beside its workload's: the node-log checker (``--log-pattern``,
``--log-ignore``) and, when asked, ``--availability``.

``extra_checkers(options, directory)`` reads the nodes' logs the environment collected into
the run directory (``<node>.log``) and returns the ``Checker`` objects; the runner and
``zynamo analyze`` append them to the workload's. Does file I/O (reads the logs).
"""

from __future__ import annotations

from pathlib import Path

from checker.api import Checker
from checker.availability import AvailabilityChecker
from checker.logs import LogChecker
from zynamo.options import TestOptions

LOG_BYTES = 64 * 1024 * 1024  # a node log larger than this is read only this far


def node_logs(directory: Path) -> dict[str, str]:
    """Each ``<node>.log`` in the run directory, by node."""
    logs = {}
    for path in sorted(directory.glob("*.log")):
        with path.open("rb") as handle:
            logs[path.stem] = handle.read(LOG_BYTES).decode("utf-8", errors="replace")
    return logs


def extra_checkers(options: TestOptions, directory: Path) -> list[Checker]:
    checkers: list[Checker] = []
    logs = node_logs(directory) if options.log_patterns else {}
    if logs:  # an environment without node logs (an in-memory one) has nothing to check here
        checkers.append(LogChecker(logs, options.log_patterns, options.log_ignore))
    if options.availability is not None:
        checkers.append(AvailabilityChecker(options.availability))
    return checkers
