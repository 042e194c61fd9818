"""A node's replica data: the store plus the indexes every write keeps current (Merkle trees,
tombstones, hints by owner), and the actor names that change when the node forgets states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.replica import ReplicaData, state_digest
from cluster.ring import Ring
from cluster.storage import MemoryStore, SqliteStore, Store
from cluster.versions import Siblings, versioning

DVV = versioning("dvv")
RING = Ring.build(["a", "b", "c"], 16)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "db")
    yield made
    made.close()


def new(store: Store) -> ReplicaData:
    data = ReplicaData(store, DVV, RING.partition_of, "a")
    data.load(now_ms=0)
    return data


def version(value: object, actor: str = "a", base: Siblings = Siblings.EMPTY) -> Siblings:
    """A write of ``value`` by a client that read ``base``."""
    return DVV.update(base, DVV.context(base), value, actor, 0)[0]


def test_writes_keep_the_merkle_index_and_tombstones_current(store: Store) -> None:
    data = new(store)
    data.put("k", version("v"), None, now_ms=5)
    assert data.digest("k") == state_digest(data.get("k"))
    assert data.forest.keys(RING.partition_of("k")) == ["k"]
    data.put("k", version(None, base=data.get("k")), None, now_ms=7)
    assert data.tombstones == {"k": 7} and data.get("k").is_tombstone
    data.put("k", version("again", base=data.get("k")), None, now_ms=9)
    assert data.tombstones == {}


def test_the_indexes_are_rebuilt_from_the_store(store: Store) -> None:
    data = new(store)
    for i in range(30):
        data.put(f"k{i}", version(i), None, now_ms=0)
    data.put("gone", version(None), None, now_ms=0)
    data.put("h", version("hinted"), "b", now_ms=0)
    again = new(store)
    assert [again.forest.root(p) for p in range(16)] == [data.forest.root(p) for p in range(16)]
    assert set(again.tombstones) == {"gone"}
    assert again.hint_keys == {"b": {"h"}}


def test_merge_writes_only_what_changes(store: Store) -> None:
    data = new(store)
    first = version("x")
    assert data.merge("k", first, None, 0) == (first, True)
    assert data.merge("k", first, None, 0) == (first, False)


def test_a_fallback_sees_every_copy_it_holds_for_a_key(store: Store) -> None:
    data = new(store)
    data.put("k", version("for b", actor="x"), "b", 0)
    data.put("k", version("for c", actor="y"), "c", 0)
    assert data.view("k", None).is_empty
    assert sorted(data.view("k", "c").values) == ["for b", "for c"]
    assert sorted(store.hints_for("k")) == sorted(
        [("b", data.get("k", "b").to_json()), ("c", data.get("k", "c").to_json())]
    )


def test_only_unchanged_copies_are_deleted_and_forgetting_renames_the_actor(store: Store) -> None:
    data = new(store)
    data.put("k1", version(1), None, 0)
    data.put("k2", version(2), None, 0)
    sent = {"k1": data.digest("k1") or b"", "k2": data.digest("k2") or b""}
    data.put("k2", version(3, base=data.get("k2")), None, 0)  # changed after it was sent
    assert data.actor(hinted=False) == "a"
    assert data.delete_unchanged(sent) == ["k1"]
    assert data.get("k1").is_empty and not data.get("k2").is_empty
    assert data.actor(hinted=False) == "a@1"
    hint_actor = data.actor(hinted=True)
    data.put("h", version("v"), "b", 0)
    assert data.delete_unchanged({"h": state_digest(data.get("h", "b"))}, "b") == ["h"]
    assert data.actor(hinted=True) != hint_actor and data.hint_keys == {}
    # The epochs are durable: a restarted node never reuses an actor it wrote with.
    assert new(store).actor(hinted=False) == "a@1"


def test_reaping_removes_every_copy_equal_to_the_tombstone(store: Store) -> None:
    data = new(store)
    tomb = version(None)
    data.put("k", tomb, None, 0)
    data.put("k", tomb, "b", 0)
    data.put("k", version("other", actor="z"), "c", 0)
    assert data.reap("k", state_digest(tomb)) == 2
    assert data.get("k").is_empty and data.hint_keys == {"c": {"k"}}


def test_a_transaction_commits_its_writes_together(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db")
    with store.transaction():
        store.put("a", [1])
        store.put("b", [2])
    with pytest.raises(RuntimeError), store.transaction():
        store.put("c", [3])
        raise RuntimeError("abandon")
    store.close()
    reopened = SqliteStore(tmp_path / "db")
    assert dict(reopened.items()) == {"a": [1], "b": [2]}
    reopened.close()
