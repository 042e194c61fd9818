"""History readers: this project's JSON Lines, Jepsen's ``history.edn`` and Jepsen etcd logs.

The only I/O in the checker: `read_history` and `read_records` read one file. Everything else
here parses text. Formats:

- ``jsonl``: this project's history (docs/history.md), one JSON object per line;
- ``edn``: Jepsen's ``history.edn``, a vector or a stream of op maps, with Knossos's
  conventions (also Porcupine's ``kv`` test files, which are such a stream); keys come from
  ``:key``, or from ``[key value]`` values when the history uses jepsen.independent;
- ``jepsen-log``: Jepsen log lines ``INFO  jepsen.util - PROCESS TYPE F VALUE`` as in
  Porcupine's etcd test files, read with Porcupine's conventions (see `checker.pairing`).

``auto`` picks one from the file name and its first lines. Malformed input raises
`HistoryError` naming the file and line.
"""

from __future__ import annotations

import json
import os
from typing import Any

from checker import edn
from checker.ops import CLIENT_FUNCTIONS, HistoryError, Op
from checker.pairing import Pairer

FORMATS = ("auto", "jsonl", "edn", "jepsen-log")
_JEPSEN_LOG_MARK = "jepsen.util - "
_COMPLETIONS = ("ok", "fail", "info")


def read_text(path: str) -> str:
    """The file's text; an unreadable file raises `HistoryError`."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise HistoryError(path, None, "no such file") from None
    except IsADirectoryError:
        raise HistoryError(path, None, "is a directory, not a history file") from None
    except UnicodeDecodeError as err:
        raise HistoryError(path, None, f"not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise HistoryError(path, None, err.strerror or str(err)) from None


def detect_format(path: str, text: str) -> str:
    """Guess the format from the extension, then from the content."""
    extension = os.path.splitext(path)[1].lower()
    if extension in (".jsonl", ".json"):
        return "jsonl"
    if extension == ".edn":
        return "edn"
    for line in text[:65536].splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(('{"', '{ "')):
            return "jsonl"
        if stripped[0] in "{[(;#":
            return "edn"
        break
    # Anything else is log output: Jepsen's op lines may come after pages of other logging.
    return "jepsen-log" if (_JEPSEN_LOG_MARK in text or extension == ".log") else "edn"


def read_history(path: str, fmt: str = "auto") -> list[Op]:
    """Read a history file as paired client operations (see `checker.ops.Op`)."""
    return parse_history(read_text(path), path, fmt)


def read_history_streaming(path: str, fmt: str = "auto") -> tuple[list[Op], str]:
    """Read a history file as paired client operations, and the format it was read as."""
    text = read_text(path)
    chosen = detect_format(path, text) if fmt == "auto" else fmt
    return parse_history(text, path, chosen), chosen


def parse_history(text: str, path: str, fmt: str = "auto") -> list[Op]:
    """Parse history text; ``path`` is only used in messages and to guess the format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path, text)
    if fmt == "jsonl":
        records, lines = _jsonl_records(text, path)
        return ops_from_records(records, path, lines)
    if fmt == "edn":
        return _edn_ops(text, path)
    return _jepsen_log_ops(text, path)


# --- this project's JSON Lines -------------------------------------------------------------


def read_records(path: str) -> list[dict[str, Any]]:
    """Read this project's history file as its raw records (dicts), for the Dynamo checks."""
    return _jsonl_records(read_text(path), path)[0]


def parse_records(text: str, path: str = "<history>") -> list[dict[str, Any]]:
    """Parse JSON Lines history text into records."""
    return _jsonl_records(text, path)[0]


