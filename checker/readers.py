"""History readers: this project's JSON Lines, Jepsen's ``history.edn`` and Jepsen etcd logs.

The only I/O in the checker: `read_history`, `read_history_streaming` and `read_records` read
one file (the first two in chunks of lines, pairing as they go, so that memory holds the
operations, not the text). Everything else here parses text. Formats:

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
from collections.abc import Iterator
from typing import Any, TextIO

from checker import edn
from checker.ops import CLIENT_FUNCTIONS, HistoryError, Op
from checker.pairing import Pairer

FORMATS = ("auto", "jsonl", "edn", "jepsen-log")
_CHUNK_BYTES = 1 << 21  # what the streaming readers hold of the text at a time
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
    found = _format_from_head(path, text[:65536])
    if found is not None:
        return found
    # Anything else is log output: Jepsen's op lines may come after pages of other logging.
    return "jepsen-log" if (_JEPSEN_LOG_MARK in text or _is_log(path)) else "edn"


def _is_log(path: str) -> bool:
    return os.path.splitext(path)[1].lower() == ".log"


def _format_from_head(path: str, head: str) -> str | None:
    """The format the extension or the first line names; None: log lines or EDN, depending
    on whether Jepsen's op lines appear anywhere."""
    extension = os.path.splitext(path)[1].lower()
    if extension in (".jsonl", ".json"):
        return "jsonl"
    if extension == ".edn":
        return "edn"
    for line in head.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(('{"', '{ "')):
            return "jsonl"
        if stripped[0] in "{[(;#":
            return "edn"
        break
    return None


def read_history(path: str, fmt: str = "auto") -> list[Op]:
    """Read a history file as paired client operations (see `checker.ops.Op`)."""
    return read_history_streaming(path, fmt)[0]


def read_history_streaming(path: str, fmt: str = "auto") -> tuple[list[Op], str]:
    """Read a history file as paired client operations, and the format it was read as.

    The file is read in chunks of lines, each paired and then dropped, so that memory holds
    the operations and one chunk, not the text and its records (except for EDN that is not
    one op map per line, which is parsed whole)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        with open(path, encoding="utf-8") as handle:
            if fmt == "auto":
                fmt = _format_from_head(path, handle.read(65536)) or _log_or_edn(path, handle)
                handle.seek(0)
            if fmt == "jsonl":
                return _stream_jsonl(handle, path), fmt
            if fmt == "jepsen-log":
                return _stream_jepsen_log(handle, path), fmt
            ops = _stream_edn(handle, path)
    except FileNotFoundError:
        raise HistoryError(path, None, "no such file") from None
    except IsADirectoryError:
        raise HistoryError(path, None, "is a directory, not a history file") from None
    except UnicodeDecodeError as err:
        raise HistoryError(path, None, f"not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise HistoryError(path, None, err.strerror or str(err)) from None
    if ops is None:  # EDN in another layout: parsed whole
        ops = _edn_ops(read_text(path), path)
    return ops, fmt


def _log_or_edn(path: str, handle: TextIO) -> str:
    handle.seek(0)
    if _is_log(path):
        return "jepsen-log"
    tail = ""
    while chunk := handle.read(1 << 20):
        if _JEPSEN_LOG_MARK in tail + chunk:
            return "jepsen-log"
        tail = chunk[-len(_JEPSEN_LOG_MARK) :]
    return "edn"


def _line_chunks(handle: TextIO) -> Iterator[tuple[list[str], int]]:
    """The file's lines, ``_CHUNK_LINES`` at a time, each chunk with its first line number."""
    number = 1
    while True:
        lines = handle.readlines(_CHUNK_BYTES)
        if not lines:
            return
        yield [line.rstrip("\r\n") for line in lines], number
        number += len(lines)


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
    return _jsonl_lines(text.split("\n"), 1, path)


