"""A node's replica data: the store plus the indexes every write keeps current (Merkle trees,
tombstones, hints by owner), the actor names that change when the node forgets states, and the
states peers send as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.core.codec import RawJson
from cluster.core.replica import ReplicaData, decode_state, raw_digest, state_digest, state_text
from cluster.core.ring import Ring
from cluster.core.versions import VERSIONINGS, Siblings, versioning
from cluster.storage import MemoryStore, SqliteStore, Store, encode_state

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
        store.put_text("a", encode_state([1]))
        store.put_text("b", encode_state([2]))
    with pytest.raises(RuntimeError), store.transaction():
        store.put_text("c", encode_state([3]))
        raise RuntimeError("abandon")
    store.close()
    reopened = SqliteStore(tmp_path / "db")
    assert dict(reopened.items()) == {"a": [1], "b": [2]}
    reopened.close()


json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@given(
    values=st.lists(json_values, min_size=1, max_size=4),
    actors=st.lists(st.sampled_from(["a", "b", "é", "节点"]), min_size=4, max_size=4),
    kind=st.sampled_from(VERSIONINGS),
)
def test_the_stored_text_of_a_state_is_its_canonical_json(
    values: list[object], actors: list[str], kind: str
) -> None:
    """``state_text`` splices the versions' own texts; it must be exactly what encoding the
    state's JSON form gives (the digests every node compares depend on it), and survive a
    round trip through the store's JSON."""
    scheme = versioning(kind)
    state = Siblings.EMPTY
    for i, value in enumerate(values):
        # Concurrent writes (no context) by several actors: siblings, non-ASCII names.
        written, _ = scheme.update(
            Siblings.EMPTY, scheme.context(Siblings.EMPTY), value, actors[i], i
        )
        state = scheme.merge(state, written)
    text = state_text(state)
    assert text == encode_state(state.to_json())
    assert encode_state(json.loads(text)) == text
    assert state_digest(state) == raw_digest(state.to_json())


def test_reads_see_every_write_through_the_cache(store: Store) -> None:
    data = new(store)
    data.cache_keys = 4  # tiny, so entries come and go
    for round_ in range(3):
        for i in range(10):
            key = f"k{i}"
            data.merge(
                key, version(f"{round_}-{i}", actor=f"w{round_}", base=data.get(key)), None, 0
            )
    for i in range(10):
        assert data.get(f"k{i}").values == [f"2-{i}"]
        assert data.get(f"k{i}") == Siblings.from_json(store.get(f"k{i}"))
    digest = data.digest("k1")
    assert digest is not None
    data.delete_unchanged({"k1": digest})
    assert data.get("k1").is_empty and store.get("k1") is None
    assert data.get("never") is Siblings.EMPTY


def test_hint_reads_see_every_hint_write_and_deletion_through_the_cache(store: Store) -> None:
    data = new(store)
    data.cache_keys = 2  # tiny, so entries come and go
    for round_ in range(3):
        for owner in ("b", "c"):
            for i in range(3):
                key = f"k{i}"
                base = data.get(key, owner)
                data.merge(key, version(f"{round_}{owner}{i}", f"w{owner}", base), owner, 0)
    for owner in ("b", "c"):
        for i in range(3):
            assert data.get(f"k{i}", owner).values == [f"2{owner}{i}"]
            assert data.get(f"k{i}", owner) == Siblings.from_json(store.get_hint(owner, f"k{i}"))
    assert sorted(data.view("k1", "b").values) == ["2b1", "2c1"]
    handed = data.get("k1", "b")
    assert data.delete_unchanged({"k1": state_digest(handed)}, "b") == ["k1"]
    assert data.get("k1", "b").is_empty and store.get_hint("b", "k1") is None
    assert data.view("k1", "b").values == ["2c1"]
    tomb = version(None)
    data.put("k2", tomb, "c", 0)
    assert data.reap("k2", state_digest(tomb)) == 1
    assert data.get("k2", "c").is_empty and data.view("k2", "c").values == ["2b2"]


def test_the_indexes_follow_a_failed_batch(tmp_path: Path) -> None:
    """When a batch's commit fails, what it wrote is gone: rebuilding the indexes from the
    store (what the server does) forgets it in the cache and the Merkle trees too."""
    store = SqliteStore(tmp_path / "db")
    data = new(store)
    data.put("kept", version("v"), None, now_ms=0)
    store.begin_batch()
    data.put("first", version("u"), None, now_ms=0)  # a batch's first write commits alone
    data.put("lost", version("w"), None, now_ms=0)
    assert data.get("lost").values == ["w"]
    store._db.execute("ROLLBACK")  # what a failed commit leaves behind
    store.commit_batch()
    data.load(now_ms=0)
    assert data.get("lost").is_empty and data.digest("lost") is None
    assert data.get("kept").values == ["v"] and data.get("first").values == ["u"]
    store.close()


def test_a_state_sent_as_text_is_decoded_once_and_a_bad_one_is_refused() -> None:
    state = version(["apple"], base=version(["pear"]))
    text = RawJson(state_text(state).encode())
    first = decode_state(text)
    assert first == state
    assert decode_state(RawJson(state_text(state).encode())) is first  # the same text: memo
    for bad in (b'[{"value": 1}]', b"[1,", b"null", b'{"value": 1}'):
        with pytest.raises(ValueError):
            decode_state(RawJson(bad))