def _jsonl_records(text: str, path: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The records and the line number of each."""
    lines = text.split("\n")
    numbers = [number for number, line in enumerate(lines, 1) if line and not line.isspace()]
    if len(numbers) != len(lines):
        lines = [lines[number - 1] for number in numbers]
    try:
        # One call into the C decoder for the whole file; per line only to find an error.
        records = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        records = None
    if records is None or len(records) != len(lines):
        records = []
        for number, line in zip(numbers, lines, strict=True):
            try:
                records.append(json.loads(line))
            except ValueError as err:
                raise HistoryError(path, number, f"not valid JSON: {err}") from None
    if not all(type(record) is dict for record in records):
        for number, record in zip(numbers, records, strict=True):
            if not isinstance(record, dict):
                raise HistoryError(path, number, "each line must be a JSON object")
    return records, numbers


def ops_from_records(
    records: list[dict[str, Any]], path: str = "<history>", lines: list[int] | None = None
) -> list[Op]:
    """Pair this project's records into client operations (``lines``: each record's line
    number for messages; by default its position from 1).

    Nemesis records and replica dumps are not client operations and are skipped."""
    pairer = Pairer(path, "zynamo")
    invoke = pairer.invoke
    complete = pairer.complete
    for position, record in enumerate(records):
        f = record.get("f")
        if f not in CLIENT_FUNCTIONS:
            continue
        process = record.get("process")
        if process == "nemesis":
            continue
        number = position + 1 if lines is None else lines[position]
        kind = record.get("type")
        if kind == "invoke":
            invoke(process, f, record.get("key"), record.get("value"), number)
        elif kind in _COMPLETIONS:
            complete(process, kind, f, record.get("value"), number)
        else:
            raise HistoryError(path, number, f"type must be invoke, ok, fail or info, not {kind!r}")
    return pairer.ops()


# --- Jepsen history.edn --------------------------------------------------------------------


def _edn_ops(text: str, path: str) -> list[Op]:
    items = edn.iter_line_maps(text)
    if items is None:
        lines = edn.LineIndex(text)
        try:
            items = [(form, lines.line(offset)) for form, offset in edn.iter_top_level(text)]
        except edn.EdnError as err:
            raise HistoryError(path, lines.line(err.offset), f"malformed EDN: {err}") from None
    client: list[tuple[dict[str, Any], int, str, str]] = []
    for form, number in items:
        if not isinstance(form, dict):
            raise HistoryError(path, number, f"expected an op map, found {form!r}")
        process = form.get(":process")
        if not isinstance(process, int) or isinstance(process, bool):
            continue  # the nemesis and other non-client processes
        kind = form.get(":type")
        f = form.get(":f")
        if not isinstance(kind, str) or not isinstance(f, str):
            raise HistoryError(path, number, "an op map needs :type and :f")
        client.append((form, number, kind.lstrip(":"), f.lstrip(":")))
    independent = _is_independent(client)
    pairer = Pairer(path, "knossos")
    for form, number, kind, f in client:
        process = form[":process"]
        value = form.get(":value")
        key = form.get(":key")
        if independent and isinstance(value, tuple) and len(value) == 2:
            key, value = value  # jepsen.independent: [key value]
        if kind == "invoke":
            pairer.invoke(process, f, key, value, number)
        elif kind in _COMPLETIONS:
            pairer.complete(process, kind, f, value, number)
        else:
            raise HistoryError(
                path, number, f":type must be :invoke, :ok, :fail or :info, not :{kind}"
            )
    return pairer.ops()


def _is_independent(client: list[tuple[dict[str, Any], int, str, str]]) -> bool:
    """Does the history use jepsen.independent, every value a ``[key value]`` tuple?

    Told apart from a plain register by its invocations: a plain read is invoked with nil
    (or a bare value), an independent one with ``[key nil]``; a plain cas ``[from to]`` has
    a bare ``from``, an independent one ``[key [from to]]``."""
    saw_read_or_write = False
    for form, _, kind, f in client:
        if ":key" in form:
            return False
        if kind != "invoke":
            continue
        value = form.get(":value")
        if not (isinstance(value, tuple) and len(value) == 2):
            return False
        if f == "cas" and not (isinstance(value[1], tuple) and len(value[1]) == 2):
            return False
        if f in ("read", "write"):
            saw_read_or_write = True
    return saw_read_or_write


# --- Jepsen log lines (Porcupine's etcd files) ---------------------------------------------


def _first_form(text: str) -> str:
    """The value's text; what follows it (annotations such as ``:hint 3``) is ignored."""
    text = text.strip()
    if text[:1] in "[(":
        end = text.find("]" if text[0] == "[" else ")")
        return text if end < 0 else text[: end + 1]
    if text[:1] == '"':
        end = text.find('"', 1)
        while end > 0 and text[end - 1] == "\\":
            end = text.find('"', end + 1)
        return text if end < 0 else text[: end + 1]
    return text.split(None, 1)[0] if text else text


def _log_value(text: str, path: str, number: int) -> Any:
    if text.isdigit():
        return int(text)
    if text == "nil":
        return None
    if text[:1] == ":" and " " not in text:
        return text  # a keyword such as :timed-out
    if text[:1] == "[" and text[-1:] == "]":
        items = text[1:-1].split()
        if all(item.isdigit() for item in items):
            return tuple(int(item) for item in items)
    try:
        return edn.parse(text)
    except edn.EdnError as err:
        raise HistoryError(path, number, f"malformed value {text!r}: {err}") from None


def _jepsen_log_ops(text: str, path: str) -> list[Op]:
    pairer = Pairer(path, "porcupine")
    mark = _JEPSEN_LOG_MARK
    width = len(mark)
    for number, line in enumerate(text.split("\n"), 1):
        at = line.find(mark)
        if at < 0:
            continue  # other log output
        fields = line[at + width :].split(None, 3)
        if len(fields) < 3:
            raise HistoryError(
                path, number, "expected PROCESS TYPE F [VALUE] after 'jepsen.util -'"
            )
        process_text, kind, f = fields[0], fields[1], fields[2]
        if not process_text.lstrip("-").isdigit():
            continue  # :nemesis and other non-client processes
        if kind[:1] != ":" or f[:1] != ":":
            raise HistoryError(path, number, f"expected :type and :f keywords, got {kind} {f}")
        kind = kind[1:]
        f = f[1:]
        value = _log_value(_first_form(fields[3]), path, number) if len(fields) == 4 else None
        process = int(process_text)
        if kind == "invoke":
            pairer.invoke(process, f, None, value, number)
        elif kind in _COMPLETIONS:
            pairer.complete(process, kind, f, value, number)
        else:
            raise HistoryError(path, number, f"unknown op type :{kind}")
    return pairer.ops()
