"""The log checker (Jepsen's ``log-file-pattern``): a node log holding a traceback or an
error-level line makes the run invalid, however good its history looks.

``LogChecker(logs, patterns, ignore)`` is given each node's log text (the harness reads the
files) and regular expressions: a line matching any of ``patterns`` and none of ``ignore`` is a
finding, named by node and line number. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.base import CheckContext, Record, Result

# A Python traceback, a logging ERROR/CRITICAL line (real nodes: "... ERROR cluster.net: ..."),
# and the simulator's lower-case level column ("  12.345 error   ...").
DEFAULT_PATTERNS = (
    r"Traceback \(most recent call last\)",
    r"\b(ERROR|CRITICAL|FATAL)\b",
    r"^\s*\d+\.\d+ (error|critical)\s",
)
# Lines that are errors by design: a node refusing a store the nemesis damaged on purpose.
DEFAULT_IGNORE = (r"refusing to start: the database is damaged",)
LISTED = 20  # matches listed in the result; all are counted


@dataclass(frozen=True)
class LogChecker:
    logs: Mapping[str, str]  # node -> its log's text
    patterns: Sequence[str] = DEFAULT_PATTERNS
    ignore: Sequence[str] = DEFAULT_IGNORE
    name: str = field(default="logs")

    def check(self, history: list[Record], context: CheckContext) -> Result:
        if not self.patterns:
            return {"valid": True, "nodes": len(self.logs), "matches": 0, "patterns": []}
        wanted = re.compile("|".join(f"(?:{p})" for p in self.patterns), re.MULTILINE)
        unwanted = re.compile("|".join(f"(?:{p})" for p in self.ignore)) if self.ignore else None
        matches: list[dict[str, Any]] = []
        count = 0
        for node in sorted(self.logs):
            for number, line in enumerate(self.logs[node].splitlines(), start=1):
                if not wanted.search(line) or (unwanted and unwanted.search(line)):
                    continue
                count += 1
                if len(matches) < LISTED:
                    matches.append({"node": node, "line": number, "text": line.strip()[:300]})
        result: Result = {
            "valid": count == 0,
            "nodes": len(self.logs),
            "matches": count,
            "patterns": list(self.patterns),
            "lines": matches,
        }
        if count:
            first = matches[0]
            result["summary"] = (
                f"{count} log line(s) match an error pattern; first {first['node']}.log line"
                f" {first['line']}: {first['text'][:120]}"
            )
        return result
