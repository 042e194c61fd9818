"""``--availability FRACTION`` (Maelstrom's availability check): a run whose client
operations invoked inside fault windows succeeded less often than FRACTION is invalid.

The fractions come from ``check_stats`` (ok over completed client operations, final reads
excluded). A run with no operation inside a fault window has nothing to judge: valid, said so.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.base import CheckContext, Record, Result
from checker.dynamo.stats import check_stats


@dataclass(frozen=True)
class AvailabilityChecker:
    minimum: float  # the ok fraction required inside fault windows, 0..1
    name: str = field(default="availability")

    def check(self, history: list[Record], context: CheckContext) -> Result:
        inside = check_stats(history)["availability"]["inside"]
        fraction = inside["ok_fraction"]
        result: Result = {
            "valid": True,
            "required": self.minimum,
            "ok_fraction": fraction,
            "ok": inside["ok"],
            "total": inside["total"],
        }
        if fraction is None:
            result["summary"] = "no client operation was invoked inside a fault window"
        elif fraction < self.minimum:
            result["valid"] = False
            result["summary"] = (
                f"only {fraction:.1%} of operations inside fault windows succeeded"
                f" ({inside['ok']} of {inside['total']}); --availability asks {self.minimum:.1%}"
            )
        return result
