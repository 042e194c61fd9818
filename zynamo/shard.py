"""``--shard I/N``: one CI job's part of a test-all matrix or of a seed range.

Items are dealt round-robin: shard I of N takes positions I-1, I-1+N, I-1+2N, ... of the
ordered list, so the N shards are disjoint, cover everything, differ in size by at most one and
do not depend on anything but I, N and the list (every job computes the same split). No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as CI matrices count
    count: int

    def select(self, items: Sequence[Item]) -> list[Item]:
        return list(items[self.index - 1 :: self.count])

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` with 1 <= I <= N; ``ValueError`` naming the option and the form otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard: expected I/N with 1 <= I <= N (e.g. 2/4), got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))
