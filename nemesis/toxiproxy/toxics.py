"""The toxics: what each type's attributes are and what it does to a stream of chunks.

A toxic's behaviour is a coroutine that runs on one *stage* of one link (one direction of one
connection): it takes chunks with ``await stage.get()``, passes them on with ``stage.emit(chunk)``,
ends the stream with ``stage.close()`` (the connection then closes, as when a Go toxic closes its
stub) or resets the whole connection with ``stage.reset_connection()``. Semantics follow Toxiproxy
2.x (``toxics/*.go``):

- ``latency``: delay every chunk by ``latency`` ± ``jitter`` ms, counted from when it was read;
- ``bandwidth``: at most ``rate`` KB/s (1 KB = 1000 bytes), big chunks sent in 100 ms slices;
  a rate of 0 lets nothing through;
- ``slow_close``: hold the end of the stream for ``delay`` ms;
- ``timeout``: drop all data; close the connection after ``timeout`` ms (0: never);
  removing the toxic closes the connections it held;
- ``reset_peer``: on the first data (or end of stream), wait ``timeout`` ms, then reset both
  sockets (SO_LINGER 0, so the peers see ECONNRESET);
- ``slicer``: cut chunks into pieces of about ``average_size`` ± ``size_variation`` bytes,
  ``delay`` microseconds apart;
- ``limit_data``: pass ``bytes`` bytes in total, then close the connection;
- ``noop``: pass everything through.

``toxicity`` is the probability that a toxic applies to a given link; the dice are rolled when the
toxic starts on that link (link creation, toxic added or updated). No I/O here besides the timers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from nemesis.toxiproxy import gojson
from nemesis.toxiproxy.errors import INVALID_STREAM, INVALID_TOXIC_TYPE


class Direction(Enum):
    """``upstream`` is client → server, ``downstream`` is server → client."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


def parse_direction(stream: str) -> Direction:
    """Toxiproxy's ``stream.ParseDirection``: case-insensitive ``upstream`` or ``downstream``."""
    try:
        return Direction(stream.lower())
    except ValueError:
        raise INVALID_STREAM from None


