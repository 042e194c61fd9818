"""The Dynamo checks over this project's history records, and their composition.

No I/O. Each check is a pure function ``check_*(records, ...) -> {"valid": ..., ...}``:
`check_set` (set-full: lost / stale / never-read elements, stable latency),
`check_convergence` (replica dumps agree after the heal), `check_quorum` (strict-quorum
reads see acknowledged writes), `check_versions` (sibling histogram, causal graph anomalies),
`check_stats` (counts, latencies, throughput, availability). `run_dynamo_checks` picks the
ones that fit a workload and composes them (false over unknown over true).
"""

from __future__ import annotations

from typing import Any

from checker.compose import compose
from checker.dynamo.convergence import check_convergence
from checker.dynamo.quorum import check_quorum
from checker.dynamo.records import client_ops
from checker.dynamo.set_full import check_set
from checker.dynamo.stats import check_stats
from checker.dynamo.versions import check_versions

WORKLOADS = ("set", "register")

__all__ = [
    "WORKLOADS",
    "check_convergence",
    "check_quorum",
    "check_set",
    "check_stats",
    "check_versions",
    "run_dynamo_checks",
]


def run_dynamo_checks(
    records: list[dict[str, Any]],
    workload: str,
    n: int,
    time_limit_s: float | None = None,
) -> dict[str, Any]:
    """``{"valid": ..., "checkers": {name: result}}`` for a ``set`` or ``register`` run."""
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; expected one of {', '.join(WORKLOADS)}")
    checkers: dict[str, dict[str, Any]] = {}
    ops = client_ops(records)
    if workload == "set":
        checkers["set"] = check_set(records, ops)
    else:
        from checker.linearizable import check_linearizable
        from checker.readers import ops_from_records

        checkers["linearizable"] = check_linearizable(
            ops_from_records(records), "register", time_limit_s
        )
    checkers["convergence"] = check_convergence(records, n)
    checkers["quorum"] = check_quorum(records, n, ops)
    if workload == "set":
        checkers["versions"] = check_versions(records, ops)
    checkers["stats"] = check_stats(records, ops)
    return {"valid": compose(checkers.values()), "checkers": checkers}
