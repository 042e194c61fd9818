"""The story of a finding: its key's operations, the nodes' journal events about the key and
the faults, merged in time order, with the faults active at each moment — and, for an element
of a set or a register's value, a few sentences saying what the protocol did with it: which
version carried it (its dot), where that version was written (as a hint for whom), what
handed it off, and which later version left it out.

Pure: a history view, a finding and the journal's events in, rows and sentences out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zynamo.report.events import Event, describe_event
from zynamo.report.faults import describe_fault, fault_label
from zynamo.report.findings import Finding, OpIndex, describe_write, op_ref
from zynamo.report.fmt import seconds, value
from zynamo.report.history import HistoryView, Operation
from zynamo.report.versiongraph import descends, version_clock

MAX_ROWS = 150  # rows of one story; the key's page has every row
CONCURRENT_NS = 100_000_000  # versions this close to the element's are called concurrent


@dataclass(frozen=True)
class Row:
    """One line of a story: an operation, a node event or a fault starting or ending."""

    time_ns: int
    kind: str  # op, event, nemesis
    text: str
    node: str = ""
    ref: int | None = None  # history index, for operations
    highlight: bool = False
    faults: str = ""  # the faults active at that moment


def op_text(op: Operation) -> str:
    done = op.completion or {}
    process = op.invocation.get("process")
    if op.f == "read":
        got = value(done.get("value"), 70) if op.type == "ok" else done.get("error", "")
        via = done.get("coordinator") or op.invocation.get("node")
        final = "final " if op.invocation.get("final") or done.get("final") else ""
        fallbacks = done.get("fallbacks") or []
        fb = f", fallbacks {', '.join(fallbacks)}" if fallbacks else ""
        return f"process {process}: {final}read ({op.type}) via {via}{fb} → {got}"
    return f"process {process}: {describe_write(op)}"


def key_rows(view: HistoryView, ops: OpIndex, events: Sequence[Event], key: str) -> list[Row]:
    """Every operation on ``key``, every event about it and every fault, in time order."""
    rows: list[Row] = []
    intervals = view.intervals
    for op in ops.by_key.get(key, []):
        rows.append(
            Row(op.start_ns, "op", op_text(op), str(op.invocation.get("node", "")), op_ref(op))
        )
    for event in events:
        rows.append(
            Row(int(event["time"]), "event", describe_event(event, key), str(event.get("node")))
        )
    for interval in intervals:
        label = describe_fault(interval.fault, interval.value)
        rows.append(Row(int(interval.start_s * 1e9), "nemesis", f"fault starts: {label}"))
        if interval.healed:
            rows.append(Row(int(interval.end_s * 1e9), "nemesis", f"fault ends: {label}"))
    rows.sort(key=lambda r: r.time_ns)
    return [
        Row(
            r.time_ns, r.kind, r.text, r.node, r.ref, r.highlight, fault_label(intervals, r.time_ns)
        )
        for r in rows
    ]


def story_rows(
    view: HistoryView, ops: OpIndex, events: Sequence[Event], finding: Finding
) -> tuple[list[Row], int]:
    """The rows of ``finding``'s story: around its operations, the element's versions and the
    faults; returns the rows and how many of the key's rows were left out."""
    if finding.key is None:
        return [], 0
    rows = key_rows(view, ops, events, finding.key)
    refs = set(finding.ops)
    involved = [r.time_ns for r in rows if r.ref in refs]
    if finding.element is not None:
        involved += [int(ev["time"]) for ev in _carrying(events, finding.element)]
    if not involved:
        return rows[:MAX_ROWS], max(0, len(rows) - MAX_ROWS)
    start, end = min(involved) - 1_000_000_000, max(involved) + 200_000_000

    def relevant(row: Row) -> bool:
        if row.ref in refs or row.kind == "nemesis":
            return True
        if not start <= row.time_ns <= end:
            return False
        if row.kind == "event":
            return True
        # Among operations, the writes of the element and reads are what the story is about.
        return finding.element is None or "read" in row.text or value(finding.element) in row.text

    chosen = [r for r in rows if relevant(r)]
    chosen = [
        Row(r.time_ns, r.kind, r.text, r.node, r.ref, r.ref in refs, r.faults) for r in chosen
    ]
    if len(chosen) > MAX_ROWS:
        keep = [r for r in chosen if r.highlight or r.kind == "nemesis"]
        rest = [r for r in chosen if not (r.highlight or r.kind == "nemesis")]
        chosen = sorted(keep + rest[: MAX_ROWS - len(keep)], key=lambda r: r.time_ns)
    return chosen, len(rows) - len(chosen)


def _contains(data: object, element: object) -> bool:
    if isinstance(data, list):
        return element in data
    return data == element


def _carrying(events: Sequence[Event], element: object) -> list[Event]:
    return [
        ev
        for ev in events
        if ev.get("kind") == "version-created" and _contains(ev.get("value"), element)
    ]


