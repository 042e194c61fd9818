"""What a versioning is: the ``Versioning`` protocol, and the helpers its three schemes share.

A versioning (chosen per cluster: ``dvv``, ``vclock`` or ``lww``) makes a new state from a put
(``update``), joins two states (``merge``), gives a get's context, and says whether one state has
seen another (``descends``, the read-repair check). Each versioning's ``merge`` keeps exactly the
causally maximal versions of the union (DeCandia et al. 2007, §4.4: a version that another
one descends from is dropped), which makes merge commutative, associative and idempotent. A
replica must therefore be sent the whole state a coordinator computed, not just the new version.
A merge whose result is one of its inputs (replicas that agree, a replica receiving a state that
descends its own) returns that input, remembered as maximal. Pure values: no I/O, no clock, no
randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, cast

from cluster.core.versions.context import Context
from cluster.core.versions.siblings import Siblings
from cluster.core.versions.version import DvvVersion, LwwVersion, VclockVersion

_V = TypeVar("_V", DvvVersion, VclockVersion, LwwVersion)


class Versioning(Protocol):
    """How a cluster versions values. ``clocks`` lists each version's clock in the order of
    ``Siblings.versions`` (tombstones included)."""

    name: str

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]: ...

    def merge(self, a: Siblings, b: Siblings) -> Siblings: ...

    def context(self, s: Siblings) -> Context: ...

    def descends(self, a: Siblings, b: Siblings) -> bool: ...

    def clocks(self, s: Siblings) -> list[dict[str, int]]: ...


def _typed(s: Siblings, kind: type[_V], versioning_name: str) -> tuple[_V, ...]:
    """The versions of ``s``, checked to belong to this versioning (siblings never mix
    versionings, so the first version speaks for all)."""
    if s.versions and not isinstance(s.versions[0], kind):
        raise ValueError(
            f"siblings hold {s.versions[0].KIND} versions but this cluster uses "
            f"versioning={versioning_name}"
        )
    return cast("tuple[_V, ...]", s.versions)  # a string: no generic alias built per call


def _union(
    a: Siblings, b: Siblings, kind: type[_V], versioning_name: str
) -> tuple[tuple[_V, ...], Siblings | None]:
    """The versions a merge of ``a`` and ``b`` chooses from, and the input state that equals
    the merge if the merge keeps every one of them. Equal states (a read's replicas mostly
    agree) and an empty side (a read's first answer, a key new to a replica) need only one
    side's versions: a duplicate neither supersedes nor saves anything."""
    mine, theirs = _typed(a, kind, versioning_name), _typed(b, kind, versioning_name)
    if not theirs or a is b or mine == theirs:
        return mine, a
    if not mine:
        return theirs, b
    return mine + theirs, None


def _merged(union: Sequence[_V], kept: list[_V], whole: Siblings | None) -> Siblings:
    """The merge result, ``kept`` (the maximal versions of ``union``): ``whole`` itself when
    that is every version of ``union``."""
    if whole is None or len(kept) != len(union):
        whole = Siblings(tuple(kept))
    # No version of a merge supersedes another, so merging it again changes nothing.
    object.__setattr__(whole, "_maximal", True)
    return whole
