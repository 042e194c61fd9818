"""Quorum counting for one get or one put, as pure values (riak_kv's get_core / put_core).

A coordinator creates a core with the request's targets and quorum sizes, feeds it each reply
with ``add_result``, asks ``enough()`` whether it can answer, and builds the answer with
``response()``. ``GetCore`` also says which replicas need read repair once every reply (or the
timeout) is in. The cores know nothing about sockets or time. No I/O here.

Quorum rules (Dynamo §4.5, Riak's PR/PW): a get succeeds once R replicas answered, at least PR of
them primaries; a put once W replicas acknowledged, at least PW of them primaries. A core fails
early as soon as the outstanding replies can no longer reach the quorum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cluster.ring import Target
from cluster.versions import Siblings, Versioning


@dataclass(frozen=True)
class Outcome:
    """What the coordinator saw: success or not, and who answered."""

    ok: bool
    replicas: list[str]
    fallbacks: list[str]
    error: str = ""


def _validate(kind: str, needed: int, primaries_needed: int, targets: list[Target]) -> None:
    if needed < 1:
        raise ValueError(f"{kind} must be at least 1, got {needed}")
    if primaries_needed < 0 or primaries_needed > needed:
        raise ValueError(f"p{kind} must be between 0 and {kind}={needed}, got {primaries_needed}")
    if len({t.node for t in targets}) != len(targets):
        raise ValueError("targets must be distinct nodes")


@dataclass
class _Tally:
    """Replies counted so far against a list of targets."""

    targets: list[Target]
    needed: int
    primaries_needed: int
    succeeded: list[Target] = field(default_factory=list)
    failed: list[Target] = field(default_factory=list)

    def target(self, node: str) -> Target | None:
        for t in self.targets:
            if t.node == node:
                return t
        return None

    def record(self, node: str, ok: bool) -> bool:
        """Count one reply; False if ``node`` is not a target or already answered."""
        target = self.target(node)
        if target is None or target in self.succeeded or target in self.failed:
            return False
        (self.succeeded if ok else self.failed).append(target)
        return True

    @property
    def primaries_ok(self) -> int:
        return sum(1 for t in self.succeeded if t.hint_for is None)

    def met(self) -> bool:
        return len(self.succeeded) >= self.needed and self.primaries_ok >= self.primaries_needed

    def impossible(self) -> bool:
        outstanding = [t for t in self.targets if t not in self.succeeded and t not in self.failed]
        if len(self.succeeded) + len(outstanding) < self.needed:
            return True
        outstanding_primaries = sum(1 for t in outstanding if t.hint_for is None)
        return self.primaries_ok + outstanding_primaries < self.primaries_needed

    @property
    def complete(self) -> bool:
        return len(self.succeeded) + len(self.failed) == len(self.targets)

    def outcome(self, kind: str) -> Outcome:
        replicas = [t.node for t in self.succeeded]
        fallbacks = [t.node for t in self.succeeded if t.hint_for is not None]
        if self.met():
            return Outcome(True, replicas, fallbacks)
        error = (
            f"only {len(self.succeeded)} of {kind}={self.needed} replicas answered"
            f" ({self.primaries_ok} primaries, {self.primaries_needed} required)"
        )
        return Outcome(False, replicas, fallbacks, error)


@dataclass
class GetCore:
    """Counts replica answers to a get and merges what they hold."""

    targets: list[Target]
    r: int
    pr: int = 0
    _tally: _Tally = field(init=False)
    _states: dict[str, Siblings] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        _validate("r", self.r, self.pr, self.targets)
        self._tally = _Tally(self.targets, self.r, self.pr)

    def add_result(self, node: str, state: Siblings | None) -> None:
        """Record ``node``'s answer: its state (``Siblings.EMPTY`` if it holds nothing) or
        ``None`` for an error. Replies from non-targets and duplicates are ignored."""
        if self._tally.record(node, state is not None) and state is not None:
            self._states[node] = state

    def enough(self) -> bool:
        """True once the answer is decided: quorum met, or it can no longer be met."""
        return self._tally.met() or self._tally.impossible()

    @property
    def complete(self) -> bool:
        """Every target has answered (successfully or not)."""
        return self._tally.complete

    def response(self, versioning: Versioning) -> tuple[Outcome, Siblings]:
        """The outcome and the merge of every state received so far."""
        merged = Siblings.EMPTY
        for state in self._states.values():
            merged = versioning.merge(merged, state)
        return self._tally.outcome("r"), merged

    def read_repairs(self, versioning: Versioning) -> list[tuple[Target, Siblings]]:
        """Replicas whose state is behind the merged state, with what to send them (§4.6)."""
        _, merged = self.response(versioning)
        if merged.is_empty:
            return []
        return [
            (t, merged)
            for t in self._tally.succeeded
            if not versioning.descends(self._states[t.node], merged)
        ]


@dataclass
class PutCore:
    """Counts replica acknowledgements of a put."""

    targets: list[Target]
    w: int
    pw: int = 0
    _tally: _Tally = field(init=False)

    def __post_init__(self) -> None:
        _validate("w", self.w, self.pw, self.targets)
        self._tally = _Tally(self.targets, self.w, self.pw)

    def add_result(self, node: str, ok: bool) -> None:
        self._tally.record(node, ok)

    def enough(self) -> bool:
        return self._tally.met() or self._tally.impossible()

    @property
    def complete(self) -> bool:
        return self._tally.complete

    def response(self) -> Outcome:
        return self._tally.outcome("w")
