"""The causal context a get returns and a put hands back (DeCandia et al. 2007, §4.1 and §4.4).

A ``Context`` is a version vector (``{node: counter}``), plus for ``vclock`` the timestamp of each
entry, which the paper's clock truncation needs (§4.4); it is empty for ``lww``. Clients see it
only as an opaque URL-safe string: ``encode`` writes base64url of the canonical JSON
``{node: counter or [counter, timestamp_ms]}`` (no padding), ``decode`` reads it back and names
what is wrong with anything else. That text is the wire format a client stores between a get and
its put, so it must not change. Contexts are built on every get and decoded on every put, so
the common shapes (sorted counters, no timestamps) take fast paths that skip re-validation.
Pure values: no I/O.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import ClassVar

from cluster.core.versions.encoding import (
    _decode_value,
    _is_count,
    _is_name,
    _is_sorted_count_map,
    _new_instance,
)

_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # base64url's alphabet to base64's
_STANDARD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


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
            body = _decode_value(raw.decode("utf-8"))
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
