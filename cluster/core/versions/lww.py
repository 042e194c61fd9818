"""Last write wins, as an option (``versioning = lww``): the paper's timestamp-based
reconciliation (DeCandia et al. 2007, §6).

Each version is stamped with the coordinator's wall clock and name, and a merge keeps only the
version with the largest (timestamp, node, value): concurrent writes lose all but one, and clock
skew decides which. There is no causal context (``context`` is always empty). The harness shows
what this loses. Pure values: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cluster.core.versions.context import Context
from cluster.core.versions.encoding import _encode_value
from cluster.core.versions.scheme import _merged, _typed, _union
from cluster.core.versions.siblings import Siblings
from cluster.core.versions.version import LwwVersion, _new_lww


def _lww_key(v: LwwVersion) -> tuple[int, str, str]:
    return (v.timestamp_ms, v.node, v.value_json)


class Lww:
    """Last write wins: the version with the largest (timestamp, node, value) survives."""

    name = "lww"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        new = _new_lww(_encode_value(value), int(now_ms), node, value)
        return self._latest([new, *_typed(local, LwwVersion, self.name)]), {}

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        union, whole = _union(a, b, LwwVersion, self.name)
        if whole is not None and whole._maximal:
            return whole
        winner = max(union, key=_lww_key, default=None)
        if winner is None:
            return Siblings.EMPTY
        return _merged(union, [winner], whole)

    @staticmethod
    def _latest(versions: Iterable[LwwVersion]) -> Siblings:
        winner = max(versions, key=_lww_key, default=None)
        return Siblings.EMPTY if winner is None else Siblings((winner,))

    def context(self, s: Siblings) -> Context:
        _typed(s, LwwVersion, self.name)
        return Context.EMPTY

    def descends(self, a: Siblings, b: Siblings) -> bool:
        theirs = _typed(b, LwwVersion, self.name)
        mine = _typed(a, LwwVersion, self.name)
        if not theirs:
            return True
        return bool(mine) and max(map(_lww_key, mine)) >= max(map(_lww_key, theirs))

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [{} for _ in _typed(s, LwwVersion, self.name)]
