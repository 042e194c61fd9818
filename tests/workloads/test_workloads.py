"""Workload pieces that need no cluster: keys, operation choice, sibling merging, recording."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workloads.base import KeyPool
from workloads.recorder import HistoryRecorder
from workloads.register import RegisterWorkload, resolve
from workloads.set import SetWorkload, union


@given(
    active=st.integers(1, 5),
    per_key=st.integers(1, 20),
    picks=st.integers(0, 300),
    seed=st.integers(0, 2**32),
)
def test_keys_retire_after_their_operations(
    active: int, per_key: int, picks: int, seed: int
) -> None:
    pool = KeyPool(active=active, ops_per_key=per_key)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for _ in range(picks):
        key = pool.choose(rng)
        counts[key] = counts.get(key, 0) + 1
    assert all(c <= per_key for c in counts.values())
    retired = [k for k, c in counts.items() if c == per_key]
    assert len(pool.used) == active + len(retired)
    assert len(set(pool.used)) == len(pool.used)


def test_key_pool_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="active"):
        KeyPool(active=0)
    with pytest.raises(ValueError, match="ops per key"):
        KeyPool(ops_per_key=0)


def test_set_adds_use_unique_elements_per_key() -> None:
    workload = SetWorkload(read_fraction=0.3)
    pool = KeyPool(active=2, ops_per_key=1000)
    rng = random.Random(3)
    added: dict[str, list[int]] = {}
    for _ in range(500):
        op = workload.next_op(rng, pool)
        assert op.f in ("add", "read")
        if op.f == "add":
            added.setdefault(op.key, []).append(op.value)
    for elements in added.values():
        assert len(elements) == len(set(elements))


def test_register_writes_unique_increasing_values() -> None:
    workload = RegisterWorkload()
    pool = KeyPool(active=1, ops_per_key=1000)
    rng = random.Random(5)
    writes = [
        op.value for op in (workload.next_op(rng, pool) for _ in range(200)) if op.f == "write"
    ]
    assert writes == sorted(set(writes))


def test_union_merges_sibling_carts_and_resolve_picks_the_latest_write() -> None:
    assert union([[1, 3], [2, 3], [4]]) == [1, 2, 3, 4]
    assert union([]) == []
    assert resolve([3, 7, 5]) == 7
    assert resolve([]) is None


def test_recorder_writes_each_line_as_it_happens(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    with HistoryRecorder(path) as recorder:
        recorder.record({"process": 0, "type": "invoke", "f": "add", "key": "k0", "value": 1})
        # Visible on disk before the recorder is closed: a crash leaves the history behind.
        lines = path.read_text().splitlines()
        assert len(lines) == 1
        recorder.record({"process": 0, "type": "ok", "f": "add", "key": "k0", "value": 1})
    ops = [json.loads(line) for line in path.read_text().splitlines()]
    assert [op["index"] for op in ops] == [0, 1]
    assert ops[0]["time"] <= ops[1]["time"]
    assert ops[1]["type"] == "ok"


def test_a_recorder_that_buffers_its_lines_has_written_them_all_once_closed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.jsonl"
    with HistoryRecorder(path, flush_each=False) as recorder:  # the simulator's
        for value in range(3):
            recorder.record(
                {"process": 0, "type": "invoke", "f": "add", "key": "k0", "value": value}
            )
        recorder.record({"process": 0, "type": "fail", "f": "add", "key": "k0", "error": "café"})
    ops = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [op["index"] for op in ops] == [0, 1, 2, 3] and ops == recorder.ops
    assert ops[3]["error"] == "café"  # written as UTF-8, read back as it was recorded
