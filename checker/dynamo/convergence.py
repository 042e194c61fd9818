"""Convergence: after the heal, every replica of every key holds the same siblings.

No I/O. Reads the final per-replica dumps (``f == "replica-state"``, docs/history.md): one
record per (round, key, node) with the replica's sorted live sibling ``value`` and its
``tombstone`` flag. A key has converged in a round when all its replicas report the same
(value, tombstone) and, when ``n`` is given, n replicas reported. The verdict comes from each
key's last round; the convergence time is from the heal (the completion of the last stop-*
nemesis op) to the end of the first round from which every key stayed converged.
"""

from __future__ import annotations

import json
from typing import Any

from checker.dynamo.records import heal_time_ns

LISTED = 50


def _state(record: dict[str, Any]) -> str:
    # JSON text is a canonical, hashable form of the sibling list.
    return json.dumps([record.get("value"), bool(record.get("tombstone", False))], sort_keys=True)


def check_convergence(records: list[dict[str, Any]], n: int | None = None) -> dict[str, Any]:
    """Did every key's replicas end up identical, and how long after the heal?"""
    dumps = [r for r in records if r.get("f") == "replica-state" and r.get("type") in ("ok", None)]
    if not dumps:
        return {"valid": "unknown", "reason": "the history has no replica-state records"}
    # round -> key -> node -> state; round end times
    rounds: dict[int, dict[Any, dict[str, str]]] = {}
    round_end_ns: dict[int, int] = {}
    values: dict[tuple[int, Any, str], Any] = {}
    for record in dumps:
        number = int(record.get("round", 0))
        key = record.get("key")
        node = str(record.get("node"))
        rounds.setdefault(number, {}).setdefault(key, {})[node] = _state(record)
        values[(number, key, node)] = {
            "value": record.get("value"),
            "tombstone": bool(record.get("tombstone", False)),
        }
        round_end_ns[number] = max(round_end_ns.get(number, 0), int(record.get("time", 0)))

    ordered_rounds = sorted(rounds)

    def converged(replicas: dict[str, str]) -> bool:
        if n is not None and len(replicas) < n:
            return False
        return len(set(replicas.values())) <= 1

    last_round_of: dict[Any, int] = {}
    for number in ordered_rounds:
        for key in rounds[number]:
            last_round_of[key] = number
    diverged: list[dict[str, Any]] = []
    for key, number in last_round_of.items():
        replicas = rounds[number][key]
        if not converged(replicas):
            if len(diverged) < LISTED:
                diverged.append(
                    {
                        "key": key,
                        "round": number,
                        "replicas": {
                            node: values[(number, key, node)] for node in sorted(replicas)
                        },
                        "missing_replicas": max(0, (n or 0) - len(replicas)),
                    }
                )
            else:
                diverged.append({"key": key})

    # The first round from which every key that appears stays converged.
    settled_round: int | None = None
    for number in reversed(ordered_rounds):
        if all(converged(replicas) for replicas in rounds[number].values()):
            settled_round = number
        else:
            break
    heal = heal_time_ns(records)
    result: dict[str, Any] = {
        "valid": not diverged,
        "keys": len(last_round_of),
        "converged_keys": len(last_round_of) - len(diverged),
        "rounds": len(ordered_rounds),
        "heal_ns": heal,
    }
    if diverged:
        result["diverged"] = diverged[:LISTED]
        result["diverged_count"] = len(diverged)
    if settled_round is not None and not diverged:
        end = round_end_ns[settled_round]
        result["converged_round"] = settled_round
        result["converged_at_ns"] = end
        if heal is not None:
            result["convergence_ms_after_heal"] = round(max(0, end - heal) / 1e6, 3)
    return result


AFTER_FINAL_READS = "after-final-reads"  # the ``phase`` of the dumps taken after the reads


def _read_finally(records: list[dict[str, Any]]) -> set[Any]:
    return {
        r.get("key")
        for r in records
        if r.get("final") and r.get("type") == "ok" and r.get("f") == "read"
    }


def check_read_repair_convergence(
    records: list[dict[str, Any]], n: int | None = None
) -> dict[str, Any]:
    """With read repair alone (docs/repair.md): every key a final read read has converged on
    its primaries in the dumps taken after the final reads (``phase`` ``after-final-reads``).

    A final read asks all N primaries, so every stale one it saw is sent the merged state;
    a key whose primaries still differ after that names a read repair that never landed."""
    read = _read_finally(records)
    after = [
        r for r in records if r.get("f") == "replica-state" and r.get("phase") == AFTER_FINAL_READS
    ]
    if not read:
        return {"valid": True, "keys_read": 0, "note": "no final read succeeded: nothing owed"}
    if not after:
        return {
            "valid": "unknown",
            "keys_read": len(read),
            "reason": "no replica dump after the final reads",
        }
    last_round: dict[Any, int] = {}
    for record in after:
        key = record.get("key")
        last_round[key] = max(last_round.get(key, 0), int(record.get("round", 0)))
    states: dict[Any, dict[str, str]] = {}
    for record in after:
        key = record.get("key")
        if int(record.get("round", 0)) == last_round[key]:
            state = _state(record) if record.get("type") in ("ok", None) else "unreachable"
            states.setdefault(key, {})[str(record.get("node"))] = state
    diverged = []
    for key in sorted(read, key=str):
        replicas = states.get(key, {})
        short = n is not None and len(replicas) < n
        if short or len(set(replicas.values())) > 1 or "unreachable" in replicas.values():
            diverged.append({"key": key, "round": last_round.get(key), "replicas": replicas})
    result: dict[str, Any] = {
        "valid": not diverged,
        "keys_read": len(read),
        "converged_keys": len(read) - len(diverged),
    }
    if diverged:
        result["diverged"] = diverged[:LISTED]
        result["diverged_count"] = len(diverged)
    return result
