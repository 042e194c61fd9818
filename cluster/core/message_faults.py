"""Message-level faults in a node's transport: drop, duplicate, reorder and delay individual
protocol messages to peers, as a lossy network would and TCP never does.

A transport concern, not protocol: it lives in the core because both shells use it — the
ZeroMQ server (``cluster.net.server``) and the simulator (``cluster.sim``). A shell passes every
message it sends a peer through
``MessageFaults.route`` while faults are set: each message is, independently, dropped with
probability ``drop``, sent twice with ``duplicate``, held back a few milliseconds (so that
messages sent after it overtake it) with ``reorder``, or held back ``delay_ms`` with ``delay``;
the rest leave at once. Held messages come back from ``due(now_ms)``. Draws come from a
``random.Random`` seeded with ``seed``, so the same settings and the same traffic fault the same
messages. Client replies are never touched: the faults are between nodes. Settings arrive
through the admin op ``message-faults`` (``configure(args)``; no arguments clears them), whose
reply carries the counters, so a nemesis can say what the faults did. No I/O.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROBABILITIES = ("drop", "duplicate", "reorder", "delay")
REORDER_WINDOW_MS = 20.0  # a reordered message waits up to this long for others to pass it
COUNTERS = ("sent", "dropped", "duplicated", "reordered", "delayed")


@dataclass(frozen=True)
class MessageFaultSettings:
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    delay_ms: int = 0
    seed: int = 0

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> MessageFaultSettings:
        """Settings from an admin op's arguments; ``ValueError`` naming the bad one."""
        unknown = sorted(set(args) - {*PROBABILITIES, "delay_ms", "seed"})
        if unknown:
            raise ValueError(
                f"message-faults: unknown {', '.join(unknown)}; accepted:"
                f" {', '.join(PROBABILITIES)}, delay_ms, seed"
            )
        values: dict[str, Any] = {}
        for name in PROBABILITIES:
            value = args.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"message-faults {name}: expected 0 to 1, got {value!r}")
            values[name] = float(value)
        for name in ("delay_ms", "seed"):
            value = args.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"message-faults {name}: expected an integer >= 0, got {value!r}")
            values[name] = value
        return cls(**values)


class MessageFaults:
    """The faults in force on one node's peer messages, and what they did."""

    def __init__(self) -> None:
        self.settings: MessageFaultSettings | None = None
        self._rng = random.Random(0)
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._held: list[tuple[float, int, str, bytes]] = []  # (due_ms, seq, peer, message)
        self._seq = 0

    @property
    def active(self) -> bool:
        return self.settings is not None

    def configure(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Set (or, with no arguments, clear) the faults; the reply for the admin op."""
        if args:
            settings = MessageFaultSettings.from_args(args)
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self.counts = dict.fromkeys(COUNTERS, 0)
        else:
            self.settings = None
        return {"active": self.active, "counts": dict(self.counts)}

    def route(self, peer: str, messages: list[bytes], now_ms: float) -> list[bytes]:
        """The messages to send ``peer`` now; the others are dropped or held for later."""
        settings = self.settings
        if settings is None:
            return messages
        rng, counts = self._rng, self.counts
        now: list[bytes] = []
        for message in messages:
            counts["sent"] += 1
            draw = rng.random()
            if draw < settings.drop:
                counts["dropped"] += 1
                continue
            draw -= settings.drop
            if draw < settings.duplicate:
                counts["duplicated"] += 1
                now += (message, message)
                continue
            draw -= settings.duplicate
            if draw < settings.reorder:
                counts["reordered"] += 1
                self._hold(now_ms + rng.uniform(1.0, REORDER_WINDOW_MS), peer, message)
                continue
            draw -= settings.reorder
            if draw < settings.delay:
                counts["delayed"] += 1
                self._hold(now_ms + settings.delay_ms, peer, message)
                continue
            now.append(message)
        return now

    def _hold(self, due_ms: float, peer: str, message: bytes) -> None:
        self._seq += 1
        heapq.heappush(self._held, (due_ms, self._seq, peer, message))

    def next_due_ms(self) -> float | None:
        return self._held[0][0] if self._held else None

    def due(self, now_ms: float) -> list[tuple[str, bytes]]:
        """Held messages whose time has come, in the order they fall due."""
        ready: list[tuple[str, bytes]] = []
        held = self._held
        while held and held[0][0] <= now_ms:
            _, _, peer, message = heapq.heappop(held)
            ready.append((peer, message))
        return ready
