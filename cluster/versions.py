"""Versions of a key: sibling sets, causal contexts, and the three ways a cluster can version.

A replica's state of one key is a ``Siblings`` value: a set of concurrent versions, each holding
a JSON-able value (``None`` is a tombstone, the trace of a delete). A get returns the merged
siblings and an opaque ``Context``; a put hands that context back so the coordinator knows what
the client had seen. Three versionings, chosen per cluster (``versioning = dvv | vclock | lww``):

- ``dvv``: dotted version vectors (Preguiça et al. 2012; Riak's dvvset). Each version carries
  the single event (dot) that created it and the causal past the client had seen, so two
  concurrent writes through the same coordinator both survive as siblings. The default.
- ``vclock``: the paper's per-node vector clocks (§4.4), truncated at 10 entries by oldest
  timestamp. Two concurrent read-modify-writes through one coordinator with the same context
  get *equal* clocks, and one silently replaces the other: the lost update Riak fixed with DVVs.
- ``lww``: last write wins by (timestamp, node): concurrent writes lose all but one.

Each versioning's ``merge`` keeps exactly the causally maximal versions of the union (for
``vclock``, equal clocks are resolved by a deterministic order, see ``_vclock_key``), which makes
merge commutative, associative and idempotent. A replica must therefore be sent the whole state
a coordinator computed, not just the new version. Pure values: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

VERSIONINGS = ("dvv", "vclock", "lww")
VCLOCK_MAX_ENTRIES = 10  # the paper's truncation threshold (§4.4)

_TOMBSTONE_JSON = "null"


def _canonical(data: object) -> str:
    """Compact JSON with sorted keys: equal data, equal text."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _encode_value(value: Any) -> str:
    try:
        return _canonical(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"value is not JSON-able: {err}") from err


