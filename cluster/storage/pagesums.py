"""Page checksums of a SQLite database file, kept beside it, so a damaged file is noticed.

SQLite checksums its write-ahead log's frames but not the database file's pages: a flipped bit
in a row's text is read back as a different value, and a truncated file is only found when a
query reaches the missing page. In WAL mode the database file changes only when a checkpoint
copies the log into it, and ``SqliteStore`` runs every checkpoint itself, so after each it
records here the CRC-32 of every page (``<db>.pagesums``, JSON, replaced atomically, fsynced
unless the store runs with ``sync=off``). On open, ``verify`` compares the file with the record:
any page that changed, or a file shorter or longer than recorded, is corruption
(``CorruptStoreError``, whose message is the one line a node logs when it refuses to start).

A record marked ``checkpointing`` was left by a process that died during a checkpoint: the file
may legitimately be half-copied (the log still holds everything), so it is not judged; the
store checkpoints again at once. No record (a database from before this, or a new one) is not
judged either. The database's own format is unchanged: this is an extra file. Does file I/O.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

SUFFIX = ".pagesums"
CLEAN = "clean"
CHECKPOINTING = "checkpointing"


# The one line a node logs when it will not start on a damaged store (both environments).
REFUSAL = "refusing to start: the database is damaged:"


class CorruptStoreError(RuntimeError):
    """The database file is not what the last checkpoint left; the message says how."""


def sums_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + SUFFIX)


def page_sums(db_path: Path, page_size: int) -> list[int]:
    """The CRC-32 of each page of the file (a short last page counts as a page)."""
    sums: list[int] = []
    with open(db_path, "rb") as f:
        while page := f.read(page_size):
            sums.append(zlib.crc32(page))
    return sums


def _write(db_path: Path, record: dict[str, object], durable: bool) -> None:
    path = sums_path(db_path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(record, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    tmp.replace(path)


def mark_checkpointing(db_path: Path, durable: bool) -> None:
    """Before a checkpoint writes the file: its pages may change until ``record`` runs."""
    _write(db_path, {"state": CHECKPOINTING}, durable)


def record(db_path: Path, page_size: int, durable: bool) -> None:
    """After a checkpoint: the file's pages as they are now."""
    sums = page_sums(db_path, page_size) if db_path.exists() else []
    _write(db_path, {"state": CLEAN, "page_size": page_size, "pages": sums}, durable)


def verify(db_path: Path) -> bool:
    """Raise ``CorruptStoreError`` if the file differs from the last record; True if it was
    checked, False if there was nothing to check it against (no record, or an interrupted
    checkpoint's)."""
    path = sums_path(db_path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as err:
        raise CorruptStoreError(f"{path}: the page checksums cannot be read: {err}") from None
    if data.get("state") != CLEAN:
        return False
    page_size = int(data["page_size"])
    expected: list[int] = [int(s) for s in data["pages"]]
    size = db_path.stat().st_size if db_path.exists() else 0
    recorded = page_size * len(expected)
    if size != recorded and not (expected and recorded - page_size < size < recorded):
        raise CorruptStoreError(
            f"{db_path}: the file is {size} bytes but the last checkpoint left"
            f" {len(expected)} pages of {page_size} bytes (truncated or extended)"
        )
    actual = page_sums(db_path, page_size) if size else []
    bad = [i + 1 for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e]
    if bad or len(actual) != len(expected):
        shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        raise CorruptStoreError(
            f"{db_path}: page {shown} of {len(expected)} fails its checksum"
            " (changed since the last checkpoint)"
        )
    return True
