"""One node's replica data: the store plus the in-memory indexes every write keeps current.

Every read and write of key states goes through ``ReplicaData`` so that, in one place:

- the **Merkle forest** (one tree per partition, ``cluster.core.merkle``) follows every change
  of the main table, so anti-entropy always compares current trees (rebuilt from the store
  on start);
- **tombstones** are tracked with the time this node first held them, for reaping after the
  grace period (a restarted node starts the grace period again: conservative);
- **hints** are indexed by owner, so handoff finds what it owes a node without a table scan;
- the **actors** that name this node's events in version clocks change whenever the node
  forgets states it created (see ``actor``);
- a bounded **cache** of main-table states, so the common request reads no row and decodes no
  JSON: every write of the main table goes through here and updates it; and one of hints, for
  the same reason (a fallback reads its hints on every request it serves for a down primary).

States also travel between nodes as their stored text (``state_text``); ``decode_state`` reads
one back, once per text.

It is the core's one door to storage: no other module of the core calls the ``Store``. It does
the node's storage I/O through the injected ``Store`` (SQLite or memory) and nothing else: no
network, no clock (times are passed in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import msgspec

from cluster.core.merkle import MerkleForest, Shape
from cluster.core.messages import StateText
from cluster.core.store import Store, encode_state
from cluster.core.versions import Siblings, Versioning

# Main-table states kept decoded in memory (a few MB at typical state sizes).
CACHE_KEYS = 8192


def state_text(state: Siblings) -> str:
    """The stored text of a state, ``encode_state(state.to_json())``: its canonical text,
    which it computes once (no encoding of the whole structure)."""
    return state.text()


def decode_state(text: StateText) -> Siblings:
    """The state a peer sent as its text (``state_text``); ``ValueError`` if it is not one.

    Remembered by text, for the process: a state's text comes back again and again (the
    replicas of a write receive the same one, their replies to reads return it, read repair
    sends it on), and the decoded state is an immutable value, so one decoding serves them
    all. (In the simulator every node is in one process and shares the memo; each real node
    has its own.)"""
    key = bytes(text)
    state = _DECODED_STATES.get(key)
    if state is None:
        try:
            data = _state_decoder.decode(key)
        except msgspec.DecodeError as err:
            raise ValueError(f"state: {err}") from None
        state = Siblings.from_json(data)
        _DECODED_STATES[key] = state
        if len(_DECODED_STATES) > DECODED_STATES:
            del _DECODED_STATES[next(iter(_DECODED_STATES))]  # the oldest
    return state


# States decoded from their text, by text, oldest first (a few MB at typical state sizes).
DECODED_STATES = 4096
_DECODED_STATES: dict[bytes, Siblings] = {}
_state_decoder = msgspec.json.Decoder()


def text_digest(encoded: str) -> bytes:
    """The digest of a state from its stored text (``encode_state``)."""
    return hashlib.blake2b(encoded.encode("utf-8"), digest_size=16).digest()


def raw_digest(raw: Any) -> bytes:
    """The digest of a state in its JSON-able form (``Siblings.to_json()``, as stored): what
    Merkle leaves, handoff and reaping compare. Equal states, equal digests, on every node."""
    return text_digest(encode_state(raw))


def state_digest(state: Siblings) -> bytes:
    return text_digest(state_text(state))


_MAIN_EPOCH = "actor_epoch_main"
_HINT_EPOCH = "actor_epoch_hint"


@dataclass
class ReplicaData:
    store: Store
    versions: Versioning
    partition_of: Callable[[str], int]
    node: str
    shape: Shape = field(default_factory=Shape)
    forest: MerkleForest = field(init=False)
    tombstones: dict[str, float] = field(init=False, default_factory=dict)
    hint_keys: dict[str, set[str]] = field(init=False, default_factory=dict)
    cache_keys: int = CACHE_KEYS
    _main_epoch: int = field(init=False, default=0)
    _hint_epoch: int = field(init=False, default=1)
    # key -> main state (EMPTY for a key known to be absent), oldest first.
    _cache: dict[str, Siblings] = field(init=False, default_factory=dict)
    # (owner, key) -> hinted state (EMPTY for none held), oldest first.
    _hint_cache: dict[tuple[str, str], Siblings] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.forest = MerkleForest(self.shape)
        self._main_epoch = int(self.store.get_meta(_MAIN_EPOCH) or 0)
        self._hint_epoch = int(self.store.get_meta(_HINT_EPOCH) or 1)

    def load(self, now_ms: float) -> None:
        """Rebuild the indexes from the store (on start, or after a failed commit)."""
        self.forest = MerkleForest(self.shape)
        self.tombstones.clear()
        self.hint_keys.clear()
        self._cache.clear()
        self._hint_cache.clear()
        for key, raw in self.store.items():
            self.forest.set(self.partition_of(key), key, raw_digest(raw))
            if Siblings.from_json(raw).is_tombstone:
                self.tombstones[key] = now_ms
        for owner, key, _ in self.store.hints():
            self.hint_keys.setdefault(owner, set()).add(key)

    # ------------------------------------------------------------------ actors

    def actor(self, hinted: bool) -> str:
        """The name this node's new versions carry as their event's node.

        A coordinator numbers a key's events from what its local copy holds; once it deletes a
        copy (a hint handed off, a partition handed to its new owners) it could number an event
        the same as an older one still alive elsewhere, and one would silently replace the
        other. So forgetting bumps an epoch, and the epoch is part of the actor, as Riak's
        vnode ids do. Writes coordinated into the hint table (as a fallback) use their own
        actor, since the main table does not see them.
        """
        if hinted:
            return f"{self.node}#{self._hint_epoch}"
        return self.node if self._main_epoch == 0 else f"{self.node}@{self._main_epoch}"

    def _forget(self, hinted: bool) -> None:
        """Bump the actor epoch *before* deleting, durably, so a crash cannot skip it."""
        if hinted:
            self._hint_epoch += 1
            self.store.set_meta(_HINT_EPOCH, str(self._hint_epoch))
        else:
            self._main_epoch += 1
            self.store.set_meta(_MAIN_EPOCH, str(self._main_epoch))

    # ------------------------------------------------------------------ reads

    def get(self, key: str, hint_for: str | None = None) -> Siblings:
        if hint_for is None:
            state = self._cache.get(key)
            if state is None:
                raw = self.store.get(key)
                state = Siblings.EMPTY if raw is None else Siblings.from_json(raw)
                self._remember(key, state)
            return state
        hint = (hint_for, key)
        state = self._hint_cache.get(hint)
        if state is None:
            raw = self.store.get_hint(hint_for, key)
            state = Siblings.EMPTY if raw is None else Siblings.from_json(raw)
            self._remember_hint(hint, state)
        return state

    def _remember(self, key: str, state: Siblings) -> None:
        cache = self._cache
        cache[key] = state
        if len(cache) > self.cache_keys:
            del cache[next(iter(cache))]  # the oldest entry

    def _remember_hint(self, hint: tuple[str, str], state: Siblings) -> None:
        cache = self._hint_cache
        cache[hint] = state
        if len(cache) > self.cache_keys:
            del cache[next(iter(cache))]  # the oldest entry

    def view(self, key: str, hint_for: str | None) -> Siblings:
        """What this node answers for ``key`` as a primary (``hint_for`` None: the main state)
        or as a fallback standing in for ``hint_for``: every copy it holds, main and hints for
        any owner. Which down primary a fallback stands in for changes with the up-set, so a
        hint stored for one owner must still be found when asked for another; and a fallback
        coordinating a put must see all its own earlier events for the key."""
        if hint_for is None:
            return self.get(key)
        merged = self.get(key)
        # The hints held for ``key``, by owner (as ``Store.hints_for`` orders them), found in
        # the index and read through the cache rather than by a scan of the hint table.
        owners = sorted(owner for owner, keys in self.hint_keys.items() if key in keys)
        for owner in owners:
            merged = self.versions.merge(merged, self.get(key, owner))
        return merged

    def raw(self, key: str) -> Any | None:
        """The stored JSON form of ``key``'s main state (what handoff and anti-entropy send)."""
        return self.store.get(key)

    def keys(self) -> Iterator[str]:
        """The keys of the main table, in key order."""
        return self.store.keys()

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        """Every (owner, stored JSON form) hint held for ``key``."""
        return self.store.hints_for(key)

    def digest(self, key: str) -> bytes | None:
        """The main table's digest of ``key`` (from the Merkle index: no store read)."""
        return self.forest.digest(key)

    def hint_digests(self, key: str) -> dict[str, bytes]:
        return {owner: raw_digest(raw) for owner, raw in self.store.hints_for(key)}

    def hint_owners(self) -> list[str]:
        return sorted(owner for owner, keys in self.hint_keys.items() if keys)

    @property
    def hint_count(self) -> int:
        return sum(len(keys) for keys in self.hint_keys.values())

    # ------------------------------------------------------------------ writes

    def put(self, key: str, state: Siblings, hint_for: str | None, now_ms: float) -> str:
        """Store ``state`` durably (or as part of the store's batch) and update the indexes;
        returns its stored text."""
        text = state_text(state)  # once, for the store, the digest and the caller
        if hint_for is not None:
            hint = (hint_for, key)
            self._hint_cache.pop(hint, None)  # forgotten first: the write may fail
            self.store.put_hint_text(hint_for, key, text)
            self.hint_keys.setdefault(hint_for, set()).add(key)
            self._remember_hint(hint, state)
            return text
        self._cache.pop(key, None)  # forgotten first: the write may fail
        self.store.put_text(key, text)
        self._remember(key, state)
        partition = self.forest.partition(key)
        if partition is None:
            partition = self.partition_of(key)
        self.forest.set(partition, key, text_digest(text))
        if state.is_tombstone:
            self.tombstones.setdefault(key, now_ms)
        else:
            self.tombstones.pop(key, None)
        return text

    def merge(
        self, key: str, incoming: Siblings, hint_for: str | None, now_ms: float
    ) -> tuple[Siblings, bool]:
        """Merge ``incoming`` into the stored state; returns the result and whether it changed
        (an unchanged state is not written again)."""
        local = self.get(key, hint_for)
        merged = self.versions.merge(local, incoming)
        changed = merged is not local and merged != local
        if changed:
            self.put(key, merged, hint_for, now_ms)
        return merged, changed

    def delete_unchanged(
        self, items: dict[str, bytes], hinted_owner: str | None = None
    ) -> list[str]:
        """Delete the main states (or ``hinted_owner``'s hints) of the keys in ``items`` whose
        digest is still the one given — they did not change since they were copied elsewhere.
        Returns the keys deleted."""
        if hinted_owner is None:
            doomed = [k for k, d in items.items() if self.digest(k) == d]
        else:
            doomed = []
            for key, digest in items.items():
                raw = self.store.get_hint(hinted_owner, key)
                if raw is not None and raw_digest(raw) == digest:
                    doomed.append(key)
        if not doomed:
            return []
        self._forget(hinted=hinted_owner is not None)
        with self.store.transaction():
            for key in doomed:
                if hinted_owner is None:
                    self._cache.pop(key, None)
                    self.store.delete(key)
                    self.forest.set(self.partition_of(key), key, None)
                    self.tombstones.pop(key, None)
                else:
                    self._drop_hint(hinted_owner, key)
        return doomed

    def reap(self, key: str, digest: bytes) -> int:
        """Delete every copy of ``key`` (main and hints) whose digest is ``digest`` — the
        tombstone being reaped. No actor change: the tombstone's clock is gone everywhere."""
        removed = 0
        if self.digest(key) == digest:
            self._cache.pop(key, None)
            self.store.delete(key)
            self.forest.set(self.partition_of(key), key, None)
            self.tombstones.pop(key, None)
            removed += 1
        for owner, hint_digest in self.hint_digests(key).items():
            if hint_digest == digest:
                self._drop_hint(owner, key)
                removed += 1
        return removed

    def _drop_hint(self, owner: str, key: str) -> None:
        self._hint_cache.pop((owner, key), None)
        self.store.delete_hint(owner, key)
        keys = self.hint_keys.get(owner)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.hint_keys[owner]

    def raw_hint(self, owner: str, key: str) -> Any | None:
        return self.store.get_hint(owner, key)

    # ------------------------------------------------------------------ the rest of the store

    def transaction(self) -> AbstractContextManager[None]:
        """One commit for the writes made inside (``Store.transaction``)."""
        return self.store.transaction()

    def get_meta(self, name: str) -> str | None:
        """Node metadata that must survive a restart (the membership, say)."""
        return self.store.get_meta(name)

    def set_meta(self, name: str, value: str) -> None:
        self.store.set_meta(name, value)