def _is_count(x: object, minimum: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= minimum


def _is_name(x: object) -> bool:
    return isinstance(x, str) and bool(x)


def _join(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """The least upper bound of two version vectors."""
    joined = dict(a)
    for node, counter in b.items():
        joined[node] = max(joined.get(node, 0), counter)
    return joined


# ---------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Context:
    """The causal context a get returns and a put takes back: a version vector, plus for
    ``vclock`` the timestamp of each entry (truncation needs them). Empty for ``lww``."""

    counters: tuple[tuple[str, int], ...] = ()  # sorted by node
    timestamps_ms: tuple[tuple[str, int], ...] = ()  # sorted by node; only vclock fills it
    EMPTY: ClassVar[Context]

    def __post_init__(self) -> None:
        nodes = [node for node, _ in self.counters]
        if nodes != sorted(set(nodes)):
            raise ValueError("context counters must be sorted by node without repeats")
        if not all(_is_name(n) and _is_count(c, 1) for n, c in self.counters):
            raise ValueError("context counters must map node names to integers >= 1")
        stamped = [node for node, _ in self.timestamps_ms]
        if stamped != sorted(set(stamped)) or not set(stamped) <= set(nodes):
            raise ValueError("context timestamps must be sorted and name nodes of the counters")
        if not all(_is_count(t, 0) for _, t in self.timestamps_ms):
            raise ValueError("context timestamps must be integers >= 0")

    @classmethod
    def of(
        cls, counters: Mapping[str, int], timestamps_ms: Mapping[str, int] | None = None
    ) -> Context:
        stamps = timestamps_ms or {}
        return cls(tuple(sorted(counters.items())), tuple(sorted(stamps.items())))

    def as_dict(self) -> dict[str, int]:
        """``{node: counter}``, for history records."""
        return dict(self.counters)

    def timestamps(self) -> dict[str, int]:
        return dict(self.timestamps_ms)

    def encode(self) -> str:
        """An opaque URL-safe string: base64url of compact JSON; ``""`` for the empty context."""
        if not self.counters:
            return ""
        stamps = self.timestamps()
        body = {n: ([c, stamps[n]] if n in stamps else c) for n, c in self.counters}
        return base64.urlsafe_b64encode(_canonical(body).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Context:
        """The context ``encode`` produced; ``ValueError("malformed context ...")`` otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"malformed context: expected a string, got {type(text).__name__}")
        if text == "":
            return cls.EMPTY
        shown = text if len(text) <= 40 else text[:37] + "..."
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
            body = json.loads(raw.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"malformed context {shown!r}: not base64url JSON") from err
        if not isinstance(body, dict):
            raise ValueError(f"malformed context {shown!r}: not a JSON object")
        counters: dict[str, int] = {}
        stamps: dict[str, int] = {}
        for node, entry in body.items():
            if _is_count(entry, 1):
                counters[node] = entry
            elif (
                isinstance(entry, list)
                and len(entry) == 2
                and _is_count(entry[0], 1)
                and _is_count(entry[1], 0)
            ):
                counters[node], stamps[node] = entry
            else:
                raise ValueError(f"malformed context {shown!r}: bad entry for {node!r}")
            if not node:
                raise ValueError(f"malformed context {shown!r}: empty node name")
        return cls.of(counters, stamps)


Context.EMPTY = Context()
EMPTY_CONTEXT = Context.EMPTY


# ---------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class _Version:
    value_json: str  # canonical JSON of the value; "null" is a tombstone

    @property
    def value(self) -> Any:
        """A fresh copy of the value (``None`` for a tombstone)."""
        return json.loads(self.value_json)

    @property
    def is_tombstone(self) -> bool:
        return self.value_json == _TOMBSTONE_JSON

    def to_json(self) -> dict[str, object]:
        raise NotImplementedError

    @property
    def sort_key(self) -> str:
        return _canonical(self.to_json())


@dataclass(frozen=True)
class DvvVersion(_Version):
    """A value created by event ``(node, counter)`` (its dot) after seeing ``past``."""

    node: str
    counter: int
    past: tuple[tuple[str, int], ...]  # sorted by node; past[node] < counter
    KIND: ClassVar[str] = "dvv"

    def clock(self) -> dict[str, int]:
        return _join(dict(self.past), {self.node: self.counter})

    def seen_by(self, other: DvvVersion) -> bool:
        """``other`` has this version in its causal history (or is the same event and wins the
        deterministic tie between two values claiming one dot)."""
        if other.node == self.node and other.counter == self.counter:
            return other.sort_key >= self.sort_key
        return dict(other.past).get(self.node, 0) >= self.counter

    def to_json(self) -> dict[str, object]:
        return {
            "value": self.value,
            "dot": [self.node, self.counter],
            "past": dict(self.past),
        }


@dataclass(frozen=True)
class VclockVersion(_Version):
    """A value with its vector clock: ``(node, counter, timestamp_ms)`` entries, sorted."""

    entries: tuple[tuple[str, int, int], ...]
    KIND: ClassVar[str] = "vclock"

    def clock(self) -> dict[str, int]:
        return {node: counter for node, counter, _ in self.entries}

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "clock": {n: [c, t] for n, c, t in self.entries}}


@dataclass(frozen=True)
class LwwVersion(_Version):
    """A value stamped with the coordinator's wall clock and name."""

    timestamp_ms: int
    node: str
    KIND: ClassVar[str] = "lww"

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "ts": self.timestamp_ms, "node": self.node}


Version = DvvVersion | VclockVersion | LwwVersion


# ---------------------------------------------------------------------------- siblings


@dataclass(frozen=True)
class Siblings:
    """One replica's (or one get's) state of a key: its concurrent versions, tombstones
    included, in canonical order (equal states are equal values with equal JSON)."""

    versions: tuple[Version, ...] = ()
    EMPTY: ClassVar[Siblings]

    def __post_init__(self) -> None:
        kinds = {type(v) for v in self.versions}
        if len(kinds) > 1:
            names = sorted(k.KIND for k in kinds)
            raise ValueError(f"siblings mix versionings: {', '.join(names)}")
        canonical = {v.sort_key: v for v in self.versions}
        object.__setattr__(self, "versions", tuple(canonical[k] for k in sorted(canonical)))

    @property
    def kind(self) -> str | None:
        """``"dvv"``, ``"vclock"``, ``"lww"``, or ``None`` when empty."""
        return self.versions[0].KIND if self.versions else None

    @property
    def values(self) -> list[Any]:
        """The distinct live values (tombstones excluded), sorted by their JSON encoding."""
        live = sorted({v.value_json for v in self.versions if not v.is_tombstone})
        return [json.loads(text) for text in live]

    @property
    def is_empty(self) -> bool:
        """Nothing at all: the key was never written here."""
        return not self.versions

    @property
    def is_tombstone(self) -> bool:
        """Deleted: there are versions and every one is a tombstone."""
        return bool(self.versions) and all(v.is_tombstone for v in self.versions)

    def to_json(self) -> list[dict[str, object]]:
        """The canonical JSON-able form, for storage and the wire."""
        return [v.to_json() for v in self.versions]

    @classmethod
    def from_json(cls, data: object) -> Siblings:
        """The state ``to_json`` produced; ``ValueError`` naming the bad entry otherwise."""
        if not isinstance(data, list):
            raise ValueError(f"siblings: expected a list, got {type(data).__name__}")
        return cls(tuple(_version_from_json(entry, i) for i, entry in enumerate(data)))

    def digest(self) -> bytes:
        """A stable SHA-256 of the canonical form, for Merkle trees."""
        return hashlib.sha256(_canonical(self.to_json()).encode()).digest()


Siblings.EMPTY = Siblings()


def _version_from_json(entry: object, index: int) -> Version:
    where = f"siblings[{index}]"
    if not isinstance(entry, dict) or "value" not in entry:
        raise ValueError(f"{where}: expected an object with a 'value'")
    value_json = _encode_value(entry["value"])
    keys = set(entry)
    if keys == {"value", "dot", "past"}:
        dot, past = entry["dot"], entry["past"]
        if not (
            isinstance(dot, list) and len(dot) == 2 and _is_name(dot[0]) and _is_count(dot[1], 1)
        ):
            raise ValueError(f"{where}: 'dot' must be [node, counter >= 1]")
        if not isinstance(past, dict) or not all(
            _is_name(n) and _is_count(c, 1) for n, c in past.items()
        ):
            raise ValueError(f"{where}: 'past' must map node names to counters >= 1")
        if past.get(dot[0], 0) >= dot[1]:
            raise ValueError(f"{where}: the dot {dot} is already in its own past")
        return DvvVersion(value_json, dot[0], dot[1], tuple(sorted(past.items())))
    if keys == {"value", "clock"}:
        clock = entry["clock"]
        if (
            not isinstance(clock, dict)
            or not clock
            or not all(
                _is_name(n)
                and isinstance(e, list)
                and len(e) == 2
                and _is_count(e[0], 1)
                and _is_count(e[1], 0)
                for n, e in clock.items()
            )
        ):
            raise ValueError(f"{where}: 'clock' must map node names to [counter, timestamp_ms]")
        return VclockVersion(value_json, tuple(sorted((n, e[0], e[1]) for n, e in clock.items())))
    if keys == {"value", "ts", "node"}:
        if not _is_count(entry["ts"], 0) or not _is_name(entry["node"]):
            raise ValueError(f"{where}: 'ts' must be an integer >= 0 and 'node' a name")
        return LwwVersion(value_json, entry["ts"], entry["node"])
    raise ValueError(
        f"{where}: unknown version shape with keys {sorted(keys)}; expected "
        "value+dot+past (dvv), value+clock (vclock) or value+ts+node (lww)"
    )


# ---------------------------------------------------------------------------- versionings


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


_V = TypeVar("_V", DvvVersion, VclockVersion, LwwVersion)


def _typed(s: Siblings, kind: type[_V], versioning_name: str) -> list[_V]:
    """The versions of ``s``, checked to belong to this versioning."""
    out: list[_V] = []
    for v in s.versions:
        if not isinstance(v, kind):
            raise ValueError(
                f"siblings hold {v.KIND} versions but this cluster uses "
                f"versioning={versioning_name}"
            )
        out.append(v)
    return out


class Dvv:
    """Dotted version vectors: a write's dot is a fresh event of its coordinator, and a version
    is superseded only by one whose past contains that dot."""

    name = "dvv"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        versions = _typed(local, DvvVersion, self.name)
        seen = context.as_dict()
        # A fresh event at `node`: above everything the client and this replica know of it.
        counter = max([seen.get(node, 0)] + [v.clock().get(node, 0) for v in versions]) + 1
        new = DvvVersion(_encode_value(value), node, counter, context.counters)
        concurrent = [v for v in versions if seen.get(v.node, 0) < v.counter]
        return Siblings((new, *concurrent)), _join(seen, {node: counter})

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        union = _typed(a, DvvVersion, self.name) + _typed(b, DvvVersion, self.name)
        return Siblings(tuple(v for v in union if not any(w != v and v.seen_by(w) for w in union)))

    def context(self, s: Siblings) -> Context:
        joined: dict[str, int] = {}
        for v in _typed(s, DvvVersion, self.name):
            joined = _join(joined, v.clock())
        return Context.of(joined)

    def descends(self, a: Siblings, b: Siblings) -> bool:
        mine = _typed(a, DvvVersion, self.name)
        return all(any(v.seen_by(w) for w in mine) for v in _typed(b, DvvVersion, self.name))

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [v.clock() for v in _typed(s, DvvVersion, self.name)]


def _vclock_key(v: VclockVersion) -> tuple[int, str, str]:
    """Which of two versions with equal counters survives: the later write (its newest
    timestamp), then the larger value encoding, then the larger clock — a total order."""
    return (max(t for _, _, t in v.entries), v.value_json, v.sort_key)


def _vclock_below(v: VclockVersion, w: VclockVersion) -> bool:
    """``v`` is superseded by ``w``: a strictly smaller clock, or an equal clock that loses."""
    vc, wc = v.clock(), w.clock()
    if vc == wc:
        return _vclock_key(v) < _vclock_key(w)
    return all(c <= wc.get(n, 0) for n, c in vc.items())


class Vclock:
    """The paper's vector clocks (§4.4): the coordinator increments its own entry of the
    client's context; versions whose clocks another version's clock dominates are dropped."""

    name = "vclock"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        versions = _typed(local, VclockVersion, self.name)
        stamps = context.timestamps()
        entries = {n: (c, stamps.get(n, 0)) for n, c in context.counters}
        entries[node] = (entries.get(node, (0, 0))[0] + 1, int(now_ms))
        if len(entries) > VCLOCK_MAX_ENTRIES:
            # Truncation (§4.4): drop the oldest entries, never the one just written.
            others = sorted((n for n in entries if n != node), key=lambda n: (entries[n][1], n))
            for victim in others[: len(entries) - VCLOCK_MAX_ENTRIES]:
                del entries[victim]
        new = VclockVersion(
            _encode_value(value), tuple(sorted((n, c, t) for n, (c, t) in entries.items()))
        )
        # Keep the maximal versions of local ∪ {new}, as merge would: equal clocks mean one of
        # the two writes is silently lost (normally the older one); a local version that
        # strictly dominates a write from a stale context makes that write vanish.
        return self._maximal([new, *versions]), new.clock()

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        return self._maximal(
            _typed(a, VclockVersion, self.name) + _typed(b, VclockVersion, self.name)
        )

    @staticmethod
    def _maximal(versions: list[VclockVersion]) -> Siblings:
        return Siblings(
            tuple(v for v in versions if not any(_vclock_below(v, w) for w in versions))
        )

    def context(self, s: Siblings) -> Context:
        best: dict[str, tuple[int, int]] = {}
        for v in _typed(s, VclockVersion, self.name):
            for n, c, t in v.entries:
                best[n] = max(best.get(n, (0, 0)), (c, t))
        return Context.of(
            {n: c for n, (c, _) in best.items()}, {n: t for n, (_, t) in best.items()}
        )

    def descends(self, a: Siblings, b: Siblings) -> bool:
        mine = _typed(a, VclockVersion, self.name)
        return all(
            any(v == w or _vclock_below(v, w) for w in mine)
            for v in _typed(b, VclockVersion, self.name)
        )

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [v.clock() for v in _typed(s, VclockVersion, self.name)]


def _lww_key(v: LwwVersion) -> tuple[int, str, str]:
    return (v.timestamp_ms, v.node, v.value_json)


class Lww:
    """Last write wins: the version with the largest (timestamp, node, value) survives."""

    name = "lww"

    def update(
        self, local: Siblings, context: Context, value: Any, node: str, now_ms: float
    ) -> tuple[Siblings, dict[str, int]]:
        new = LwwVersion(_encode_value(value), int(now_ms), node)
        return self._latest([new, *_typed(local, LwwVersion, self.name)]), {}

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        return self._latest(_typed(a, LwwVersion, self.name) + _typed(b, LwwVersion, self.name))

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


_VERSIONINGS: dict[str, Versioning] = {"dvv": Dvv(), "vclock": Vclock(), "lww": Lww()}


def versioning(name: str) -> Versioning:
    """The versioning called ``name``; ``ValueError`` naming the accepted values otherwise."""
    try:
        return _VERSIONINGS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown versioning {name!r}; accepted values: {', '.join(VERSIONINGS)}"
        ) from None
