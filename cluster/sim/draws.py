"""The simulator's random draws, each a function of what it is for rather than of how many came
before it.

One shared random stream would make every draw depend on every earlier one: a test that removes
a single client operation (as shrinking does) would shift the delay of every later message in
the run, and a race that needed two particular delays would vanish for a reason that has
nothing to do with the operation removed. Here instead:

- each node's own ``random.Random`` (gossip peers, timer jitter) is seeded from the run's seed,
  the node's name and its generation (``node_seed``), so a restart or a join draws nothing from
  anyone else's stream;
- each directed link has its own draws (``LinkDraws``), one independent stream per purpose
  (delay, loss, duplication, added jitter), and the draw for a message is a function of the
  link, the purpose, the virtual instant it was sent and its rank among the messages sent on
  that link at that same instant. Removing an operation leaves the delay of every message
  that is still sent at the same instant exactly as it was.

The numbers are splitmix64's finalizer over a 64-bit key (fast in pure Python, well spread);
keys come from SHA-256 of text, and ``hash`` of a float is the same in every process, so the
same seed gives the same draws everywhere. Pure, no I/O.
"""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment: consecutive indexes spread apart
_UNIT = 1.0 / (1 << 53)


def stable_key(*parts: object) -> int:
    """A 64-bit number from ``parts`` (by their text), the same in every process."""
    text = "/".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def node_seed(seed: int, name: str, generation: int) -> int:
    """The seed of node ``name``'s own random stream in its ``generation``."""
    return stable_key(seed, "node", name, generation)


def unit(x: int) -> float:
    """A uniform float in [0, 1), a well-spread function of ``x`` (any int; its low 64 bits)."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return ((x ^ (x >> 31)) >> 11) * _UNIT


class LinkDraws:
    """The random draws of the messages on one directed link (see the module).

    ``message(now_ms)`` gives the index of the next message sent at ``now_ms``; a purpose's
    draw for it (and for its copy ``c``, when duplicated) is ``unit(purpose + index + c)``."""

    __slots__ = ("_at_ms", "_rank", "delay", "duplicate", "jitter", "loss")

    def __init__(self, seed: int, src: str, dst: str) -> None:
        self.delay = stable_key(seed, "delay", src, dst)
        self.loss = stable_key(seed, "loss", src, dst)
        self.duplicate = stable_key(seed, "duplicate", src, dst)
        self.jitter = stable_key(seed, "jitter", src, dst)
        self._at_ms = -1.0
        self._rank = 0

    def message(self, now_ms: float) -> int:
        """The draw index of a message sent at ``now_ms`` (the link's sends must come in time
        order, as the simulator's do): the instant, and the rank among sends at it."""
        if now_ms == self._at_ms:
            self._rank += 1
        else:
            self._at_ms = now_ms
            self._rank = 0
        # Two slots per message: its duplicate (if any) draws from index + 1.
        return hash(now_ms) * _GOLDEN + 2 * self._rank