class Chunk:
    """Bytes read from one socket (``data is None`` marks the end of the stream), stamped with the
    event-loop time at which they were read."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes | None, ts: float) -> None:
        self.data = data
        self.ts = ts

    @property
    def eof(self) -> bool:
        return self.data is None

    @property
    def size(self) -> int:
        return 0 if self.data is None else len(self.data)


class StagePort(Protocol):
    """What a behaviour may do with the stage it runs on (implemented by ``link.Stage``)."""

    toxic: Toxic
    state: dict[str, int]
    held: Chunk | None

    @property
    def rng(self) -> random.Random: ...

    async def get(self, deadline: float | None = None) -> Chunk | None: ...

    def emit(self, chunk: Chunk) -> None: ...

    def close(self) -> None: ...

    def reset_connection(self) -> None: ...


Behaviour = Callable[[StagePort], Awaitable[None]]


class OnInterrupt(Enum):
    """What happens to the chunk a behaviour is holding when its toxic is updated or removed."""

    EMIT = "emit"  # pass it on at once ("don't drop any data on the floor")
    DROP = "drop"


@dataclass(frozen=True)
class ToxicKind:
    """A toxic type: its attributes (all integers, as in Go), and its behaviour (``None``: noop)."""

    name: str
    go_struct: str
    attributes: tuple[str, ...]
    behaviour: Behaviour | None
    on_interrupt: OnInterrupt = OnInterrupt.EMIT
    closes_on_remove: bool = False
    go_int_type: str = "int64"


@dataclass
class Toxic:
    """A toxic as the API shows it; shared by every link of its proxy in its direction."""

    name: str
    kind: ToxicKind
    stream: str
    direction: Direction
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)

    def attr(self, name: str) -> int:
        return self.attributes.get(name, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": {name: self.attr(name) for name in self.kind.attributes},
            "name": self.name,
            "type": self.kind.name,
            "stream": self.stream,
            "toxicity": gojson.number(self.toxicity),
        }


def decode_attributes(kind: ToxicKind, value: object, current: Mapping[str, int]) -> dict[str, int]:
    """``current`` updated with the attributes in a request body, or a 400 naming the bad one."""
    obj = gojson.expect_object(value, f"toxics.{kind.go_struct}")
    updated = dict(current)
    for name, raw in gojson.fields(obj, kind.attributes).items():
        updated[name] = gojson.as_int(raw, kind.go_struct, name, kind.go_int_type)
    return updated


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


async def _wait_forever() -> None:
    await asyncio.get_running_loop().create_future()


async def _latency(stage: StagePort) -> None:
    while True:
        chunk = await stage.get()
        if chunk is None or chunk.eof:
            stage.close()
            return
        delay_ms = stage.toxic.attr("latency")
        jitter_ms = stage.toxic.attr("jitter")
        if jitter_ms > 0:
            delay_ms += stage.rng.randrange(2 * jitter_ms) - jitter_ms
        release = chunk.ts + delay_ms / 1000.0
        wait = release - _loop_time()
        if wait > 0:
            await asyncio.sleep(wait)
        # A later latency toxic counts from when this one should have let the chunk go, so that
        # several latency toxics add up (Toxiproxy 2.0.0, #94).
        chunk.ts = release
        stage.emit(chunk)


BANDWIDTH_SLICE_S = 0.1


async def _bandwidth(stage: StagePort) -> None:
    debt_s = 0.0  # how far ahead of the allowed rate the data passed so far is
    while True:
        chunk = await stage.get()
        if chunk is None or chunk.eof:
            stage.close()
            return
        rate = stage.toxic.attr("rate")  # KB/s, that is bytes per millisecond
        if rate <= 0:
            # Toxiproxy sends empty slices for ever at a rate of 0: nothing gets through.
            await _wait_forever()
        debt_s += chunk.size / (rate * 1000.0)
        slice_bytes = rate * 100  # what the rate allows in 100 ms
        while chunk.data is not None and len(chunk.data) > slice_bytes:
            await asyncio.sleep(BANDWIDTH_SLICE_S)
            piece, rest = chunk.data[:slice_bytes], chunk.data[slice_bytes:]
            chunk.data = rest
            stage.emit(Chunk(piece, chunk.ts))
            debt_s -= BANDWIDTH_SLICE_S
        started = _loop_time()
        if debt_s > 0:
            await asyncio.sleep(debt_s)
        debt_s -= _loop_time() - started
        stage.emit(chunk)


async def _slow_close(stage: StagePort) -> None:
    while True:
        chunk = await stage.get()
        if chunk is None or chunk.eof:
            delay_ms = stage.toxic.attr("delay")
            if delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000.0)
            stage.close()
            return
        stage.emit(chunk)


async def _timeout(stage: StagePort) -> None:
    timeout_ms = stage.toxic.attr("timeout")
    deadline = _loop_time() + timeout_ms / 1000.0 if timeout_ms > 0 else None
    while True:
        chunk = await stage.get(deadline)
        if chunk is None or chunk.eof:  # the timeout expired, or the stream ended
            stage.close()
            return
        stage.held = None  # dropped on the ground


async def _reset_peer(stage: StagePort) -> None:
    await stage.get()
    stage.held = None
    timeout_ms = stage.toxic.attr("timeout")
    if timeout_ms > 0:
        await asyncio.sleep(timeout_ms / 1000.0)
    stage.reset_connection()


def slice_bounds(
    size: int, average: int, variation: int, rng: random.Random
) -> list[tuple[int, int]]:
    """Cut ``[0, size)`` into contiguous pieces of about ``average`` ± ``variation`` bytes, split
    near the middle recursively as Toxiproxy's slicer does (no small pieces bunched at an end)."""
    if size <= 0:
        return []
    if average <= 0:
        return [(0, size)]
    variation = max(0, variation)
    pieces: list[tuple[int, int]] = []
    pending = [(0, size)]
    while pending:
        start, end = pending.pop()
        if (end - start) - average <= variation:
            pieces.append((start, end))
            continue
        offset = rng.randrange(2 * variation) - variation if variation > 0 else 0
        middle = min(max(start + (end - start) // 2 + offset, start + 1), end - 1)
        pending.append((middle, end))  # popped after the left half: pieces stay in order
        pending.append((start, middle))
    return pieces


async def _slicer(stage: StagePort) -> None:
    while True:
        chunk = await stage.get()
        if chunk is None or chunk.eof or chunk.data is None:
            stage.close()
            return
        data = chunk.data
        bounds = slice_bounds(
            len(data),
            stage.toxic.attr("average_size"),
            stage.toxic.attr("size_variation"),
            stage.rng,
        )
        delay_s = stage.toxic.attr("delay") / 1_000_000.0
        for start, end in bounds:
            # What is left stays held, so an update or removal passes it on unsliced.
            stage.held = Chunk(data[end:], chunk.ts) if end < len(data) else None
            stage.emit(Chunk(data[start:end], chunk.ts))
            if delay_s > 0:
                await asyncio.sleep(delay_s)


async def _limit_data(stage: StagePort) -> None:
    limit = stage.toxic.attr("bytes")
    while True:
        chunk = await stage.get()
        if chunk is None or chunk.eof or chunk.data is None:
            stage.close()
            return
        sent = stage.state.get("bytes_transmitted", 0)
        remaining = max(limit - sent, 0)
        data = chunk.data[:remaining]
        stage.held = None
        if data:
            stage.emit(Chunk(data, chunk.ts))
            stage.state["bytes_transmitted"] = sent + len(data)
        if limit - stage.state.get("bytes_transmitted", 0) <= 0:
            stage.close()
            return


KINDS: dict[str, ToxicKind] = {
    kind.name: kind
    for kind in (
        ToxicKind("noop", "NoopToxic", (), None),
        ToxicKind("latency", "LatencyToxic", ("latency", "jitter"), _latency),
        ToxicKind("bandwidth", "BandwidthToxic", ("rate",), _bandwidth),
        ToxicKind("slow_close", "SlowCloseToxic", ("delay",), _slow_close),
        ToxicKind(
            "timeout",
            "TimeoutToxic",
            ("timeout",),
            _timeout,
            on_interrupt=OnInterrupt.DROP,
            closes_on_remove=True,
        ),
        ToxicKind(
            "reset_peer", "ResetToxic", ("timeout",), _reset_peer, on_interrupt=OnInterrupt.DROP
        ),
        ToxicKind(
            "slicer",
            "SlicerToxic",
            ("average_size", "size_variation", "delay"),
            _slicer,
            go_int_type="int",
        ),
        ToxicKind("limit_data", "LimitDataToxic", ("bytes",), _limit_data),
    )
}


def kind_named(type_name: str) -> ToxicKind:
    try:
        return KINDS[type_name]
    except KeyError:
        raise INVALID_TOXIC_TYPE from None
