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

The numbers are CPython's hash of a tuple of numbers (instant, rank, the purpose's key), then
a round of splitmix64's finalizer: fast, well spread, and — unlike the hash of a string — the
same in every process (the same on any 64-bit CPython since 3.8). Keys come from SHA-256 of
text. So the same seed gives the same draws everywhere, whatever ``PYTHONHASHSEED``. Pure,
no I/O.
"""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1
_UNIT = 1.0 / (1 << 53)


def stable_key(*parts: object) -> int:
    """A 64-bit number from ``parts`` (by their text), the same in every process."""
    text = "/".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def node_seed(seed: int, name: str, generation: int) -> int:
    """The seed of node ``name``'s own random stream in its ``generation``."""
    return stable_key(seed, "node", name, generation)


def unit(x: int) -> float:
    """A uniform float in [0, 1), a well-spread function of ``x`` (any int; its low 64 bits):
    one round of splitmix64's finalizer."""
    x &= _MASK
    x = ((x ^ (x >> 29)) * 0xBF58476D1CE4E5B9) & _MASK
    return ((x ^ (x >> 32)) >> 11) * _UNIT


class LinkDraws:
    """The random draws of the messages on one directed link (see the module).

    ``message(now_ms)`` starts the draws of the next message, sent at ``now_ms``, and returns
    its delay's draw; ``draw(purpose, copy)`` is another purpose's draw for the same message
    (``loss``, ``duplicate``, ``jitter``; ``copy`` 1 for the second copy of a duplicate)."""

    __slots__ = ("_at_ms", "_rank", "delay", "duplicate", "jitter", "loss")

    def __init__(self, seed: int, src: str, dst: str) -> None:
        self.delay = stable_key(seed, "delay", src, dst)
        self.loss = stable_key(seed, "loss", src, dst)
        self.duplicate = stable_key(seed, "duplicate", src, dst)
        self.jitter = stable_key(seed, "jitter", src, dst)
        self._at_ms = -1.0
        self._rank = 0

    def message(self, now_ms: float) -> float:
        """Start the draws of a message sent at ``now_ms`` (the link's sends come in time
        order, as the simulator's do); its delay's draw, in [0, 1). A message's draws are a
        function of the instant and of its rank among this link's sends at that instant."""
        if now_ms == self._at_ms:
            self._rank += 2  # two slots per message: a duplicate's second copy takes the next
        else:
            self._at_ms = now_ms
            self._rank = 0
        # The hash of a tuple of numbers (xxHash's rounds, in C) is the same in every process;
        # one more round (``unit``, inlined: this runs for every message) takes out what
        # structure is left between neighbouring instants.
        x = hash((now_ms, self._rank, self.delay)) & _MASK
        x = ((x ^ (x >> 29)) * 0xBF58476D1CE4E5B9) & _MASK
        return ((x ^ (x >> 32)) >> 11) * _UNIT

    def draw(self, purpose: int, copy: int = 0) -> float:
        """``purpose``'s draw for the current message (or its ``copy``), in [0, 1)."""
        return unit(hash((self._at_ms, self._rank + copy, purpose)))
