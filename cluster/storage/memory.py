"""``MemoryStore``: a ``DurableStore`` in dictionaries of JSON text, for the simulator and unit
tests (its batches and transactions are trivially durable: there is nothing to lose). No
I/O."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any


class MemoryStore:
    """A ``Store`` in dictionaries: the simulator's storage. It keeps JSON text, as SQLite
    does, so what it hands back is never the caller's own (mutable) object."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._hints: dict[tuple[str, str], str] = {}
        self._meta: dict[str, str] = {}

    def get(self, key: str) -> Any | None:
        text = self._data.get(key)
        return None if text is None else json.loads(text)

    def put_text(self, key: str, encoded: str) -> None:
        self._data[key] = encoded

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._data))

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter([(k, json.loads(t)) for k, t in sorted(self._data.items())])

    def put_hint_text(self, owner: str, key: str, encoded: str) -> None:
        self._hints[(owner, key)] = encoded

    def get_hint(self, owner: str, key: str) -> Any | None:
        text = self._hints.get((owner, key))
        return None if text is None else json.loads(text)

    def hints(self) -> Iterator[tuple[str, str, Any]]:
        return iter([(o, k, json.loads(t)) for (o, k), t in sorted(self._hints.items())])

    def hints_for(self, key: str) -> list[tuple[str, Any]]:
        return sorted(
            ((o, json.loads(t)) for (o, k), t in self._hints.items() if k == key),
            key=lambda h: h[0],
        )

    def delete_hint(self, owner: str, key: str) -> None:
        self._hints.pop((owner, key), None)

    def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._meta[name] = value

    def transaction(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def begin_batch(self) -> None:
        pass

    def commit_batch(self) -> None:
        pass

    def close(self) -> None:
        pass
