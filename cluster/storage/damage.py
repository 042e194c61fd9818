"""Damage to a stopped node's database file, as a disk might do it: one flipped bit, or the file
cut short. What a storage nemesis applies; ``SqliteStore`` must notice it on open
(``cluster.storage.pagesums``). Randomness from the ``random.Random`` given. Does file I/O.
"""

from __future__ import annotations

import random
from pathlib import Path

DAMAGE_MODES = ("bitflip", "truncate")


def damage_file(path: Path, mode: str, rng: random.Random) -> dict[str, object]:
    """Flip one random bit of ``path`` (``bitflip``) or truncate it to a random shorter length
    (``truncate``); returns what was done. ``ValueError`` for another mode or an empty file."""
    if mode not in DAMAGE_MODES:
        raise ValueError(f"damage mode {mode!r}: accepted: {', '.join(DAMAGE_MODES)}")
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise ValueError(f"{path}: nothing to damage (the file is empty or missing)")
    with open(path, "r+b") as f:
        if mode == "truncate":
            length = rng.randrange(size)
            f.truncate(length)
            return {"file": str(path), "mode": mode, "size_before": size, "size_after": length}
        offset, bit = rng.randrange(size), rng.randrange(8)
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ (1 << bit)]))
        return {"file": str(path), "mode": mode, "offset": offset, "bit": bit}
