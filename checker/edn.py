"""A small, fast EDN reader: enough of Clojure's data notation for Jepsen histories.

No I/O: parses text already read. Values map to Python as: nil → None, true/false → bool,
integers (also ``12N``) → int, floats (also ``1.5M``) → float, strings → str, keywords →
str with their leading colon (``:invoke``), symbols → str, vectors and lists → tuple,
sets → frozenset, maps → dict, chars → one-character str. Tagged literals (``#inst "..."``,
``#jepsen.history.Op{...}``) read as their value; ``#_`` discards the next form. Commas are
whitespace and ``;`` starts a comment.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,]+|;[^\n]*)
    |(?P<str>"(?:[^"\\]|\\.)*")
    |(?P<open>\#\{|[\[({])
    |(?P<close>[\])}])
    |(?P<disc>\#_)
    |(?P<tag>\#[A-Za-z][^\s,\[\](){}"\\;]*)
    |(?P<char>\\(?:newline|space|tab|return|formfeed|backspace|u[0-9a-fA-F]{4}|.))
    |(?P<atom>[^\s,\[\](){}"\\;]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_INT = re.compile(r"[+-]?\d+N?")
_FLOAT = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}
_CLOSERS = {"[": "]", "(": ")", "{": "}", "#{": "}"}


class EdnError(ValueError):
    """Malformed EDN; ``offset`` is where in the text it was noticed."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _atom(text: str, offset: int) -> Any:
    first = text[0]
    if first == ":":
        return text
    if text.isdigit():
        return int(text)
    if text == "nil":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if first.isdigit() or (first in "+-" and len(text) > 1 and text[1].isdigit()):
        if _INT.fullmatch(text):
            return int(text.rstrip("N"))
        if _FLOAT.fullmatch(text):
            return float(text.rstrip("M"))
        if "/" in text:  # a ratio such as 1/3
            num, _, den = text.partition("/")
            try:
                return int(num) / int(den)
            except (ValueError, ZeroDivisionError):
                pass
        raise EdnError(f"malformed number {text!r}", offset)
    return text  # a symbol


def _string(token: str) -> str:
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 5 < len(body) + 1:
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _char(token: str) -> str:
    name = token[1:]
    if name in _CHARS:
        return _CHARS[name]
    if len(name) == 5 and name[0] == "u":
        return chr(int(name[1:], 16))
    return name


def _build(opener: str, items: list[Any], offset: int) -> Any:
    if opener in "[(":
        return tuple(items)
    if opener == "#{":
        return frozenset(items)
    if len(items) % 2:
        raise EdnError("a map needs an even number of forms", offset)
    it = iter(items)
    return dict(zip(it, it, strict=True))


def iter_top_level(text: str) -> Iterator[tuple[Any, int]]:
    """Yield ``(form, offset)`` for each top-level form; a top-level vector or list is
    flattened, so a history written as ``[op op ...]`` and one written as a stream of op
    maps both yield one item per op, each with the offset where it starts."""
    # stack of (opener, items, start offset, item offsets or None)
    stack: list[tuple[str, list[Any], int, list[int] | None]] = []
    discard_depths: list[int] = []  # depth at which each pending #_ waits for a form
    form_start: int | None = None
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "ws" or kind == "tag":  # a tagged literal reads as its value
            continue
        token = match.group()
        offset = match.start()
        if kind == "open":
            if form_start is None:
                form_start = offset
            flatten = not stack and token in "[(" and not discard_depths
            stack.append((token, [], offset, [] if flatten else None))
            if flatten:
                form_start = None
            continue
        if kind == "disc":
            discard_depths.append(len(stack))
            continue
        if kind == "close":
            if not stack:
                raise EdnError(f"unexpected {token!r}", offset)
            opener, items, start, item_offsets = stack.pop()
            if _CLOSERS[opener] != token:
                raise EdnError(f"{opener!r} closed by {token!r}", offset)
            if item_offsets is not None:  # the flattened top-level vector ends
                continue
            value: Any = _build(opener, items, start)
        elif kind == "str":
            value = _string(token)
        elif kind == "char":
            value = _char(token)
        else:
            value = _atom(token, offset)
        if form_start is None:
            form_start = offset
        depth = len(stack)
        if discard_depths and discard_depths[-1] == depth:
            discard_depths.pop()
            if depth == 0 or stack[-1][3] is not None:
                form_start = None
            continue
        if depth == 0:
            yield value, form_start
            form_start = None
        else:
            top = stack[-1]
            if top[3] is not None:  # an element of the flattened top-level vector
                yield value, form_start
                form_start = None
            else:
                top[1].append(value)
    if stack:
        raise EdnError(f"unclosed {stack[-1][0]!r}", stack[-1][2])


