"""Group commit: ``MemoryStore``'s batches (a crash keeps exactly what was committed) and
``GroupCommit``, the hold-until-commit rule both shells follow."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core import Reply, Send
from cluster.storage import GroupCommit, MemoryStore

KEYS = st.sampled_from(["a", "b", "c"])
VALUES = st.integers(0, 9).map(lambda v: f"[{v}]")
# One step of a node's life as its store sees it.
STEPS = st.one_of(
    st.tuples(st.just("put"), KEYS, VALUES),
    st.tuples(st.just("delete"), KEYS, st.just("")),
    st.tuples(st.just("hint"), KEYS, VALUES),
    st.tuples(st.just("unhint"), KEYS, st.just("")),
    st.tuples(st.just("meta"), KEYS, VALUES),
    st.tuples(st.just("begin"), st.just(""), st.just("")),
    st.tuples(st.just("commit"), st.just(""), st.just("")),
    st.tuples(st.just("crash"), st.just(""), st.just("")),
)


def contents(store: MemoryStore) -> tuple[Any, ...]:
    return (
        dict(store.items()),
        sorted(store.hints()),
        {name: store.get_meta(name) for name in ("a", "b", "c")},
    )


def write(store: MemoryStore, op: str, key: str, value: str) -> None:
    if op == "put":
        store.put_text(key, value)
    elif op == "delete":
        store.delete(key)
    elif op == "hint":
        store.put_hint_text("n2", key, value)
    elif op == "unhint":
        store.delete_hint("n2", key)
    elif op == "meta":
        store.set_meta(key, value)


@settings(max_examples=300)
@given(st.lists(STEPS, max_size=40), st.sampled_from(["off", "normal", "full"]))
def test_a_crash_keeps_exactly_what_was_committed(
    steps: list[tuple[str, str, str]], sync: str
) -> None:
    """Any interleaving of writes, batches and crashes: after each crash the store holds what
    was committed before it — every write outside a batch, every batch committed — and not one
    write of a batch still open."""
    store, committed = MemoryStore(sync, checkpoint_commits=3), MemoryStore("full")
    open_batch: list[tuple[str, str, str]] | None = None
    for op, key, value in steps:
        if op == "begin":
            if open_batch is None:
                store.begin_batch()
                open_batch = []
        elif op == "commit":
            if open_batch is not None:
                store.commit_batch()
                for write_step in open_batch:
                    write(committed, *write_step)
                open_batch = None
        elif op == "crash":
            store.lose_uncommitted()
            open_batch = None
            assert contents(store) == contents(committed)
        else:
            write(store, op, key, value)
            if open_batch is None:
                write(committed, op, key, value)
            else:
                open_batch.append((op, key, value))
    table = {"put": "data", "delete": "data", "hint": "hints", "unhint": "hints", "meta": "meta"}
    written = {(table[op], key) for op, key, _ in open_batch or ()}
    assert store.uncommitted_writes == len(written)
    store.lose_uncommitted()
    assert contents(store) == contents(committed)


@given(st.lists(STEPS, max_size=40))
def test_with_sync_full_a_power_loss_loses_no_more_than_a_crash(
    steps: list[tuple[str, str, str]],
) -> None:
    crashed, powered = MemoryStore("full"), MemoryStore("full")
    for store in (crashed, powered):
        batching = False
        for op, key, value in steps:
            if op == "begin" and not batching:
                store.begin_batch()
                batching = True
            elif op == "commit" and batching:
                store.commit_batch()
                batching = False
            elif op not in ("begin", "commit", "crash"):
                write(store, op, key, value)
    crashed.lose_uncommitted()
    assert powered.lose_unsynced() == (0, 0)
    assert contents(powered) == contents(crashed)


def test_a_batch_is_one_commit_and_a_checkpoint_syncs_none_of_an_open_batch() -> None:
    store = MemoryStore("off")
    store.put_text("a", "[1]")
    store.checkpoint()
    store.begin_batch()
    store.put_text("a", "[2]")
    store.put_text("b", "[3]")
    assert store.uncommitted_writes == 2
    store.checkpoint()  # the batch is not committed: a power loss must still lose it
    store.commit_batch()
    assert (store.get("a"), store.get("b")) == ([2], [3])
    assert store.lose_unsynced() == (1, 2)  # one commit (the batch), two keys rolled back
    assert (store.get("a"), store.get("b")) == ([1], None)


def test_a_batch_cannot_open_inside_another() -> None:
    store = MemoryStore()
    store.begin_batch()
    with pytest.raises(RuntimeError, match="inside a batch"):
        store.begin_batch()


class FailingCommit(MemoryStore):
    def commit_batch(self) -> None:
        self.lose_uncommitted()
        raise OSError("disk full")


def test_what_a_batch_sends_waits_for_its_commit() -> None:
    store = MemoryStore()
    group = GroupCommit(store)
    held = group.begin()
    store.put_text("k", "[1]")
    held += [Send("n2", "write k"), Reply(b"client", "ok")]
    assert group.seal() == []  # nothing leaves before the commit
    assert store.uncommitted_writes == 1
    assert group.commit() == [Send("n2", "write k"), Reply(b"client", "ok")]
    assert store.uncommitted_writes == 0 and store.get("k") == [1]


def test_a_failed_or_abandoned_commit_sends_nothing_it_held() -> None:
    store = FailingCommit()
    group = GroupCommit(store)
    group.begin().append(Reply(b"client", "ok"))
    assert group.seal() == []
    with pytest.raises(OSError):
        group.commit()
    assert group.abandon() == 0  # the failed commit dropped what it held
    group.begin().append(Reply(b"client", "ok"))
    store.put_text("k", "[1]")
    assert group.abandon() == 1  # the process died before the commit: the reply with it
    store.lose_uncommitted()
    assert store.get("k") is None
