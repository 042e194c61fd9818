"""Versions: how many siblings reads saw, and the causal graph of versions.

No I/O. The sibling histogram counts ok reads by their ``siblings`` field in buckets 0, 1, 2,
3 and 4+ (the table of the Dynamo paper's section 6.3). The causal graph (networkx, imported
only when this check runs) has one node per (key, version) created by an acknowledged write
and an edge from the context a write supplied to the version it created. Anomalies: a cycle
(a version that descends from itself), a version that does not strictly dominate the context
it was written with, and one version carrying different values. With ``lww`` there are no
contexts and nothing to check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from checker.dynamo.records import WRITE_FUNCTIONS, ClientOp, client_ops, dominates, freeze_context

LISTED = 50
BUCKETS = ("0", "1", "2", "3", "4+")


def _bucket(siblings: int) -> str:
    return "4+" if siblings >= 4 else str(max(0, siblings))


def _describe(node: tuple[Any, tuple[tuple[str, int], ...]]) -> dict[str, Any]:
    key, version = node
    return {"key": key, "version": dict(version)}


def check_versions(
    records: list[dict[str, Any]], ops: list[ClientOp] | None = None
) -> dict[str, Any]:
    """The sibling histogram and the anomalies of the version graph (``ops``: the records'
    `client_ops`, when the caller already has them)."""
    import networkx as nx  # only here: never on the linearizability path

    ops = client_ops(records) if ops is None else ops
    histogram = dict.fromkeys(BUCKETS, 0)
    graph = nx.DiGraph()
    anomalies: list[dict[str, Any]] = []
    anomaly_count = 0
    values_of: dict[Any, set[str]] = {}
    saw_versions = False

    def note(entry: dict[str, Any]) -> None:
        nonlocal anomaly_count
        anomaly_count += 1
        if len(anomalies) < LISTED:
            anomalies.append(entry)

    for op in ops:
        if op.type != "ok":
            continue
        if op.f in ("read", "get"):
            siblings = op.field("siblings")
            if isinstance(siblings, int) and not isinstance(siblings, bool):
                histogram[_bucket(siblings)] += 1
            continue
        if op.f not in WRITE_FUNCTIONS:
            continue
        version = op.field("version")
        if not isinstance(version, Mapping) or not version:
            continue
        saw_versions = True
        node = (op.key, freeze_context(version))
        graph.add_node(node)
        written = json.dumps(op.invoke.get("value"), sort_keys=True, default=str)
        values_of.setdefault(node, set()).add(written)
        context = op.field("context")
        if isinstance(context, Mapping) and freeze_context(context):
            parent = (op.key, freeze_context(context))
            graph.add_edge(parent, node)
            if not dominates(version, context) or parent == node:
                note(
                    {
                        "anomaly": "version does not descend from the context it was written with",
                        "op": op.to_json(),
                        "context": dict(parent[1]),
                        "version": dict(node[1]),
                    }
                )

    for node, values in values_of.items():
        if len(values) > 1:
            note(
                {
                    "anomaly": "one version carries different values",
                    **_describe(node),
                    "values": sorted(values)[:10],
                }
            )
    cycles: list[list[dict[str, Any]]] = []
    for cycle in nx.simple_cycles(graph):
        note(
            {
                "anomaly": "cycle: a version descends from itself",
                "cycle": [_describe(n) for n in cycle[:20]],
            }
        )
        cycles.append(cycle)
        if len(cycles) >= LISTED:
            break

    reads = sum(histogram.values())
    result: dict[str, Any] = {
        "valid": anomaly_count == 0,
        "siblings": histogram,
        "siblings_fraction": {
            bucket: (round(count / reads, 8) if reads else None)
            for bucket, count in histogram.items()
        },
        "versions": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "anomaly_count": anomaly_count,
    }
    if anomalies:
        result["anomalies"] = anomalies
    if not saw_versions:
        result["note"] = "no causal versions recorded (lww?): the graph checks found nothing"
    return result