# A flat map value: a string, a vector or set of atoms, or an atom. (The string's pattern is
# the unrolled loop: linear time on the long strings a kv read returns.)
_FLAT_VALUE = (
    r'"[^"\\]*(?:\\.[^"\\]*)*"|\[[^\[\]{}()"#;\\]*\]|\#\{[^\[\]{}()"#;\\]*\}|[^\s,{}\[\]()"#;\\]+'
)
_SEPARATOR = r"[\s,]"


def _flat_value(text: str) -> Any:
    first = text[0]
    if first == '"':
        return _string(text)
    if first == "[":
        return tuple(_atom(t, 0) for t in text[1:-1].replace(",", " ").split())
    if first == "#":
        return frozenset(_atom(t, 0) for t in text[2:-1].replace(",", " ").split())
    return _atom(text, 0)


def _shape(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A regex matching a one-line flat map with exactly these keys in this order."""
    body = f"{_SEPARATOR}*".join(re.escape(k) + f"{_SEPARATOR}+({_FLAT_VALUE})" for k in keys)
    return re.compile(r"\{" + _SEPARATOR + "*" + body + _SEPARATOR + r"*\}")


def iter_line_maps(text: str) -> list[tuple[dict[str, Any], int]] | None:
    """Fast path for the usual layout of a Jepsen history: one flat op map per line,
    optionally inside one vector that opens on the first line and closes on the last.

    Returns ``(map, line)`` pairs, or None when the text does not have that layout (the
    caller then uses `iter_top_level`). Each distinct key order gets one compiled regex,
    so most lines cost a single regex match."""
    reader = LineMapReader()
    out = reader.feed(text.split("\n"), 1)
    if out is None or not reader.finish():
        return None
    return out


class LineMapReader:
    """`iter_line_maps` over a text given in pieces of whole lines (a file read in chunks)."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, ...], re.Pattern[str]] = {}
        self._recent: list[tuple[tuple[str, ...], re.Pattern[str]]] = []
        self._in_vector = False
        self._closed = False
        self._seen_map = False

    def feed(self, lines: list[str], first_number: int) -> list[tuple[dict[str, Any], int]] | None:
        """The maps on these lines (the first is line ``first_number``), or None when the
        text does not have the one-map-per-line layout."""
        out: list[tuple[dict[str, Any], int]] = []
        shapes = self._shapes
        recent = self._recent
        for number, raw in enumerate(lines, first_number):
            line = raw.strip()
            if not line or line[0] == ";":
                continue
            if self._closed:
                return None
            if not self._seen_map and not self._in_vector and line[0] in "[(":
                self._in_vector = True
                line = line[1:].lstrip()
                if not line:
                    continue
            if (
                self._in_vector
                and line[-1] in "])"
                and line[-2:-1] != ""
                and line[:-1].rstrip()[-1:] == "}"
            ):
                line = line[:-1].rstrip()
                self._closed = True
            elif self._in_vector and line in ("]", ")"):
                self._closed = True
                continue
            if line[0] != "{" or line[-1] != "}":
                return None
            parsed: dict[str, Any] | None = None
            for keys, regex in recent:
                match = regex.fullmatch(line)
                if match is not None:
                    parsed = dict(zip(keys, map(_flat_value, match.groups()), strict=True))
                    break
            if parsed is None:
                try:
                    forms = list(iter_top_level(line))
                except EdnError:
                    return None
                if len(forms) != 1 or not isinstance(forms[0][0], dict):
                    return None
                parsed = forms[0][0]
                keys = tuple(parsed)
                if not all(isinstance(k, str) and k[:1] == ":" for k in keys):
                    return None
                if keys not in shapes:
                    shapes[keys] = _shape(keys)
                    if shapes[keys].fullmatch(line) is None:  # nested values: no fast path
                        return None
                recent.insert(0, (keys, shapes[keys]))
                del recent[4:]
            self._seen_map = True
            out.append((parsed, number))
        return out

    def finish(self) -> bool:
        """Did the text end in the layout (an opened vector closed)?"""
        return not (self._in_vector and not self._closed)


def parse(text: str) -> Any:
    """Parse exactly one EDN form (for option values such as ``--initial``)."""
    items = [value for value, _ in iter_top_level(f"[{text}\n]")]
    if len(items) != 1:
        raise EdnError(f"expected one value, found {len(items)}", 0)
    return items[0]


class LineIndex:
    """Maps character offsets to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect_right(self._starts, offset) + 1
