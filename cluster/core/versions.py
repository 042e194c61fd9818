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

Every request a node serves turns states from JSON into these values and back, so the hot paths
are built to be cheap: each version computes its canonical JSON text once (it orders siblings,
breaks ties, and is spliced, never re-encoded, into the state's text and digest), remembers its
decoded value when that value is immutable, and merges and ``descends`` run in one pass over the
versions instead of comparing every pair through freshly built dicts. A merge whose result is one
of its inputs (a replica receiving a state that descends its own, replicas that agree) returns
that input, and states and contexts built from versions already checked skip re-validation.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeVar, cast

VERSIONINGS = ("dvv", "vclock", "lww")
VCLOCK_MAX_ENTRIES = 10  # the paper's truncation threshold (§4.4)

_TOMBSTONE_JSON = "null"

# One encoder for every canonical text: ``json.dumps`` with options builds a new one per call.
_CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# Values of these exact types are immutable, so a version may hand out the same object each
# time it is asked for its value; containers are decoded afresh, as callers may change them.
_IMMUTABLE_VALUE_TYPES = frozenset({str, int, float, bool, type(None)})
_NOT_DECODED: Any = object()  # marks a version that has not remembered its value
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # base64url's alphabet to base64's
_STANDARD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Building instances on the hot paths without the generated ``__init__`` (see ``_new_dvv``).
_new_instance = object.__new__


def _canonical(data: object) -> str:
    """Compact JSON with sorted keys: equal data, equal text."""
    return _CANONICAL_ENCODER.encode(data)


def _encode_value(value: Any) -> str:
    if type(value) is str:  # the common case, and exactly what the encoder does with a string
        return encode_basestring(value)
    try:
        return _CANONICAL_ENCODER.encode(value)
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


def _is_sorted_count_map(pairs: Iterable[tuple[str, int]], minimum: int) -> bool:
    """Names (plain non-empty strings) strictly increasing, each with a plain integer >=
    ``minimum``: the common shape of valid input, checked in one pass. ``False`` says only
    "check it the slow way", which also accepts subclasses and names the actual problem."""
    previous = ""
    for name, count in pairs:
        if not (type(name) is str and name > previous and type(count) is int and count >= minimum):
            return False
        previous = name
    return True


def _sorted_names_within(
    inner: Iterable[tuple[str, int]], outer: Iterable[tuple[str, int]]
) -> bool:
    """Every name of ``inner`` is a name of ``outer`` (both sorted by name, without repeats)."""
    rest = iter(outer)  # shared: each name is looked for after the previous one's place
    return all(any(other == name for other, _ in rest) for name, _ in inner)


@dataclass(frozen=True)
class Context:
    """The causal context a get returns and a put takes back: a version vector, plus for
    ``vclock`` the timestamp of each entry (truncation needs them). Empty for ``lww``."""

    counters: tuple[tuple[str, int], ...] = ()  # sorted by node
    timestamps_ms: tuple[tuple[str, int], ...] = ()  # sorted by node; only vclock fills it
    EMPTY: ClassVar[Context]

    def __post_init__(self) -> None:
        if _is_sorted_count_map(self.counters, 1) and (
            not self.timestamps_ms
            or (
                _is_sorted_count_map(self.timestamps_ms, 0)
                and _sorted_names_within(self.timestamps_ms, self.counters)
            )
        ):
            return
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
        pairs = tuple(sorted(counters.items()))
        if not timestamps_ms and cls is Context and _is_sorted_count_map(pairs, 1):
            return _new_context(pairs)  # valid: ``__post_init__`` would accept it
        stamps = timestamps_ms or {}
        return cls(pairs, tuple(sorted(stamps.items())))

    def as_dict(self) -> dict[str, int]:
        """``{node: counter}``, for history records."""
        return dict(self.counters)

    def timestamps(self) -> dict[str, int]:
        return dict(self.timestamps_ms)

    def encode(self) -> str:
        """An opaque URL-safe string: base64url of compact JSON; ``""`` for the empty context."""
        if not self.counters:
            return ""
        # The canonical JSON of {node: counter or [counter, timestamp]}, spliced: the counters
        # are already sorted by node, as ``sort_keys`` would order them.
        if self.timestamps_ms:
            stamps = dict(self.timestamps_ms)
            entries = [
                f"{encode_basestring(n)}:[{c},{stamps[n]}]"
                if n in stamps
                else f"{encode_basestring(n)}:{c}"
                for n, c in self.counters
            ]
        else:  # dvv's contexts: counters only
            entries = [f"{encode_basestring(n)}:{c}" for n, c in self.counters]
        text = "{" + ",".join(entries) + "}"
        # What base64.urlsafe_b64encode does, without its two layers of Python calls.
        encoded = binascii.b2a_base64(text.encode(), newline=False)
        return encoded.translate(_STANDARD_TO_URLSAFE).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Context:
        """The context ``encode`` produced; ``ValueError("malformed context ...")`` otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"malformed context: expected a string, got {type(text).__name__}")
        if text == "":
            return cls.EMPTY
        try:
            # What base64.b64decode(altchars=b"-_", validate=True) does, without rebuilding
            # the translation table on every call.
            padded = (text + "=" * (-len(text) % 4)).encode("ascii")
            raw = binascii.a2b_base64(padded.translate(_URLSAFE_TO_STANDARD), strict_mode=True)
            body = json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError) as err:  # UnicodeError is a ValueError
            raise ValueError(f"malformed context {_shown(text)!r}: not base64url JSON") from err
        if type(body) is dict and cls is Context:
            # What ``encode`` writes for dvv: node names in increasing order, each with a
            # plain integer >= 1, taken as they come (the loop below would sort them again).
            pairs = tuple(body.items())
            if _is_sorted_count_map(pairs, 1):
                return _new_context(pairs)
        elif not isinstance(body, dict):
            raise ValueError(f"malformed context {_shown(text)!r}: not a JSON object")
        shown = _shown(text)
        counters: dict[str, int] = {}
        stamps: dict[str, int] = {}
        for node, entry in body.items():
            if type(entry) is int and entry >= 1:  # the JSON types, checked quickly
                counters[node] = entry
            elif (
                type(entry) is list
                and len(entry) == 2
                and type(entry[0]) is int
                and type(entry[1]) is int
                and entry[0] >= 1
                and entry[1] >= 0
            ):
                counters[node], stamps[node] = entry
            elif _is_count(entry, 1):
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


def _shown(text: str) -> str:
    """A context's text as an error message quotes it."""
    return text if len(text) <= 40 else text[:37] + "..."


def _new_context(counters: tuple[tuple[str, int], ...]) -> Context:
    """``Context(counters)`` for counters known to be valid (sorted names, integers >= 1),
    without the frozen ``__init__``'s ``object.__setattr__`` calls and the re-validation;
    leaves exactly the state ``__init__`` leaves."""
    context = _new_instance(Context)
    fields = context.__dict__
    fields["counters"] = counters
    fields["timestamps_ms"] = ()
    return context


# ---------------------------------------------------------------------------- versions


class _Derived:
    """What a version derives from its fields, computed at most once, when first needed (a
    version is immutable). Plain class attributes, not dataclass fields: equality, hashing and
    ``repr`` ignore them, and an instance stores one only once it is computed."""

    # The canonical JSON text of ``to_json()``, spliced from the fields (see ``sort_key``).
    _key: str | None = None
    # The decoded value, once known, when it is immutable (see ``_remember_value``).
    _decoded: Any = _NOT_DECODED
    # VclockVersion: ``{node: counter}``, for comparing clocks; never handed out.
    _counters: dict[str, int] | None = None


@dataclass(frozen=True)
class _Version(_Derived):
    value_json: str  # canonical JSON of the value; "null" is a tombstone

    @property
    def value(self) -> Any:
        """The value (``None`` for a tombstone); a list or an object comes as a fresh copy,
        which the caller may change."""
        decoded = self._decoded
        if decoded is not _NOT_DECODED:
            return decoded
        decoded = json.loads(self.value_json)
        _remember_value(self, decoded)
        return decoded

    @property
    def is_tombstone(self) -> bool:
        return self.value_json == _TOMBSTONE_JSON

    def to_json(self) -> dict[str, object]:
        raise NotImplementedError

    @property
    def sort_key(self) -> str:
        """The canonical JSON text of ``to_json()``: it orders siblings and breaks ties."""
        key = self._key
        if key is None:
            key = self._canonical_text()
            object.__setattr__(self, "_key", key)
        return key

    def _canonical_text(self) -> str:
        raise NotImplementedError


def _remember_value(version: _Version, value: Any) -> None:
    """Tell ``version`` its decoded value (which its ``value_json`` encodes) when that value
    is immutable, so that ``to_json`` and ``values`` need not decode it again. Containers are
    decoded afresh each time: callers may change them."""
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        object.__setattr__(version, "_decoded", value)


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

    def _canonical_text(self) -> str:
        # Keys in sorted order (dot, past, value), and ``past`` is sorted by node, exactly as
        # ``sort_keys`` writes them.
        past = ",".join([f"{encode_basestring(n)}:{c}" for n, c in self.past])
        return (
            f'{{"dot":[{encode_basestring(self.node)},{self.counter}],'
            f'"past":{{{past}}},"value":{self.value_json}}}'
        )


@dataclass(frozen=True)
class VclockVersion(_Version):
    """A value with its vector clock: ``(node, counter, timestamp_ms)`` entries, sorted."""

    entries: tuple[tuple[str, int, int], ...]
    KIND: ClassVar[str] = "vclock"

    def clock(self) -> dict[str, int]:
        return {node: counter for node, counter, _ in self.entries}

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "clock": {n: [c, t] for n, c, t in self.entries}}

    def _canonical_text(self) -> str:
        # {"clock":{node:[counter,timestamp],...},"value":...}, entries sorted by node.
        clock = ",".join([f"{encode_basestring(n)}:[{c},{t}]" for n, c, t in self.entries])
        return f'{{"clock":{{{clock}}},"value":{self.value_json}}}'

    @property
    def _clock(self) -> dict[str, int]:
        """``clock()`` without the copy, computed once: for comparisons only."""
        counters = self._counters
        if counters is None:
            counters = {node: counter for node, counter, _ in self.entries}
            object.__setattr__(self, "_counters", counters)
        return counters


