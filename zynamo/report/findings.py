"""What went wrong, in plain words: each failing checker's result turned into findings, one
per lost element, stale element, quorum violation, unlinearizable operation, diverged key or
version anomaly, each naming its key, the operations involved (by history index) and when.

The checkers list at most some entries of each kind and count them all; where ``results.json``
holds a longer list (the set checker's per-element ``elements``), every one becomes a finding,
and ``Findings.capped`` says what stays counted but unlisted. Pure: results and history in,
findings out; no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zynamo.report.checkers import key_figures
from zynamo.report.faults import fault_label
from zynamo.report.fmt import seconds, value
from zynamo.report.history import HistoryView, Operation

Result = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One violation (or undecided case): a sentence, its key and the operations involved."""

    checker: str
    kind: str  # lost, stale, quorum, not linearizable, diverged, never read, anomaly, invalid
    text: str
    key: str | None = None
    element: Any = None
    ops: tuple[int, ...] = ()  # history indices of the completions (or invocations) involved
    time_ns: int | None = None  # when it shows (the read that missed it, the failing op)
    valid: object = False  # False: a violation; "unknown": undecided


@dataclass
class Findings:
    items: list[Finding] = field(default_factory=list)
    # (checker, kind) -> (listed, counted) where the checker counted more than it listed
    capped: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def by_key(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.items:
            if finding.key is not None:
                grouped[finding.key].append(finding)
        return dict(grouped)


class OpIndex:
    """Client operations by history index, and the adds of each (key, element)."""

    def __init__(self, view: HistoryView) -> None:
        self.intervals = view.intervals
        self.by_index: dict[int, Operation] = {}
        self.adds: dict[tuple[str, str], list[Operation]] = defaultdict(list)
        self.by_key: dict[str, list[Operation]] = defaultdict(list)
        for op in view.client_ops:
            for line in (op.invocation, op.completion):
                if line is not None and isinstance(line.get("index"), int):
                    self.by_index[line["index"]] = op
            key = op.invocation.get("key")
            if isinstance(key, str):
                self.by_key[key].append(op)
                if op.f in ("add", "write"):
                    self.adds[(key, _canon(op.invocation.get("value")))].append(op)

    def writes_of(self, key: str, element: object) -> list[Operation]:
        return self.adds.get((key, _canon(element)), [])


def _canon(item: object) -> str:
    return value(item, 10_000)


def op_ref(op: Operation) -> int:
    """The history index a link to ``op`` uses: its completion's, else its invocation's."""
    line = op.completion if op.completion is not None else op.invocation
    index = line.get("index")
    return index if isinstance(index, int) else -1


def describe_write(op: Operation) -> str:
    """``add 5, acknowledged at 4.47 s by coordinator n2 (replicas n2, n4 as fallback)``."""
    done = op.completion or {}
    what = f"{op.f} {value(op.invocation.get('value'), 40)}"
    if op.type == "ok":
        when = f"acknowledged at {seconds(op.end_ns)}"
    elif op.type == "info":
        when = f"outcome unknown ({done.get('error', 'no answer')}) at {seconds(op.end_ns)}"
    else:
        when = f"failed at {seconds(op.end_ns)} ({done.get('error', '')})"
    coordinator = done.get("coordinator")
    replicas = done.get("replicas") or []
    fallbacks = set(done.get("fallbacks") or [])
    parts = [f"{r} as fallback" if r in fallbacks else str(r) for r in replicas]
    via = f" by coordinator {coordinator}" if coordinator else ""
    on = f" (replicas {', '.join(parts)})" if parts else ""
    return f"{what}, {when}{via}{on}"


def find(results: Result | None, view: HistoryView) -> Findings:
    """Every finding of every checker that is not valid, most serious first."""
    found = Findings()
    if not results:
        return found
    checkers = results.get("checkers")
    if not isinstance(checkers, Mapping):
        return found
    ops = OpIndex(view)
    for name, result in checkers.items():
        if not isinstance(result, Mapping) or result.get("valid") is True:
            continue
        before = len(found.items)
        for extract in EXTRACTORS:
            try:
                extract(str(name), result, ops, found)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # a result shaped otherwise than expected: the generic finding says it
        if len(found.items) == before:
            figures = "; ".join(f"{k}: {v}" for k, v in key_figures(result)[:4])
            word = "found a violation" if result.get("valid") is False else "could not decide"
            found.items.append(
                Finding(
                    str(name), "invalid", f"{name} {word}: {figures}", valid=result.get("valid")
                )
            )
    found.items.sort(key=lambda f: (_rank(f), f.time_ns is None, f.time_ns or 0))
    return found


# The most telling kinds first: what was lost or broken, then what was late or undecided.
KIND_RANK = ("lost", "not linearizable", "diverged", "invalid", "anomaly", "quorum", "stale")


def _rank(finding: Finding) -> int:
    kind = finding.kind
    return KIND_RANK.index(kind) if kind in KIND_RANK else len(KIND_RANK)


def first_of_each(findings: Sequence[Finding], limit: int) -> list[Finding]:
    """Up to ``limit`` findings for the front page: a few of every kind, most telling kinds
    first, so one abundant kind does not hide the others."""
    kinds: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        kinds.setdefault((finding.checker, finding.kind), []).append(finding)
    share = max(2, limit // max(len(kinds), 1))
    chosen = [f for group in kinds.values() for f in group[:share]]
    return chosen[:limit]


# --------------------------------------------------------------------------- per checker


def _set_lost(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    if "lost" not in result and "lost_elements" not in result:
        return
    details = {
        (str(d.get("key")), _canon(d.get("element"))): d
        for d in result.get("lost_elements") or []
        if isinstance(d, Mapping)
    }
    lost = [
        (str(e.get("key")), e.get("element"))
        for e in result.get("elements") or []
        if isinstance(e, Mapping) and e.get("outcome") == "lost"
    ]
    if not lost:
        lost = [(k, d.get("element")) for (k, _), d in details.items()]
    for key, element in lost:
        detail = details.get((key, _canon(element)), {})
        final = _last_read(ops, key)
        writes = ops.writes_of(key, element)
        acked = next((w for w in writes if w.type == "ok"), writes[0] if writes else None)
        what = describe_write(acked) if acked else f"element {value(element)}"
        refs = [op_ref(acked)] if acked else []
        when = None
        if final is not None:
            refs.append(op_ref(final))
            when = final.start_ns
            tail = (
                f"is missing from the {'final ' if _is_final(final) else ''}read at"
                f" {seconds(final.start_ns)} (via {(final.completion or {}).get('coordinator')})"
            )
        else:
            tail = "is missing from the last read"
        last_seen = detail.get("last_seen_read")
        seen = ""
        if isinstance(last_seen, Mapping) and "start_ns" in last_seen:
            seen = f"; last seen in the read at {seconds(last_seen['start_ns'])}"
            if isinstance(last_seen.get("index"), int):
                refs.append(last_seen["index"])
        found.items.append(
            Finding(name, "lost", f"{key}: {what}, {tail}{seen}", key, element, tuple(refs), when)
        )
    counted = _count(result, "lost", len(lost))
    if counted > len(lost):
        found.capped[(name, "lost")] = (len(lost), counted)


def _set_stale(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    entries = [e for e in result.get("stale_elements") or [] if isinstance(e, Mapping)]
    for entry in entries:
        key, element = str(entry.get("key")), entry.get("element")
        writes = ops.writes_of(key, element)
        acked = next((w for w in writes if w.type == "ok"), None)
        stable = entry.get("stable_from") or {}
        refs = [op_ref(acked)] if acked else []
        if isinstance(stable.get("index"), int):
            refs.append(stable["index"])
        what = describe_write(acked) if acked else f"element {value(element)}"
        found.items.append(
            Finding(
                name,
                "stale",
                f"{key}: {what}, was missing from {entry.get('reads_missing_it')} later read(s)"
                f" before it was read for good at {seconds(stable.get('start_ns'))}",
                key,
                element,
                tuple(refs),
                stable.get("start_ns"),
                valid="stale",
            )
        )
    counted = _count(result, "stale", len(entries))
    if counted > len(entries):
        found.capped[(name, "stale")] = (len(entries), counted)


def _quorum(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    entries = [e for e in result.get("violations") or [] if isinstance(e, Mapping)]
    for entry in entries:
        read, write = entry.get("read") or {}, entry.get("write") or {}
        key = str(entry.get("key"))
        refs = tuple(x["index"] for x in (write, read) if isinstance(x.get("index"), int))
        found.items.append(
            Finding(
                name,
                "quorum",
                f"{key}: the read at {seconds(read.get('start_ns'))} via {read.get('node')}"
                f" returned {value(read.get('value'), 40)}, missing {write.get('f')}"
                f" {value(write.get('value'), 30)} acknowledged at"
                f" {seconds(write.get('end_ns'))} — {entry.get('why')}",
                key,
                write.get("value"),
                refs,
                read.get("start_ns"),
            )
        )
    counted = _count(result, "violation_count", len(entries))
    if counted > len(entries):
        found.capped[(name, "quorum")] = (len(entries), counted)


def _linearizable(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    op = result.get("op")
    if not isinstance(op, Mapping):
        return
    key = result.get("key", op.get("key"))
    failing = checker_op(ops, op)
    index = op_ref(failing) if failing is not None else None
    when = failing.start_ns if failing else op.get("start_ns")
    prefix = result.get("linearized_prefix_length")
    done = (failing.completion or {}) if failing else {}
    shown = done.get("value") if op.get("f") == "read" else op.get("value")
    via = done.get("coordinator") or op.get("node")
    replicas = done.get("replicas") or []
    text = (
        f"{key}: {op.get('f')} {'→ ' if op.get('f') == 'read' else ''}{value(shown, 40)}"
        f" by process {op.get('process')} at {seconds(when)}"
        + (f" via coordinator {via}" if via else "")
        + (f" (replicas {', '.join(map(str, replicas))})" if replicas else "")
        + " cannot be linearized"
        + (f": after the first {prefix} operations" if prefix is not None else "")
        + f" the register holds {value(result.get('state_after_prefix'), 40)}"
    )
    last = _last_write_of(ops, str(key), result.get("state_after_prefix"), when)
    if last is not None:
        text += f", written by {describe_write(last)}"
    faults = fault_label(ops.intervals, int(when)) if isinstance(when, int) else ""
    if faults:
        text += f"; faults active: {faults}"
    refs = (index,) if isinstance(index, int) else ()
    found.items.append(Finding(name, "not linearizable", text, str(key), None, refs, when))


def _last_write_of(ops: OpIndex, key: str, state: object, before_ns: object) -> Operation | None:
    """The acknowledged write of ``state`` to ``key`` latest before ``before_ns``."""
    writes = [
        w
        for w in ops.writes_of(key, state)
        if w.type == "ok" and (not isinstance(before_ns, int) or w.start_ns <= before_ns)
    ]
    return max(writes, key=lambda w: w.end_ns) if writes else None


def checker_op(ops: OpIndex, op: Mapping[str, Any]) -> Operation | None:
    """The history operation a checker's op record names: by ``index``, or by its 1-based
    ``line``/``completed_line`` in history.jsonl, checked against its process."""
    for name, shift in (("index", 0), ("completed_line", 1), ("line", 1)):
        number = op.get(name)
        if isinstance(number, int):
            found = ops.by_index.get(number - shift)
            if found is not None and found.invocation.get("process") == op.get("process"):
                return found
    return None


def _convergence(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    entries = [e for e in result.get("diverged") or [] if isinstance(e, Mapping)]
    for entry in entries:
        replicas = entry.get("replicas") or {}
        states = "; ".join(f"{n}: {value(v, 30)}" for n, v in replicas.items())
        found.items.append(
            Finding(
                name,
                "diverged",
                f"{entry.get('key')}: replicas still disagree in dump round"
                f" {entry.get('round')} after the heal ({states})",
                str(entry.get("key")),
            )
        )
    counted = _count(result, "diverged_count", len(entries))
    if counted > len(entries):
        found.capped[(name, "diverged")] = (len(entries), counted)


def _never_read(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    for entry in result.get("never_read_elements") or []:
        if isinstance(entry, Mapping):
            found.items.append(
                Finding(
                    name,
                    "never read",
                    f"{entry.get('key')}: element {value(entry.get('element'))}, acknowledged at"
                    f" {seconds(entry.get('acknowledged_ns'))}, was never read afterwards",
                    str(entry.get("key")),
                    entry.get("element"),
                    valid="unknown",
                )
            )


def _anomalies(name: str, result: Result, ops: OpIndex, found: Findings) -> None:
    for entry in result.get("anomalies") or []:
        if isinstance(entry, Mapping):
            key = entry.get("key")
            found.items.append(
                Finding(
                    name,
                    "anomaly",
                    f"{key}: {entry.get('anomaly')}"
                    + (f": version {value(entry['version'], 60)}" if "version" in entry else "")
                    + (f" holds {value(entry['values'], 80)}" if "values" in entry else ""),
                    None if key is None else str(key),
                )
            )


def _count(result: Result, name: str, default: int) -> int:
    counted = result.get(name)
    return counted if isinstance(counted, int) and not isinstance(counted, bool) else default


def _is_final(op: Operation) -> bool:
    return bool(op.invocation.get("final") or (op.completion or {}).get("final"))


def _last_read(ops: OpIndex, key: str) -> Operation | None:
    reads = [op for op in ops.by_key.get(key, []) if op.f == "read" and op.type == "ok"]
    return max(reads, key=lambda op: op.start_ns) if reads else None


EXTRACTORS = (_set_lost, _set_stale, _quorum, _linearizable, _convergence, _never_read, _anomalies)


def headline(results: Result | None) -> list[str]:
    """The failing (then undecided) checkers' names."""
    checkers = (results or {}).get("checkers")
    if not isinstance(checkers, Mapping):
        return []
    failing = [n for n, r in checkers.items() if isinstance(r, Mapping) and r.get("valid") is False]
    undecided = [
        n
        for n, r in checkers.items()
        if isinstance(r, Mapping) and r.get("valid") not in (True, False)
    ]
    return [str(n) for n in failing + undecided]


__all__ = ["Finding", "Findings", "OpIndex", "describe_write", "find", "headline"]