def explain(
    view: HistoryView, ops: OpIndex, events: Sequence[Event], finding: Finding
) -> list[str]:
    """What the nodes did with the finding's element, in a few sentences (white-box: from the
    journals). Empty when there is no journal or no element."""
    if finding.key is None or finding.element is None or not events:
        return []
    element, intervals = finding.element, view.intervals
    sentences: list[str] = []
    carrying = _carrying(events, element)
    if not carrying:
        return [
            f"No node journalled a version holding {value(element)}: its write never reached a"
            " coordinator, or the journal lost it (a node killed between two polls)."
        ]
    first = carrying[0]
    coordinator = first.get("node")
    req = first.get("req")
    writes = [
        ev
        for ev in events
        if ev.get("kind") == "replica-write"
        and ev.get("src") == coordinator
        and ev.get("req") == req
    ]
    placed = [
        f"{coordinator}" + (f" (hint for {first['hint_for']})" if first.get("hint_for") else "")
    ]
    for ev in writes:
        hint = f" (hint for {ev['hint_for']})" if ev.get("hint_for") else ""
        outcome = "" if ev.get("applied") else ", changing nothing"
        placed.append(f"{ev.get('node')}{hint} at {seconds(ev['time'])}{outcome}")
    faults = fault_label(intervals, int(first["time"]))
    sentences.append(
        f"{value(element)} first appears in version {first.get('dot')}, created by {coordinator}"
        f" at {seconds(first['time'])} and written on {'; '.join(placed)}"
        + (f", while {faults}" if faults else "")
        + "."
    )
    if first.get("kept") is False:
        sentences.append(
            f"{coordinator}'s own copy did not keep it: the version it already held won over the"
            " new one (last-write-wins compares timestamps, not causality)."
        )
    if writes and not any(ev.get("applied") for ev in writes):
        sentences.append(
            "No replica that received it changed: each already held a version that wins over it."
        )
    window_ns = CONCURRENT_NS
    same_dot = [
        ev
        for ev in events
        if ev.get("kind") == "version-created"
        and ev is not first
        and ev.get("dot") == first.get("dot")
        and ev.get("value") != first.get("value")
    ]
    if same_dot:
        twin = same_dot[0]
        sentences.append(
            f"At {seconds(twin['time'])} {twin.get('node')} created another version under the"
            f" same name {first.get('dot')} with a different value"
            f" ({value(twin.get('value'), 50)}): two writes, one version, so every replica keeps"
            " only one of them and the other is silently lost."
        )
    mine = version_clock(first)

    def drops_it(ev: Event) -> bool:
        if ev.get("kind") != "version-created" or ev is first or ev in same_dot:
            return False
        if int(ev["time"]) < int(first["time"]) - window_ns:
            return False
        if _contains(ev.get("value"), element):
            return False
        # A causal ancestor of the element's version left it out because it came before.
        theirs = version_clock(ev)
        return not (theirs and mine and descends(mine, theirs))

    without = [ev for ev in events if drops_it(ev)]
    if without:
        dropper = without[0]
        concurrent = abs(int(dropper["time"]) - int(first["time"])) < window_ns
        sentences.append(
            f"At {seconds(dropper['time'])} {dropper.get('node')} created version"
            f" {dropper.get('dot')} without it (value {value(dropper.get('value'), 50)}, context"
            f" {value(dropper.get('context') or {}, 40)})"
            + (", concurrently with the write of the element" if concurrent else "")
            + (
                f"; {len(without) - 1} more version(s) without it followed"
                if len(without) > 1
                else ""
            )
            + "."
        )
    handoffs = [
        ev
        for ev in events
        if ev.get("kind") in ("hint-delivered", "handoff-received", "handoff-failed", "aae-sync")
        and ev["time"] >= first["time"]
    ]
    if handoffs:
        sentences.append(
            "Then: "
            + "; ".join(
                f"{describe_event(ev, finding.key)} at {seconds(ev['time'])}" for ev in handoffs[:4]
            )
            + (f"; … {len(handoffs) - 4} more" if len(handoffs) > 4 else "")
            + "."
        )
    kills = [
        i for i in intervals if i.fault in ("kill", "pause") and i.end_s * 1e9 >= first["time"]
    ]
    holders = {str(coordinator)} | {str(ev.get("node")) for ev in writes}
    hits = []
    for interval in kills:
        hit = [n for n in _nodes_of(interval.value) if n in holders]
        if hit and interval.start_s * 1e9 <= (finding.time_ns or interval.start_s * 1e9):
            hits.append(
                f"{interval.fault} {', '.join(hit)} {interval.start_s:.2f}–{interval.end_s:.2f} s"
            )
    if hits:
        sentences.append(f"Later faults on nodes that held it: {'; '.join(hits)}.")
    return sentences


def _nodes_of(what: object) -> list[str]:
    if isinstance(what, Mapping):
        nodes = what.get("nodes") or what.get("targets")
        if isinstance(nodes, list):
            return [str(n) for n in nodes]
    return []