@dataclass(frozen=True)
class LwwVersion(_Version):
    """A value stamped with the coordinator's wall clock and name."""

    timestamp_ms: int
    node: str
    KIND: ClassVar[str] = "lww"

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "ts": self.timestamp_ms, "node": self.node}

    def _canonical_text(self) -> str:
        # {"node":...,"ts":...,"value":...}: keys in sorted order.
        return (
            f'{{"node":{encode_basestring(self.node)},"ts":{self.timestamp_ms},'
            f'"value":{self.value_json}}}'
        )


Version = DvvVersion | VclockVersion | LwwVersion
_V = TypeVar("_V", DvvVersion, VclockVersion, LwwVersion)

# Building versions on the hot paths (``from_json``, ``update``). The generated ``__init__`` of a
# frozen dataclass stores each field through ``object.__setattr__``, which costs as much as all
# the rest of building a version; these builders put the same fields straight into the new
# instance's ``__dict__``, leaving exactly the state ``__init__`` leaves (the version classes
# have no ``__post_init__``), plus the decoded value when it is immutable (``_remember_value``).


def _new_dvv(
    value_json: str, node: str, counter: int, past: tuple[tuple[str, int], ...], value: Any
) -> DvvVersion:
    version = _new_instance(DvvVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["node"] = node
    fields["counter"] = counter
    fields["past"] = past
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


def _new_vclock(
    value_json: str, entries: tuple[tuple[str, int, int], ...], value: Any
) -> VclockVersion:
    version = _new_instance(VclockVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["entries"] = entries
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


def _new_lww(value_json: str, timestamp_ms: int, node: str, value: Any) -> LwwVersion:
    version = _new_instance(LwwVersion)
    fields = version.__dict__
    fields["value_json"] = value_json
    fields["timestamp_ms"] = timestamp_ms
    fields["node"] = node
    if type(value) in _IMMUTABLE_VALUE_TYPES:
        fields["_decoded"] = value
    return version


# ---------------------------------------------------------------------------- siblings


class _SiblingsDerived:
    """What a state derives from its versions, computed once (see ``_Derived``)."""

    _digest: bytes | None = None
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

    def digest(self) -> bytes:
        """A stable SHA-256 of the canonical form, for Merkle trees."""
        digest = self._digest
        if digest is None:
            # The canonical text of the list is its versions' canonical texts, spliced.
            text = "[" + ",".join([v.sort_key for v in self.versions]) + "]"
            digest = hashlib.sha256(text.encode()).digest()
            object.__setattr__(self, "_digest", digest)
        return digest


Siblings.EMPTY = Siblings()


def _new_siblings(versions: tuple[Version, ...]) -> Siblings:
    """``Siblings(versions)`` for versions known to be in canonical order (sorted by
    ``sort_key``, without repeats) and of one kind, as the merges and updates below build
    them: without the frozen ``__init__`` and the re-validation of ``__post_init__``; leaves
    exactly the state ``__init__`` leaves."""
    state = _new_instance(Siblings)
    state.__dict__["versions"] = versions
    return state


def _version_from_json(entry: object, index: int) -> Version:
    """Entry ``index`` of a state's JSON form, as a version; ``ValueError`` naming the problem
    otherwise."""
    if not isinstance(entry, dict) or "value" not in entry:
        raise ValueError(f"siblings[{index}]: expected an object with a 'value'")
    value = entry["value"]
    value_json = _encode_value(value)
    # The shapes differ in their key sets: {value, dot, past}, {value, clock}, {value, ts, node}
    # (``value`` is present, so a count and two memberships decide).
    size = len(entry)
    version: Version | None
    if size == 3 and "dot" in entry and "past" in entry:
        version = _dvv_fast(value_json, entry["dot"], entry["past"], value)
        if version is None:
            version = _dvv_checked(value_json, entry["dot"], entry["past"], index)
            _remember_value(version, value)
        return version
    if size == 2 and "clock" in entry:
        version = _vclock_fast(value_json, entry["clock"], value)
        if version is None:
            version = _vclock_checked(value_json, entry["clock"], index)
            _remember_value(version, value)
        return version
    if size == 3 and "ts" in entry and "node" in entry:
        if not _is_count(entry["ts"], 0) or not _is_name(entry["node"]):
            raise ValueError(f"siblings[{index}]: 'ts' must be an integer >= 0 and 'node' a name")
        return _new_lww(value_json, entry["ts"], entry["node"], value)
    raise ValueError(
        f"siblings[{index}]: unknown version shape with keys {sorted(set(entry))}; expected "
        "value+dot+past (dvv), value+clock (vclock) or value+ts+node (lww)"
    )


# The ``_fast`` readers accept the shape ``to_json`` writes (plain strings and integers, nodes
# already sorted) in one pass; for anything else they return None and the ``_checked`` readers
# decide, naming the problem if there is one.


def _dvv_fast(value_json: str, dot: object, past: object, value: Any) -> DvvVersion | None:
    if not (type(dot) is list and len(dot) == 2 and type(past) is dict):
        return None
    node, counter = dot
    if not (type(node) is str and node and type(counter) is int and counter >= 1):
        return None
    entries = tuple(past.items())
    if not _is_sorted_count_map(entries, 1) or past.get(node, 0) >= counter:
        return None
    return _new_dvv(value_json, node, counter, entries, value)


def _dvv_checked(value_json: str, dot: object, past: object, index: int) -> DvvVersion:
    where = f"siblings[{index}]"
    if not (isinstance(dot, list) and len(dot) == 2 and _is_name(dot[0]) and _is_count(dot[1], 1)):
        raise ValueError(f"{where}: 'dot' must be [node, counter >= 1]")
    if not isinstance(past, dict) or not all(
        _is_name(n) and _is_count(c, 1) for n, c in past.items()
    ):
        raise ValueError(f"{where}: 'past' must map node names to counters >= 1")
    if past.get(dot[0], 0) >= dot[1]:
        raise ValueError(f"{where}: the dot {dot} is already in its own past")
    return DvvVersion(value_json, dot[0], dot[1], tuple(sorted(past.items())))


def _vclock_fast(value_json: str, clock: object, value: Any) -> VclockVersion | None:
    if not (type(clock) is dict and clock):
        return None
    entries = []
    previous = ""
    for node, entry in clock.items():
        if not (type(node) is str and node > previous and type(entry) is list and len(entry) == 2):
            return None
        counter, stamp = entry
        if not (type(counter) is int and counter >= 1 and type(stamp) is int and stamp >= 0):
            return None
        entries.append((node, counter, stamp))
        previous = node
    return _new_vclock(value_json, tuple(entries), value)


def _vclock_checked(value_json: str, clock: object, index: int) -> VclockVersion:
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
        raise ValueError(
            f"siblings[{index}]: 'clock' must map node names to [counter, timestamp_ms]"
        )
    return VclockVersion(value_json, tuple(sorted((n, e[0], e[1]) for n, e in clock.items())))


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


def _reach_and_winners(
    versions: Iterable[DvvVersion],
) -> tuple[dict[str, int], dict[tuple[str, int], DvvVersion]] | None:
    """The join of the versions' pasts, and for each dot the version claiming it that wins
    the tie (the largest canonical text); ``None`` if some version's past already contains its
    own dot (only a hand-built version can), which the one-pass comparisons cannot handle."""
    reach: dict[str, int] = {}
    winners: dict[tuple[str, int], DvvVersion] = {}
    for w in versions:
        node, counter = w.node, w.counter
        for n, c in w.past:
            if c > reach.get(n, 0):
                reach[n] = c
            if n == node and c >= counter:
                return None
        dot = (node, counter)
        best = winners.get(dot)
        if best is None or (best is not w and best != w and w.sort_key > best.sort_key):
            winners[dot] = w
    return reach, winners


_sort_key = attrgetter("sort_key")


def _dvv_maximal(s: Siblings, versions: tuple[DvvVersion, ...]) -> Siblings:
    """``s`` (whose versions are ``versions``) without the versions it supersedes itself: the
    merge of ``s`` with itself or with nothing."""
    if s._maximal:
        return s
    if len(versions) > 1:
        found = _reach_and_winners(versions)
        if found is None:
            kept = [v for v in versions if not any(w != v and v.seen_by(w) for w in versions)]
            return _merged(versions, kept, s)
        reach, winners = found
        # ``versions`` has no repeats, so a version keeps its dot only by being its winner.
        kept = [
            v
            for v in versions
            if reach.get(v.node, 0) < v.counter and winners[(v.node, v.counter)] is v
        ]
        if len(kept) != len(versions):
            s = _new_siblings(tuple(kept))  # a subsequence of a canonical order is one
    # (A single version supersedes nothing but itself, even one whose past holds its dot.)
    object.__setattr__(s, "_maximal", True)
    return s


def _dvv_merge_pair(a: Siblings, x: DvvVersion, b: Siblings, y: DvvVersion) -> Siblings | None:
    """The merge of two different states of one version each (``a`` holds ``x``, ``b`` holds
    ``y``), the common case (a replica receiving the next write of a key, a read meeting a
    stale replica), without the dicts of the general merge; ``None`` leaves the cases it does
    not decide (two values claiming one dot, a past holding its own dot, two versions
    superseding each other) to that merge."""
    x_node, x_counter, y_node, y_counter = x.node, x.counter, y.node, y.counter
    if x_node == y_node and x_counter == y_counter:
        return None
    x_past, y_past = dict(x.past), dict(y.past)
    if x_past.get(x_node, 0) >= x_counter or y_past.get(y_node, 0) >= y_counter:
        return None
    # A version is superseded exactly when the other's past reaches its dot (its own past
    # does not, and the dots differ, so neither version wins a tie over the other).
    x_kept = y_past.get(x_node, 0) < x_counter
    y_kept = x_past.get(y_node, 0) < y_counter
    if x_kept and y_kept:  # concurrent: siblings, in canonical order
        result = _new_siblings((x, y) if x.sort_key < y.sort_key else (y, x))
    elif x_kept:
        result = a
    elif y_kept:
        result = b  # the replica write path: the incoming version descends the local one
    else:
        return None
    object.__setattr__(result, "_maximal", True)
    return result


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
        counter = seen.get(node, 0)
        for v in versions:
            if v.node == node and v.counter > counter:
                counter = v.counter
            for n, c in v.past:
                if n == node and c > counter:
                    counter = c
        counter += 1
        new = _new_dvv(_encode_value(value), node, counter, context.counters, value)
        concurrent = [v for v in versions if seen.get(v.node, 0) < v.counter]
        seen[node] = counter  # the join of the context and the new dot: counter > seen[node]
        if not concurrent:  # the context covered the whole local state: the common case
            return _new_siblings((new,)), seen
        # ``concurrent`` keeps the canonical order of ``local``; the new version's dot is new
        # (its counter is above every event of ``node`` here), so it goes in at its place.
        key = new.sort_key
        place = 0
        while place < len(concurrent) and concurrent[place].sort_key < key:
            place += 1
        concurrent.insert(place, new)
        return _new_siblings(tuple(concurrent)), seen

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        mine = _typed(a, DvvVersion, self.name)
        theirs = _typed(b, DvvVersion, self.name)
        # Equal states (a read's replicas mostly agree) and an empty side (a read's first
        # answer, a key new to a replica) need only one side's versions: a duplicate neither
        # supersedes nor saves anything.
        if not theirs or a is b or mine == theirs:
            return _dvv_maximal(a, mine)
        if not mine:
            return _dvv_maximal(b, theirs)
        if len(mine) == 1 and len(theirs) == 1:
            pair = _dvv_merge_pair(a, mine[0], b, theirs[0])
            if pair is not None:
                return pair
        union = mine + theirs
        found = _reach_and_winners(union)
        if found is None:
            pairwise = [v for v in union if not any(w != v and v.seen_by(w) for w in union)]
            return _merged(union, pairwise, None)
        # One pass instead of every pair: a version is superseded when some version's past
        # reaches its dot (a well-formed past never reaches its own dot, hence never that of
        # another version claiming the same dot), or when another value claiming the same dot
        # wins the tie. Each side is in canonical order without repeats, so a version of ``a``
        # survives only as its dot's winner itself, and one of ``b`` that survives is kept
        # unless ``a`` kept its dot already (an equal version, perhaps the same object).
        reach, winners = found
        kept: list[DvvVersion] = []
        taken: set[tuple[str, int]] = set()  # the dots of the versions of ``a`` kept
        for v in mine:
            dot = (v.node, v.counter)
            if reach.get(v.node, 0) < v.counter and winners[dot] is v:
                kept.append(v)
                taken.add(dot)
        all_of_mine = len(kept) == len(mine)
        all_of_theirs = True  # every version of ``b`` survives (itself or an equal of ``a``'s)
        for w in theirs:
            if reach.get(w.node, 0) >= w.counter:
                all_of_theirs = False
                continue
            dot = (w.node, w.counter)
            winner = winners[dot]
            if winner is w or winner == w:
                if dot not in taken:
                    kept.append(w)
            else:
                all_of_theirs = False
        # The result is one input whole when it keeps exactly that input's versions: the
        # replica write path (the incoming state descends the local one, and carries the local
        # versions it did not supersede) returns ``b`` without sorting or building anything.
        result: Siblings
        if all_of_theirs and len(kept) == len(theirs):
            result = b
        elif all_of_mine and len(kept) == len(mine):
            result = a
        else:
            if len(kept) > 1:  # both sides are sorted: interleave them
                kept.sort(key=_sort_key)
            result = _new_siblings(tuple(kept))
        # No version of a merge supersedes another, so merging it again changes nothing.
        object.__setattr__(result, "_maximal", True)
        return result

    def context(self, s: Siblings) -> Context:
        versions = _typed(s, DvvVersion, self.name)
        if len(versions) == 1:  # the common case: the version's past and its dot
            v = versions[0]
            joined = dict(v.past)
            if v.counter > joined.get(v.node, 0):
                joined[v.node] = v.counter
            return Context.of(joined)
        joined = {}
        for v in versions:
            for n, c in v.past:
                if c > joined.get(n, 0):
                    joined[n] = c
            if v.counter > joined.get(v.node, 0):
                joined[v.node] = v.counter
        return Context.of(joined)

    def descends(self, a: Siblings, b: Siblings) -> bool:
        mine = _typed(a, DvvVersion, self.name)
        theirs = _typed(b, DvvVersion, self.name)
        if not theirs or a is b or mine == theirs:
            return True  # every version has seen itself
        found = _reach_and_winners(mine)
        if found is None:
            return all(any(v.seen_by(w) for w in mine) for v in theirs)
        reach, winners = found
        for v in theirs:
            if reach.get(v.node, 0) >= v.counter:
                continue
            winner = winners.get((v.node, v.counter))
            if winner is None or not (winner is v or winner == v or winner.sort_key >= v.sort_key):
                return False
        return True

    def clocks(self, s: Siblings) -> list[dict[str, int]]:
        return [v.clock() for v in _typed(s, DvvVersion, self.name)]


def _vclock_key(v: VclockVersion) -> tuple[int, str, str]:
    """Which of two versions with equal counters survives: the later write (its newest
    timestamp), then the larger value encoding, then the larger clock — a total order."""
    return (max(t for _, _, t in v.entries), v.value_json, v.sort_key)


def _vclock_below(v: VclockVersion, w: VclockVersion) -> bool:
    """``v`` is superseded by ``w``: a strictly smaller clock, or an equal clock that loses."""
    return v is not w and _clock_below(v, v._clock, w, w._clock)


def _clock_below(
    v: VclockVersion, vc: dict[str, int], w: VclockVersion, wc: dict[str, int]
) -> bool:
    """``_vclock_below`` for two distinct versions, given their clocks."""
    if vc == wc:
        return _vclock_key(v) < _vclock_key(w)
    if len(vc) > len(wc):
        return False  # v counts an event at a node w has never heard of
    for n, c in vc.items():  # noqa: SIM110 (a plain loop: half the cost of all() here)
        if c > wc.get(n, 0):
            return False
    return True


def _vclock_maximal(versions: Sequence[VclockVersion]) -> list[VclockVersion]:
    """The versions no other version supersedes (each clock looked up once)."""
    if len(versions) < 2:
        return list(versions)
    clocked = [(v, v._clock) for v in versions]
    return [
        v
        for v, vc in clocked
        if not any(w is not v and _clock_below(v, vc, w, wc) for w, wc in clocked)
    ]


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
        new = _new_vclock(
            _encode_value(value), tuple(sorted([(n, c, t) for n, (c, t) in entries.items()])), value
        )
        # Keep the maximal versions of local ∪ {new}, as merge would: equal clocks mean one of
        # the two writes is silently lost (normally the older one); a local version that
        # strictly dominates a write from a stale context makes that write vanish.
        return self._maximal([new, *versions]), new.clock()

    def merge(self, a: Siblings, b: Siblings) -> Siblings:
        union, whole = _union(a, b, VclockVersion, self.name)
        if whole is not None and whole._maximal:
            return whole
        return _merged(union, _vclock_maximal(union), whole)

    @staticmethod
    def _maximal(versions: list[VclockVersion]) -> Siblings:
        return Siblings(tuple(_vclock_maximal(versions)))

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
        theirs = _typed(b, VclockVersion, self.name)
        if a is b or mine == theirs:
            return True  # every version equals itself
        return all(any(v == w or _vclock_below(v, w) for w in mine) for v in theirs)

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


_VERSIONINGS: dict[str, Versioning] = {"dvv": Dvv(), "vclock": Vclock(), "lww": Lww()}


def versioning(name: str) -> Versioning:
    """The versioning called ``name``; ``ValueError`` naming the accepted values otherwise."""
    try:
        return _VERSIONINGS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown versioning {name!r}; accepted values: {', '.join(VERSIONINGS)}"
        ) from None
