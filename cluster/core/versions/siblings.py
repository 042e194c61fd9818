"""One replica's (or one get's) state of a key: a ``Siblings`` value, its concurrent versions.

The paper's get returns every version that no other version supersedes, for the client to
reconcile (DeCandia et al. 2007, §4.4); this is that set. Its versions are of one versioning,
tombstones included, and in canonical order (sorted by their canonical text, without repeats),
so equal states are equal values with equal JSON and equal digests. ``to_json`` / ``from_json``
are the stored and wire form of a state (a list of the versions' JSON forms), ``text`` its
canonical JSON text and ``digest`` that text's SHA-256. Which versions a state keeps is up
to the versionings (``dvv``, ``vclock``, ``lww``), which build states with ``_new_siblings``
when they know the versions are canonical already. Pure values: no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from cluster.core.versions.encoding import _encode_value, _new_instance
from cluster.core.versions.version import (
    _TOMBSTONE_JSON,
    Version,
    _Version,
    _version_from_json,
)


class _SiblingsDerived:
    """What a state derives from its versions, computed once (see ``_Derived``)."""

    _digest: bytes | None = None
    _text: str | None = None  # the canonical text (``text()``)
    # Known to hold only causally maximal versions (a merge's result, or a state a merge
    # returned whole): merging it with itself or with nothing gives it back unchanged.
    _maximal: bool = False


@dataclass(frozen=True)
class Siblings(_SiblingsDerived):
    """One replica's (or one get's) state of a key: its concurrent versions, tombstones
    included, in canonical order (equal states are equal values with equal JSON)."""

    versions: tuple[Version, ...] = ()
    EMPTY: ClassVar[Siblings]

    def __post_init__(self) -> None:
        versions = self.versions
        if type(versions) is not tuple:
            versions = tuple(versions)
            object.__setattr__(self, "versions", versions)
        if not versions:
            return
        kind = type(versions[0])
        if not issubclass(kind, _Version):
            raise TypeError(f"siblings hold versions, got a {kind.__name__}")
        if len(versions) == 1:
            return
        keys: list[str] = []
        in_order = True
        for v in versions:
            if type(v) is not kind:
                names = sorted({type(v).KIND for v in versions})
                raise ValueError(f"siblings mix versionings: {', '.join(names)}")
            key = v.sort_key
            if keys and keys[-1] >= key:
                in_order = False
            keys.append(key)
        # States read back from storage or the wire are already in canonical order, as are
        # most merge results: sort and drop duplicates only when needed.
        if not in_order:
            canonical = dict(zip(keys, versions, strict=True))
            object.__setattr__(self, "versions", tuple(canonical[k] for k in sorted(canonical)))

    @property
    def kind(self) -> str | None:
        """``"dvv"``, ``"vclock"``, ``"lww"``, or ``None`` when empty."""
        return self.versions[0].KIND if self.versions else None

    @property
    def values(self) -> list[Any]:
        """The distinct live values (tombstones excluded), sorted by their JSON encoding."""
        live = {v.value_json: v for v in self.versions if v.value_json != _TOMBSTONE_JSON}
        return [live[text].value for text in sorted(live)]

    def holds(self, value: Any) -> bool:
        """Whether a live version holds ``value`` (a JSON-able value; None, a tombstone's, never
        is live): compared by canonical text, without decoding any version's value."""
        if value is None:
            return False
        text = _encode_value(value)
        return any(v.value_json == text for v in self.versions)

    @property
    def is_empty(self) -> bool:
        """Nothing at all: the key was never written here."""
        return not self.versions

    @property
    def is_tombstone(self) -> bool:
        """Deleted: there are versions and every one is a tombstone."""
        versions = self.versions
        if not versions:
            return False
        for v in versions:  # noqa: SIM110 (a plain loop: cheaper than all() over a generator)
            if v.value_json != _TOMBSTONE_JSON:
                return False
        return True

    def to_json(self) -> list[dict[str, object]]:
        """The canonical JSON-able form, for storage and the wire (a fresh structure that the
        caller may change)."""
        return [v.to_json() for v in self.versions]

    @classmethod
    def from_json(cls, data: object) -> Siblings:
        """The state ``to_json`` produced; ``ValueError`` naming the bad entry otherwise."""
        if not isinstance(data, list):
            raise ValueError(f"siblings: expected a list, got {type(data).__name__}")
        if len(data) < 2 and cls is Siblings:
            # Nothing to check across versions (their kind, order and repeats): the common
            # state of a single version, built without ``__init__``, and the empty state.
            if not data:
                return Siblings.EMPTY
            return _new_siblings((_version_from_json(data[0], 0),))
        return cls(tuple([_version_from_json(entry, i) for i, entry in enumerate(data)]))

    def text(self) -> str:
        """The canonical JSON text of ``to_json()`` (compact, keys sorted): its versions'
        canonical texts, spliced. Computed once: a state is stored, sent and digested by it,
        and one decoded from a peer's text is often handed on (``replica.decode_state``)."""
        text = self._text
        if text is None:
            text = "[" + ",".join([v.sort_key for v in self.versions]) + "]"
            object.__setattr__(self, "_text", text)
        return text

    def digest(self) -> bytes:
        """A stable SHA-256 of the canonical form."""
        digest = self._digest
        if digest is None:
            digest = hashlib.sha256(self.text().encode()).digest()
            object.__setattr__(self, "_digest", digest)
        return digest


Siblings.EMPTY = Siblings()


def _new_siblings(versions: tuple[Version, ...]) -> Siblings:
    """``Siblings(versions)`` for versions known to be in canonical order (sorted by
    ``sort_key``, without repeats) and of one kind, as the versionings' merges and updates
    build them: without the frozen ``__init__`` and the re-validation of ``__post_init__``; leaves
    exactly the state ``__init__`` leaves."""
    state = _new_instance(Siblings)
    state.__dict__["versions"] = versions
    return state