def _jsonl_lines(
    lines: list[str], first_number: int, path: str
) -> tuple[list[dict[str, Any]], list[int]]:
    """The records on these lines (the first is line ``first_number``), with their lines."""
    numbers = [
        number for number, line in enumerate(lines, first_number) if line and not line.isspace()
    ]
    if len(numbers) != len(lines):
        lines = [lines[number - first_number] for number in numbers]
    try:
        # One call into the C decoder for all the lines; per line only to find an error.
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


def _stream_jsonl(handle: TextIO, path: str) -> list[Op]:
    pairer = Pairer(path, "zynamo")
    ledger = IndexLedger(path)
    for lines, first_number in _line_chunks(handle):
        records, numbers = _jsonl_lines(lines, first_number, path)
        _pair_records(pairer, records, path, numbers, ledger)
    return pairer.ops()


def ops_from_records(
    records: list[dict[str, Any]], path: str = "<history>", lines: list[int] | None = None
) -> list[Op]:
    """Pair this project's records into client operations (``lines``: each record's line
    number for messages; by default its position from 1).

    Nemesis records and replica dumps are not client operations and are skipped."""
    pairer = Pairer(path, "zynamo")
    _pair_records(pairer, records, path, lines)
    return pairer.ops()


def _pair_records(
    pairer: Pairer,
    records: list[dict[str, Any]],
    path: str,
    lines: list[int] | None,
    ledger: IndexLedger | None = None,
) -> None:
    """Pair the client records. With a ``ledger`` (a file given to ``zynamo check``) a record
    is refused, naming its line, for a repeated index, a missing process or an f no client
    has; without one (the harness's own records) records that are not client ones are skipped."""
    invoke = pairer.invoke
    complete = pairer.complete
    for position, record in enumerate(records):
        f = record.get("f")
        process = record.get("process")
        if ledger is not None and "index" in record:
            ledger.see(record["index"], position + 1 if lines is None else lines[position])
        if process == "nemesis" or process == "final":
            continue
        if f not in CLIENT_FUNCTIONS:
            if ledger is None:
                continue
            number = position + 1 if lines is None else lines[position]
            if process is None:
                raise HistoryError(path, number, "a record needs process (a client number)")
            accepted = ", ".join(sorted(CLIENT_FUNCTIONS))
            raise HistoryError(path, number, f"unknown f {f!r}; a client's f is one of {accepted}")
        number = position + 1 if lines is None else lines[position]
        if process is None and ledger is not None:
            raise HistoryError(path, number, "a record needs process (a client number)")
        kind = record.get("type")
        if kind == "invoke":
            invoke(process, f, record.get("key"), record.get("value"), number)
        elif kind in _COMPLETIONS:
            complete(process, kind, f, record.get("value"), number)
        else:
            raise HistoryError(path, number, f"type must be invoke, ok, fail or info, not {kind!r}")


