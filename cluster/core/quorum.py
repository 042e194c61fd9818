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

import msgspec

from cluster.core.ring import Target
from cluster.core.versions import Siblings, Versioning


class Outcome(msgspec.Struct, frozen=True):
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


# The cores below are plain classes with slots, not dataclasses: every get and put a node
# coordinates builds two of them, and a dataclass's generated ``__init__`` with its default
# factories showed in a simulated run's profile.


class _Tally:
    """Replies counted so far against a list of targets. A coordinator asks after every reply
    whether the quorum is met or lost, so those answers are kept as running counts."""

    __slots__ = (
        "_answered",
        "_by_node",
        "_primaries",
        "_primaries_failed",
        "_primaries_ok",
        "failed",
        "needed",
        "primaries_needed",
        "succeeded",
        "targets",
    )

    def __init__(self, targets: list[Target], needed: int, primaries_needed: int) -> None:
        self.targets = targets
        self.needed = needed
        self.primaries_needed = primaries_needed
        self.succeeded: list[Target] = []
        self.failed: list[Target] = []
        self._by_node = {t.node: t for t in targets}
        self._answered: set[str] = set()
        self._primaries_ok = 0
        self._primaries_failed = 0
        self._primaries = len([t for t in targets if t.hint_for is None])

    def target(self, node: str) -> Target | None:
        return self._by_node.get(node)

    def record(self, node: str, ok: bool) -> bool:
        """Count one reply; False if ``node`` is not a target or already answered."""
        target = self._by_node.get(node)
        if target is None or node in self._answered:
            return False
        self._answered.add(node)
        primary = target.hint_for is None
        if ok:
            self.succeeded.append(target)
            self._primaries_ok += primary
        else:
            self.failed.append(target)
            self._primaries_failed += primary
        return True

    @property
    def primaries_ok(self) -> int:
        return self._primaries_ok

    def met(self) -> bool:
        return len(self.succeeded) >= self.needed and self._primaries_ok >= self.primaries_needed

    def impossible(self) -> bool:
        outstanding = len(self.targets) - len(self._answered)
        if len(self.succeeded) + outstanding < self.needed:
            return True
        outstanding_primaries = self._primaries - self._primaries_ok - self._primaries_failed
        return self._primaries_ok + outstanding_primaries < self.primaries_needed

    @property
    def complete(self) -> bool:
        return len(self._answered) == len(self.targets)

    def outcome(self, kind: str) -> Outcome:
        replicas = [t.node for t in self.succeeded]
        fallbacks = [t.node for t in self.succeeded if t.hint_for is not None]
        if self.met():
            return Outcome(True, replicas, fallbacks)
        error = (
            f"only {len(self.succeeded)} of {kind}={self.needed} replicas answered"
            f" ({self._primaries_ok} primaries, {self.primaries_needed} required)"
        )
        return Outcome(False, replicas, fallbacks, error)


class GetCore:
    """Counts replica answers to a get and merges what they hold."""

    __slots__ = ("_merge", "_states", "_tally", "pr", "r", "targets")

    def __init__(self, targets: list[Target], r: int, pr: int = 0) -> None:
        _validate("r", r, pr, targets)
        self.targets = targets
        self.r = r
        self.pr = pr
        self._tally = _Tally(targets, r, pr)
        self._states: dict[str, Siblings] = {}
        self._merge: tuple[int, Siblings] | None = None

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
        return self._tally.outcome("r"), self._merged(versioning)

    def _merged(self, versioning: Versioning) -> Siblings:
        # Remembered until another state arrives: a get asks once to answer, once to repair.
        if self._merge is not None and self._merge[0] == len(self._states):
            return self._merge[1]
        merged = Siblings.EMPTY
        for state in self._states.values():
            if state is not merged:  # replicas that answered "same" hand back one object
                merged = versioning.merge(merged, state)
        self._merge = (len(self._states), merged)
        return merged

    def read_repairs(self, versioning: Versioning) -> list[tuple[Target, Siblings]]:
        """Replicas whose state is behind the merged state, with what to send them (§4.6)."""
        merged = self._merged(versioning)
        if merged.is_empty:
            return []
        return [
            (t, merged)
            for t in self._tally.succeeded
            if self._states[t.node] is not merged
            and not versioning.descends(self._states[t.node], merged)
        ]


class PutCore:
    """Counts replica acknowledgements of a put."""

    __slots__ = ("_tally", "pw", "targets", "w")

    def __init__(self, targets: list[Target], w: int, pw: int = 0) -> None:
        _validate("w", w, pw, targets)
        self.targets = targets
        self.w = w
        self.pw = pw
        self._tally = _Tally(targets, w, pw)

    def add_result(self, node: str, ok: bool) -> None:
        self._tally.record(node, ok)

    def enough(self) -> bool:
        return self._tally.met() or self._tally.impossible()

    @property
    def complete(self) -> bool:
        return self._tally.complete

    def response(self) -> Outcome:
        return self._tally.outcome("w")
