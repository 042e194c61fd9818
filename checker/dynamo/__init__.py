"""The Dynamo checks over this project's history records, as functions and as ``Checker``
objects that workloads name.

No I/O. Each check is a pure function ``check_*(records, ...) -> {"valid": ..., ...}``:
`check_set` (set-full: lost / stale / never-read elements, stable latency),
`check_convergence` (replica dumps agree after the heal), `check_quorum` (strict-quorum
reads see acknowledged writes), `check_versions` (sibling histogram, causal graph anomalies),
`check_stats` (counts, latencies, throughput, availability), `check_lost_versions` (every
acknowledged version present or superseded after recovery), `check_leftovers` (no hints left
after recovery), `check_nemesis` (every fault operation succeeded), `check_invariants`
(protocol invariants over the nodes' event journals, which the context carries),
`check_coverage` (which protocol paths the run exercised, from the journals),
`check_placement` (before the first fault, writes stay on the primaries and most operations
succeed). Each has a
``Checker``
(``checker.base``) wrapping it, named as its result appears in ``results.json``; with
``LinearizableChecker`` (linearizability per key under a model) they are what a workload lists
in its ``checkers``, and ``checker.base.run_checkers`` runs and composes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.base import CheckContext, Record, Result
from checker.dynamo.aftermath import check_leftovers, check_nemesis
from checker.dynamo.cart import check_cart
from checker.dynamo.convergence import check_convergence, check_read_repair_convergence
from checker.dynamo.coverage import check_coverage
from checker.dynamo.deletes import check_deletes
from checker.dynamo.invariants import CLOCK_SLACK_NS, check_invariants
from checker.dynamo.lost_versions import check_lost_versions
from checker.dynamo.placement import check_placement
from checker.dynamo.quorum import check_quorum
from checker.dynamo.set_full import check_set
from checker.dynamo.stats import check_stats
from checker.dynamo.versions import check_versions

__all__ = [
    "CartChecker",
    "ConvergenceChecker",
    "CoverageChecker",
    "DeletesChecker",
    "InvariantsChecker",
    "LeftoversChecker",
    "LinearizableChecker",
    "LostVersionsChecker",
    "NemesisChecker",
    "PlacementChecker",
    "QuorumChecker",
    "SetChecker",
    "StatsChecker",
    "VersionsChecker",
    "check_cart",
    "check_convergence",
    "check_coverage",
    "check_deletes",
    "check_invariants",
    "check_leftovers",
    "check_lost_versions",
    "check_nemesis",
    "check_placement",
    "check_quorum",
    "check_read_repair_convergence",
    "check_set",
    "check_stats",
    "check_versions",
]


@dataclass(frozen=True)
class SetChecker:
    """Set-full: every acknowledged add is in the final reads (``check_set``)."""

    name: str = "set"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_set(history)


@dataclass(frozen=True)
class LinearizableChecker:
    """Linearizability per key against ``model`` (``checker.linearizable``), within the
    context's time budget."""

    model: str = "register"
    name: str = "linearizable"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        from checker.linearizable import check_linearizable  # the search is heavy to import
        from checker.readers import ops_from_records

        ops = ops_from_records(history)
        return check_linearizable(ops, self.model, context.time_limit_s)


@dataclass(frozen=True)
class ConvergenceChecker:
    """Every key's replicas hold the same siblings after the heal (``check_convergence``);
    with the context's ``n``, also that n replicas answered.

    Only anti-entropy promises that every key converges (docs/repair.md): in a run with it
    switched off, replicas that still disagree are reported but do not fail the run — except,
    when read repair is on, the keys the final reads read: they must have converged in the
    dumps taken after those reads (``check_read_repair_convergence``)."""

    name: str = "convergence"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        result = check_convergence(history, context.n)
        if context.repairs is None or "anti-entropy" in context.repairs:
            return result
        result["owed"] = False
        if result.get("valid") is False:
            result["valid"] = True
            result["summary"] = (
                "not owed: anti-entropy is off, so keys that were not read may stay diverged"
                f" ({result.get('converged_keys')} of {result.get('keys')} converged)"
            )
        if "read-repair" in context.repairs:
            # Read repair alone still owes the keys that were read (docs/repair.md).
            owed = check_read_repair_convergence(history, context.n)
            result["read_repair"] = owed
            result["valid"] = owed["valid"]
            converged = f"{owed.get('converged_keys', 0)} of {owed.get('keys_read')}"
            result["summary"] = (
                f"read repair alone: keys read converged after the final reads: {converged}"
                if owed["valid"] != "unknown"
                else f"read repair alone: {owed.get('reason')}"
            )
        return result


@dataclass(frozen=True)
class QuorumChecker:
    """Strict-quorum reads see the writes acknowledged before them (``check_quorum``)."""

    name: str = "quorum"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_quorum(history, context.n)


@dataclass(frozen=True)
class VersionsChecker:
    """Sibling counts and anomalies of the causal version graph (``check_versions``)."""

    name: str = "versions"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_versions(history)


@dataclass(frozen=True)
class StatsChecker:
    """Counts, latencies, throughput and availability in and out of faults (``check_stats``)."""

    name: str = "stats"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_stats(history)


@dataclass(frozen=True)
class LostVersionsChecker:
    """Every acknowledged version is present or causally superseded after recovery
    (``check_lost_versions``)."""

    name: str = "lost-versions"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_lost_versions(history)


@dataclass(frozen=True)
class LeftoversChecker:
    """No node holds hints after recovery (``check_leftovers``)."""

    name: str = "leftovers"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_leftovers(history)


@dataclass(frozen=True)
class NemesisChecker:
    """Every fault operation succeeded, else the verdict is unknown (``check_nemesis``)."""

    name: str = "nemesis"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_nemesis(history)


@dataclass(frozen=True)
class CartChecker:
    """Cart with removes: no resurrected, lost or unexpected element (``check_cart``)."""

    name: str = "cart"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_cart(history)


@dataclass(frozen=True)
class InvariantsChecker:
    """Protocol invariants over the nodes' event journals (``check_invariants``): findings name
    the events that break them."""

    name: str = "invariants"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        events = None if context.journals is None else list(context.journals)
        slack = context.journal_clock_slack_ns
        return check_invariants(
            history,
            events,
            context.versioning,
            CLOCK_SLACK_NS if slack is None else slack,
            context.tombstone_grace_ms,
        )


@dataclass(frozen=True)
class CoverageChecker:
    """Which protocol paths ran and how often, from the journals (``check_coverage``); never
    invalid, but it says what the run did not exercise."""

    name: str = "coverage"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        events = None if context.journals is None else list(context.journals)
        return check_coverage(history, events)


@dataclass(frozen=True)
class DeletesChecker:
    """No value removed by an acknowledged delete comes back (``check_deletes``)."""

    name: str = "deletes"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_deletes(history)


@dataclass(frozen=True)
class PlacementChecker:
    """Before the first fault, acknowledged writes stay on the primaries and most operations
    succeed (``check_placement``)."""

    name: str = "placement"

    def check(self, history: list[Record], context: CheckContext) -> Result:
        return check_placement(history)