class IndexLedger:
    """The ``index`` of every record seen so far: two records with one index are refused,
    naming the line (a history joined from two files, or cut and pasted)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lines: dict[Any, int] = {}

    def see(self, index: Any, number: int) -> None:
        key = index if isinstance(index, int | str) else repr(index)
        first = self._lines.setdefault(key, number)
        if first != number:
            raise HistoryError(self._path, number, f"index {index!r} again (first on line {first})")


# --- Jepsen history.edn --------------------------------------------------------------------


def _edn_ops(text: str, path: str) -> list[Op]:
    items = edn.iter_line_maps(text)
    if items is None:
        lines = edn.LineIndex(text)
        try:
            items = [(form, lines.line(offset)) for form, offset in edn.iter_top_level(text)]
        except edn.EdnError as err:
            raise HistoryError(path, lines.line(err.offset), f"malformed EDN: {err}") from None
    pairing = _EdnPairing(path)
    pairing.add(items)
    return pairing.ops()


def _stream_edn(handle: TextIO, path: str) -> list[Op] | None:
    """The ops of an EDN history of one op map per line, read in chunks; None for another
    layout (the caller parses it whole)."""
    reader = edn.LineMapReader()
    pairing = _EdnPairing(path)
    for lines, first_number in _line_chunks(handle):
        items = reader.feed(lines, first_number)
        if items is None:
            return None
        pairing.add(items)
    if not reader.finish():
        return None
    return pairing.ops()


class _EdnPairing:
    """Pairs EDN op maps, given in file order, into ops with Knossos's conventions.

    Whether the history uses jepsen.independent (every value a ``[key value]`` tuple) is told
    apart from a plain register by its invocations: a plain read is invoked with nil (or a
    bare value), an independent one with ``[key nil]``; a plain cas ``[from to]`` has a bare
    ``from``, an independent one ``[key [from to]]``. Until the answer is known (usually at
    the first map) the maps wait in a buffer."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._pairer = Pairer(path, "knossos")
        self._independent: bool | None = None
        self._saw_read_or_write = False
        self._waiting: list[tuple[dict[str, Any], int, str, str]] = []
        self._indices = IndexLedger(path)

    def add(self, items: list[tuple[Any, int]]) -> None:
        path = self._path
        for form, number in items:
            if not isinstance(form, dict):
                raise HistoryError(path, number, f"expected an op map, found {form!r}")
            if ":process" not in form:
                raise HistoryError(path, number, "an op map needs :process (a client number)")
            if ":index" in form:
                self._indices.see(form[":index"], number)
            process = form.get(":process")
            if not isinstance(process, int) or isinstance(process, bool):
                continue  # the nemesis and other non-client processes
            kind = form.get(":type")
            f = form.get(":f")
            if not isinstance(kind, str) or not isinstance(f, str):
                raise HistoryError(path, number, "an op map needs :type and :f")
            client = (form, number, kind.lstrip(":"), f.lstrip(":"))
            if self._independent is None:
                self._waiting.append(client)
                if self._rules_out_independent(*client):
                    self._decide(False)
            else:
                self._pair(*client)

    def ops(self) -> list[Op]:
        if self._independent is None:
            self._decide(self._saw_read_or_write)
        return self._pairer.ops()

    def _rules_out_independent(self, form: dict[str, Any], _: int, kind: str, f: str) -> bool:
        if ":key" in form:
            return True
        if kind != "invoke":
            return False
        value = form.get(":value")
        if not (isinstance(value, tuple) and len(value) == 2):
            return True
        if f == "cas" and not (isinstance(value[1], tuple) and len(value[1]) == 2):
            return True
        if f in ("read", "write"):
            self._saw_read_or_write = True
        return False

    def _decide(self, independent: bool) -> None:
        self._independent = independent
        waiting, self._waiting = self._waiting, []
        for client in waiting:
            self._pair(*client)

    def _pair(self, form: dict[str, Any], number: int, kind: str, f: str) -> None:
        process = form[":process"]
        value = form.get(":value")
        key = form.get(":key")
        if self._independent and isinstance(value, tuple) and len(value) == 2:
            key, value = value  # jepsen.independent: [key value]
        if kind == "invoke":
            self._pairer.invoke(process, f, key, value, number)
        elif kind in _COMPLETIONS:
            self._pairer.complete(process, kind, f, value, number)
        else:
            raise HistoryError(
                self._path, number, f":type must be :invoke, :ok, :fail or :info, not :{kind}"
            )


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
    _pair_log_lines(pairer, text.split("\n"), 1, path)
    return pairer.ops()


def _stream_jepsen_log(handle: TextIO, path: str) -> list[Op]:
    pairer = Pairer(path, "porcupine")
    for lines, first_number in _line_chunks(handle):
        _pair_log_lines(pairer, lines, first_number, path)
    return pairer.ops()


def _pair_log_lines(pairer: Pairer, lines: list[str], first_number: int, path: str) -> None:
    mark = _JEPSEN_LOG_MARK
    width = len(mark)
    for number, line in enumerate(lines, first_number):
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
