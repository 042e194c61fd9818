"""One direction of one proxied connection: bytes from a source socket pass through a chain of
toxic stages to a sink socket, and the chain is re-linked live when toxics are added, updated or
removed (as Toxiproxy's ``link.go`` does with its chain of stubs).

With no toxics, a chunk goes straight from the source's ``data_received`` to the sink's transport:
no queue, no task. A stage whose toxic does not apply (``noop``, or toxicity dice that came up
"no") passes chunks on synchronously too; only stages running a behaviour have a task and a queue.
Backpressure: the source stops being read while the chunks queued in the chain exceed
``HIGH_WATER_BYTES``. Runs on the event loop; the sockets are reached through the ``write``
callable and the ``LinkEnds`` given by the connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from typing import Protocol

from nemesis.toxiproxy.toxics import Behaviour, Chunk, Direction, OnInterrupt, Toxic

logger = logging.getLogger(__name__)

HIGH_WATER_BYTES = 1 << 20
LOW_WATER_BYTES = 1 << 18


class LinkEnds(Protocol):
    """The sockets around a link, provided by the connection."""

    def end(self, direction: Direction) -> None:
        """The stream in ``direction`` is over: close its destination, as Toxiproxy does."""

    def reset(self) -> None:
        """Reset both sockets of the connection (TCP RST)."""

    def throttle(self, direction: Direction, paused: bool) -> None:
        """Stop or resume reading the source of ``direction`` because the chain is full."""


class Stage:
    """One toxic on one link: a queue of chunks and, when the toxic applies, the task running its
    behaviour. ``next`` is the following stage, or ``None`` for the sink."""

    def __init__(self, link: Link, toxic: Toxic) -> None:
        self.link = link
        self.toxic = toxic
        self.next: Stage | None = None
        self.queue: deque[Chunk] = deque()
        self.held: Chunk | None = None
        self.state: dict[str, int] = {}
        self.closed = False
        self.active = False
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def rng(self) -> random.Random:
        return self.link.rng

    def start(self) -> None:
        """(Re)start the toxic on this link, rolling the toxicity dice."""
        behaviour = self.toxic.kind.behaviour
        self.active = self.link.rng.random() < self.toxic.toxicity and behaviour is not None
        if self.active and behaviour is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(behaviour))
            return
        while self.queue and not self.closed:  # a pass-through stage never keeps a queue
            self._take_and_forward()

    async def _run(self, behaviour: Behaviour) -> None:
        try:
            await behaviour(self)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("toxic %s failed; resetting its connection", self.toxic.name)
            self.reset_connection()

    def interrupt(self) -> None:
        """Stop the behaviour (for an update or a removal) and settle the chunk it was holding."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        held, self.held = self.held, None
        if held is None or self.closed:
            return
        if held.eof:
            self.queue.appendleft(held)  # the end of the stream is never lost
        elif self.toxic.kind.on_interrupt is OnInterrupt.EMIT:
            self._forward(held)

    def stop(self) -> None:
        """The connection is gone: drop everything."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.closed = True
        self.held = None
        self._drop_queue()

    # -- what behaviours use -------------------------------------------------------------

    async def get(self, deadline: float | None = None) -> Chunk | None:
        """The next chunk (now held by the behaviour), or ``None`` once ``deadline`` passes."""
        loop = asyncio.get_running_loop()
        while not self.queue:
            if deadline is not None and loop.time() >= deadline:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            timer = loop.call_at(deadline, _wake, waiter) if deadline is not None else None
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
                if timer is not None:
                    timer.cancel()
        chunk = self.queue.popleft()
        self.link.account(-chunk.size)
        self.held = chunk
        return chunk

    def emit(self, chunk: Chunk) -> None:
        if chunk is self.held:
            self.held = None
        self._forward(chunk)

    def close(self) -> None:
        """End the stream here: what is queued behind is dropped, the end goes on to the sink."""
        if self.closed:
            return
        self.closed = True
        self.held = None
        self._drop_queue()
        self._forward(Chunk(None, _now()))

    def reset_connection(self) -> None:
        self.link.ends.reset()

    # -- plumbing ------------------------------------------------------------------------

    def push(self, chunk: Chunk) -> None:
        """A chunk from the previous stage (or the source)."""
        if self.closed:
            return
        if not self.active and not self.queue:
            if chunk.eof:
                self.closed = True
            self._forward(chunk)
            return
        self.queue.append(chunk)
        self.link.account(chunk.size)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def flush_into_next(self) -> None:
        """Pass every queued chunk on, in order (the toxic is being removed)."""
        while self.queue and not self.closed:
            self._take_and_forward()

    def _take_and_forward(self) -> None:
        chunk = self.queue.popleft()
        self.link.account(-chunk.size)
        if chunk.eof:
            self.closed = True
        self._forward(chunk)

    def _forward(self, chunk: Chunk) -> None:
        if self.next is not None:
            self.next.push(chunk)
        else:
            self.link.to_sink(chunk)

    def _drop_queue(self) -> None:
        dropped = sum(chunk.size for chunk in self.queue)
        self.queue.clear()
        self.link.account(-dropped)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _now() -> float:
    return asyncio.get_running_loop().time()


class Link:
    """The chain of stages for one direction of one connection."""

    def __init__(
        self,
        ends: LinkEnds,
        direction: Direction,
        write: Callable[[bytes], None],
        toxics: list[Toxic],
        rng: random.Random,
    ) -> None:
        self.ends = ends
        self.direction = direction
        self._write = write  # to the destination socket
        self.rng = rng
        self.stages: list[Stage] = []
        self.buffered_bytes = 0
        self._throttled = False
        self._eof_fed = False
        self._sink_done = False
        self._stopped = False
        for toxic in toxics:
            self.add_toxic(toxic)

    # -- data from the source ------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._eof_fed:
            return
        if self.stages:
            self.stages[0].push(Chunk(data, _now()))
        elif not self._sink_done:
            self._write(data)  # no toxics: straight through

    def feed_eof(self) -> None:
        if self._eof_fed:
            return
        self._eof_fed = True
        if self.stages:
            self.stages[0].push(Chunk(None, _now()))
        else:
            self.to_sink(Chunk(None, _now()))

    def to_sink(self, chunk: Chunk) -> None:
        if self._sink_done or self._stopped:
            return
        if chunk.data is None:
            self._sink_done = True
            self.ends.end(self.direction)
        else:
            self._write(chunk.data)

    def sink_gone(self) -> None:
        """The destination socket is closed: what still arrives for it is dropped."""
        self._sink_done = True

    def account(self, delta: int) -> None:
        self.buffered_bytes += delta
        if not self._throttled and self.buffered_bytes > HIGH_WATER_BYTES:
            self._throttled = True
            self.ends.throttle(self.direction, True)
        elif self._throttled and self.buffered_bytes < LOW_WATER_BYTES:
            self._throttled = False
            self.ends.throttle(self.direction, False)

    # -- toxics changing under a live connection ------------------------------------------

    def add_toxic(self, toxic: Toxic) -> None:
        if self._stopped:
            return
        stage = Stage(self, toxic)
        if self.stages:
            self.stages[-1].next = stage
        self.stages.append(stage)
        if self._eof_fed and len(self.stages) == 1:
            stage.closed = True  # the end of the stream already went by
        stage.start()

    def update_toxic(self, toxic: Toxic) -> None:
        stage = self._stage_of(toxic)
        if stage is None or self._stopped:
            return
        stage.interrupt()
        if not stage.closed:
            stage.start()

    def remove_toxic(self, toxic: Toxic) -> None:
        stage = self._stage_of(toxic)
        if stage is None:
            return
        was_active = stage.active
        stage.interrupt()
        if was_active and toxic.kind.closes_on_remove:
            stage.close()  # Toxiproxy's timeout toxic closes the connections it held
        else:
            stage.flush_into_next()
        index = self.stages.index(stage)
        if index > 0:
            self.stages[index - 1].next = stage.next
        self.stages.pop(index)
        stage.stop()

    def stop(self) -> None:
        """The connection is torn down: stop every behaviour and drop what is in flight."""
        self._stopped = True
        self._sink_done = True
        for stage in self.stages:
            stage.stop()

    def _stage_of(self, toxic: Toxic) -> Stage | None:
        for stage in self.stages:
            if stage.toxic is toxic:
                return stage
        return None
