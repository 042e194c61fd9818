"""Protocol invariants checked over the nodes' own event journals, the way TigerBeetle's state
checkers hold a replica to its protocol: each finding names the events that break a rule.
Pure, no I/O (``checker.dynamo.journals`` reads the files).

The rules (issue 16, item 4), each a ``kind`` of finding:

- ``dot-reused`` — a version's dot is never reused for different contents: two
  ``version-created`` events of one key with one dot must write the same value (dotted version
  vectors only; per-node vector clocks reuse version names by design and lww names versions by
  wall time, so under those the rule is not judged; a key starts afresh once its tombstone is
  reaped);
- ``hint-deleted-unacknowledged`` — a hint (or a transferred key) is deleted only after its
  owner acknowledged it: every key of a ``hint-delivered`` / ``transfer-delivered`` event must
  appear in a ``handoff-received`` from the same node in every target's journal, no later than
  the deletion (judged only where the target's journal is whole);
- ``misfiled-write`` — a replica files a write as its coordinator asked: every
  ``replica-write`` that answers a coordinator's put (same coordinator, request and key)
  records in ``hint_for`` the owner the ``version-created`` event named for that target (none
  for a primary) (judged only where the replica's journal is whole). A fallback that files
  the write as its own never hands it off: the owner misses it, the stray copy lingers, and
  nothing else notices while the coordinator's copy survives;
- ``read-repair-lost`` — a read repair reaches its stale replica: every target of a
  ``read-repair`` event (other than the coordinator) records a ``replica-write`` marked
  ``repair`` from that coordinator for that key within ``REPAIR_WINDOW_NS`` (judged only when
  no fault was active in that stretch, as a fault may legitimately drop it, and when the
  journals go on that long: the nodes stop soon after the final reads);
- ``reaped-early`` — a tombstone is reaped only when every voter (every other known node)
  agreed and every primary of the key holds it: judged from the evidence the reaper records
  with its own ``reaped`` event (``voters``, ``agreed_by``, ``held_by``, ``primaries``);
- ``reaped-before-grace`` — a tombstone is reaped no sooner than the grace period after the
  delete that made it (some delete of the key since its last reap is that old; judged when
  the grace period is known);
- ``peer-never-suspected`` — a peer that falls silent is seen down: when a kill, a pause or
  a partition kept a peer silent for ``DETECTION_NS`` or more, every node that ran all along
  (and, for a partition, was cut off from it) suspects it by the time the fault stops;
- ``peer-not-up-again`` — a peer that speaks again is seen up again: at the end of the run no
  node still suspects a member of the ring it last adopted (every node was healed and
  answered by then).

A put acknowledged only after its coordinator's write committed needs an event the journal
does not record yet (the commit of a write); it is listed under ``not_judged``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from checker.dynamo.journals import (
    Event,
    by_node,
    fault_windows,
    last_life,
    overlaps,
    silences,
    whole,
)

REPAIR_WINDOW_NS = 2_000_000_000  # a read repair is one message: 2 s is ample
# A peer silent this long must be suspected: the phi detector suspects within about 2 s of
# the last heartbeat (bench/README.md), so 5 s leaves room for a loaded machine.
DETECTION_NS = 5_000_000_000
# How far apart two nodes' journal times may be for one instant: the real environment aligns
# node clocks to within a round trip; the simulator's nodes share one exact clock (slack 0).
CLOCK_SLACK_NS = 50_000_000
MAX_FINDINGS = 20  # findings listed in full; the counts cover all


def _finding(kind: str, message: str, events: list[Event]) -> dict[str, Any]:
    named = [{k: e.get(k) for k in ("node", "generation", "seq", "time", "kind")} for e in events]
    return {"kind": kind, "message": message, "events": named}


def dot_reuse(events: list[Event]) -> list[dict[str, Any]]:
    """Two versions of one key under one dot with different values. A key whose tombstone was
    reaped starts afresh: no copy of its older versions is left anywhere to be confused with
    the new ones (the reaper waited for every node to agree)."""
    seen: dict[tuple[str, str], Event] = {}
    findings = []
    for event in sorted(events, key=lambda e: int(e.get("time", 0))):
        if event.get("kind") == "reaped" and event.get("by") == event.get("node"):
            reaped = {str(k) for k in event.get("keys") or ()}
            seen = {name: e for name, e in seen.items() if name[0] not in reaped}
            continue
        if event.get("kind") != "version-created" or not event.get("dot"):
            continue
        name = (str(event.get("key")), str(event["dot"]))
        first = seen.setdefault(name, event)
        if first is not event and _json(first.get("value")) != _json(event.get("value")):
            findings.append(
                _finding(
                    "dot-reused",
                    f"dot {name[1]} of key {name[0]} named two different versions:"
                    f" {_json(first.get('value'))} ({first.get('node')}) and"
                    f" {_json(event.get('value'))} ({event.get('node')})",
                    [first, event],
                )
            )
    return findings


def unacknowledged_deletions(
    nodes: dict[str, list[Event]], clock_slack_ns: int = CLOCK_SLACK_NS
) -> tuple[list[dict[str, Any]], int]:
    """Hints and transfers deleted before every target acknowledged them; also how many
    deletions could not be judged (a target's journal is missing or has gaps). With exact
    clocks (slack 0) a deletion sent with the handoff, before any acknowledgement could come
    back, is seen even when the handoff then arrives."""
    received: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # (target, src, key)
    for node, node_events in nodes.items():
        for event in node_events:
            if event.get("kind") == "handoff-received":
                for key in event.get("keys") or ():
                    received[(node, str(event.get("src")), str(key))].append(int(event["time"]))
    findings = []
    not_judged = 0
    complete = {node for node, node_events in nodes.items() if whole(node_events)}
    for node, node_events in nodes.items():
        for event in node_events:
            if event.get("kind") not in ("hint-delivered", "transfer-delivered"):
                continue
            deleted_at = int(event["time"])
            for target in event.get("to") or ():
                target = str(target)
                if target not in complete:
                    not_judged += 1
                    continue
                missing = [
                    str(key)
                    for key in event.get("keys") or ()
                    if not any(
                        t <= deleted_at + clock_slack_ns
                        for t in received.get((target, node, str(key)), ())
                    )
                ]
                if missing:
                    what = "hints" if event["kind"] == "hint-delivered" else "transferred keys"
                    findings.append(
                        _finding(
                            "hint-deleted-unacknowledged",
                            f"{node} deleted {what} {', '.join(sorted(missing)[:5])}"
                            f" (owner {event.get('owner') or target}) before {target}"
                            " acknowledged receiving them: no handoff-received from"
                            f" {node} in {target}'s journal",
                            [event],
                        )
                    )
    return findings, not_judged


def misfiled_writes(nodes: dict[str, list[Event]]) -> tuple[list[dict[str, Any]], int]:
    """Replica writes filed otherwise than their coordinator asked: a fallback keeping a hint
    as its own (or for another owner), or a primary filing its copy as a hint; also how many
    could not be judged (the replica's journal has gaps)."""
    # (replica, coordinator, req, key) -> the replica-writes that answered it
    writes: dict[tuple[str, str, int, str], list[Event]] = defaultdict(list)
    for node, node_events in nodes.items():
        for event in node_events:
            if event.get("kind") == "replica-write" and not event.get("repair"):
                name = (
                    node,
                    str(event.get("src")),
                    int(event.get("req") or 0),
                    str(event.get("key")),
                )
                writes[name].append(event)
    complete = {node for node, node_events in nodes.items() if whole(node_events)}
    findings = []
    not_judged = 0
    for coordinator, node_events in nodes.items():
        for created in node_events:
            if created.get("kind") != "version-created":
                continue
            sent = int(created["time"]) - CLOCK_SLACK_NS
            key = str(created.get("key"))
            for replica, owner in created.get("targets") or ():
                if replica == coordinator:
                    continue  # its own write: no replica-write event
                if replica not in complete:
                    not_judged += 1
                    continue
                asked = None if owner == replica else owner  # a hint for itself is its own
                name = (str(replica), coordinator, int(created.get("req") or 0), key)
                # A restarted coordinator counts requests afresh: the answer is the first
                # write of that name after the version was created.
                answers = [w for w in writes.get(name, ()) if int(w["time"]) >= sent]
                if not answers or answers[0].get("hint_for") == asked:
                    continue
                filed = answers[0].get("hint_for")
                as_what = f"as a hint for {filed}" if filed else "as its own"
                if asked is None:
                    why = "its copy as a primary is never read as one"
                else:
                    why = f"it will never be handed to {asked}"
                findings.append(
                    _finding(
                        "misfiled-write",
                        f"{replica} {'stood in for ' + asked if asked else 'is a primary'} on"
                        f" key {key} but kept {coordinator}'s write {as_what}: {why}",
                        [created, answers[0]],
                    )
                )
    return findings, not_judged


def lost_read_repairs(
    nodes: dict[str, list[Event]], windows: list[tuple[int, int]]
) -> tuple[list[dict[str, Any]], int]:
    """Read repairs sent in a quiet stretch that never reached their target; also how many
    were not judged (a fault was active, or the target's journal has gaps)."""
    repaired: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # (target, src, key)
    for node, node_events in nodes.items():
        for event in node_events:
            if event.get("kind") == "replica-write" and event.get("repair"):
                repaired[(node, str(event.get("src")), str(event.get("key")))].append(
                    int(event["time"])
                )
    # The journals end when the nodes stop: a repair sent in the last moments may still have
    # been on its way.
    observed_until = max((int(e["time"]) for es in nodes.values() for e in es), default=0)
    complete = {node for node, node_events in nodes.items() if whole(node_events)}
    findings = []
    not_judged = 0
    for node, node_events in nodes.items():
        for event in node_events:
            if event.get("kind") != "read-repair":
                continue
            sent = int(event["time"])
            for target, _hint_for in event.get("to") or ():
                if target == node:
                    continue  # the coordinator merged its own copy in place
                if (
                    target not in complete
                    or overlaps(windows, sent - CLOCK_SLACK_NS, sent + REPAIR_WINDOW_NS)
                    or sent + REPAIR_WINDOW_NS > observed_until
                ):
                    not_judged += 1
                    continue
                times = repaired.get((str(target), node, str(event.get("key"))), ())
                if not any(sent - CLOCK_SLACK_NS <= t <= sent + REPAIR_WINDOW_NS for t in times):
                    findings.append(
                        _finding(
                            "read-repair-lost",
                            f"{node} read-repaired key {event.get('key')} on {target} with no"
                            " fault active, but no repair write from it reached"
                            f" {target} within {REPAIR_WINDOW_NS / 1e9:.0f} s",
                            [event],
                        )
                    )
    return findings, not_judged


def early_reaps(events: list[Event]) -> list[dict[str, Any]]:
    """Tombstones a reaper deleted without every voter's agreement or every primary's copy."""
    findings = []
    for event in events:
        if event.get("kind") != "reaped" or event.get("by") != event.get("node"):
            continue
        if not isinstance(event.get("agreed_by"), dict):
            continue  # a journal from before the evidence was recorded
        me = str(event.get("node"))
        for key in event.get("keys") or ():
            refused = set(event.get("voters") or ()) - set(event["agreed_by"].get(key, ()))
            held = set(event.get("held_by", {}).get(key, ())) | {me}
            missing = set(event.get("primaries", {}).get(key, ())) - held
            if refused or missing:
                why = []
                if refused:
                    why.append(f"{', '.join(sorted(refused))} did not agree")
                if missing:
                    why.append(f"primary {', '.join(sorted(missing))} did not hold it")
                findings.append(
                    _finding(
                        "reaped-early",
                        f"{me} reaped the tombstone of key {key} though {' and '.join(why)}",
                        [event],
                    )
                )
    return findings


def reaps_before_grace(events: list[Event], grace_ms: float) -> list[dict[str, Any]]:
    """Tombstones reaped less than the grace period after every delete that made them: the
    reaper holds a tombstone only once its delete was created, and must hold it ``grace_ms``
    before proposing, so some delete of the key (since its last reap) is at least that old.
    The grace lets a message carrying an older state, sent before its receiver learnt of the
    delete, arrive before the tombstone goes; reaped sooner, that state comes back."""
    grace_ns = int(grace_ms * 1_000_000) - CLOCK_SLACK_NS
    deletes: dict[str, list[Event]] = defaultdict(list)  # key -> its deletes since its last reap
    findings = []
    for event in sorted(events, key=lambda e: int(e.get("time", 0))):
        kind = event.get("kind")
        if kind == "version-created" and event.get("value") is None:
            deletes[str(event.get("key"))].append(event)
        elif kind == "reaped" and event.get("by") == event.get("node"):
            reaped_at = int(event["time"])
            for key in (str(k) for k in event.get("keys") or ()):
                made = deletes.pop(key, [])
                if made and all(reaped_at - int(d["time"]) < grace_ns for d in made):
                    age_s = (reaped_at - int(made[0]["time"])) / 1e9
                    findings.append(
                        _finding(
                            "reaped-before-grace",
                            f"{event.get('node')} reaped the tombstone of key {key}"
                            f" {age_s:.2f} s after its first delete, within the"
                            f" {grace_ms / 1000:g} s grace period",
                            [made[0], event],
                        )
                    )
    return findings


def silences_unnoticed(
    nodes: dict[str, list[Event]], records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """Peers that fell silent for ``DETECTION_NS`` or more (killed, paused, or cut off by a
    partition) that a node running all along still did not suspect when the fault ended; also
    how many such (node, peer) pairs were not judged (the node's journal has gaps)."""
    stretches = silences(records)
    silenced = [(node, start, end) for observer, node, start, end in stretches if observer is None]
    findings = []
    not_judged = 0
    for observer, peer, start, end in stretches:
        if end - start < DETECTION_NS:
            continue
        for node in [observer] if observer else sorted(set(nodes) - {peer}):
            if node not in nodes or any(
                n == node and s <= end and start <= e for n, s, e in silenced
            ):
                continue  # not running through the whole stretch itself
            if not whole(nodes[node]):
                not_judged += 1
                continue
            seen = [e for e in nodes[node] if int(e.get("time", 0)) <= end]
            life = last_life(seen)
            if not life or int(life[0].get("time", 0)) > start:
                continue  # (re)started during the stretch
            members: set[str] = set(nodes)
            view = None
            for event in life:
                kind = event.get("kind")
                if kind == "ring-changed" and isinstance(event.get("members"), list):
                    members = {str(m) for m in event["members"]}
                elif kind in ("peer-down", "peer-up") and event.get("peer") == peer:
                    view = event
            if node not in members or peer not in members:
                continue  # one of them had left the ring: nobody watches it
            if view is not None and view.get("kind") == "peer-down":
                continue
            how = "was cut off from it" if observer else "was down or paused"
            findings.append(
                _finding(
                    "peer-never-suspected",
                    f"{node} still saw {peer} up after {(end - start) / 1e9:.1f} s in which"
                    f" {peer} {how} (from {start / 1e9:.1f} s): its failure detector never"
                    " suspected it",
                    [view] if view else [life[0]],
                )
            )
    return findings, not_judged


def peers_left_down(nodes: dict[str, list[Event]]) -> list[dict[str, Any]]:
    """Members still suspected by some node at the end of the run."""
    findings = []
    for node, node_events in nodes.items():
        if not node_events:
            continue
        members: set[str] = set(nodes)
        view: dict[str, Event] = {}
        for event in last_life(node_events):
            kind = event.get("kind")
            if kind == "ring-changed" and isinstance(event.get("members"), list):
                members = {str(m) for m in event["members"]}
            elif kind in ("peer-down", "peer-up"):
                view[str(event.get("peer"))] = event
        if node not in members:
            continue  # it left the ring: the members forget it, and it need not watch them
        for peer, event in sorted(view.items()):
            if event.get("kind") == "peer-down" and peer in members and peer != node:
                findings.append(
                    _finding(
                        "peer-not-up-again",
                        f"{node} still suspects {peer} at the end of the run, though every node"
                        " was healed and answering",
                        [event],
                    )
                )
    return findings


def check_invariants(
    records: list[dict[str, Any]],
    events: list[Event] | None,
    versioning: str | None = None,
    clock_slack_ns: int = CLOCK_SLACK_NS,
    tombstone_grace_ms: float | None = None,
) -> dict[str, Any]:
    """The protocol invariants over the run's journals (``events``: every node's, as
    ``checker.dynamo.journals.read_journals`` gives them) and the history's fault windows;
    ``clock_slack_ns``: how far apart the nodes' journal clocks may be (0 in the simulator);
    ``tombstone_grace_ms``: the cluster's grace period (None: unknown, not judged)."""
    if not events:
        return {"valid": True, "events": 0, "skipped": "no node journals were given"}
    nodes = by_node(events)
    findings: list[dict[str, Any]] = []
    not_judged: dict[str, Any] = {
        "acknowledged-only-after-commit": "the journal does not record commits",
    }
    if versioning in (None, "dvv"):
        findings += dot_reuse(events)
    else:
        not_judged["dot-reused"] = f"{versioning} names versions without unique dots"
    deletions, unjudged_deletions = unacknowledged_deletions(nodes, clock_slack_ns)
    misfiled, unjudged_hints = misfiled_writes(nodes)
    repairs, unjudged_repairs = lost_read_repairs(nodes, fault_windows(records))
    unnoticed, unjudged_silences = silences_unnoticed(nodes, records)
    findings += deletions + misfiled + repairs + early_reaps(events) + peers_left_down(nodes)
    findings += unnoticed
    if tombstone_grace_ms is None:
        not_judged["reaped-before-grace"] = "the cluster's tombstone grace period is not known"
    else:
        findings += reaps_before_grace(events, tombstone_grace_ms)
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[finding["kind"]] += 1
    result: dict[str, Any] = {
        "valid": not findings,
        "events": len(events),
        "nodes": sorted(nodes),
        "incomplete_journals": sorted(n for n, e in nodes.items() if not whole(e)),
        "findings_by_kind": dict(counts),
        "not_judged": {
            **not_judged,
            "handoff-deletions-without-whole-target-journal": unjudged_deletions,
            "replica-writes-without-whole-replica-journal": unjudged_hints,
            "read-repairs-in-fault-windows-or-at-the-end": unjudged_repairs,
            "silences-without-whole-observer-journal": unjudged_silences,
        },
    }
    if findings:
        result["findings"] = findings[:MAX_FINDINGS]
        result["summary"] = f"{len(findings)} protocol invariant(s) broken: " + "; ".join(
            f["message"] for f in findings[:2]
        )
    return result


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
