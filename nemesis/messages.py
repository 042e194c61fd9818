"""Message-level faults as a nemesis: drop, duplicate, reorder and delay individual protocol
messages in the targets' transport (the environment's ``MessageFaults``; on real processes the
node's ``message-faults`` admin op, ``cluster.net.message_faults``).

``start-message`` sets the faults on its targets with the probabilities of the op's value (the
options' by default), each node's draws seeded from the nemesis's generator; ``stop-message``
clears them and says what they did (messages sent, dropped, duplicated, reordered, delayed); a
run where they touched no message is flagged. ``heal`` clears them on every live node. Does
network I/O through the environment.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from nemesis.base import FaultOp
from nemesis.effects import effect
from nemesis.environment import MessageFaults
from nemesis.errors import NemesisError
from nemesis.options import NemesisOptions
from nemesis.targets import choose_targets

FIGURES = ("drop", "duplicate", "reorder", "delay")


def start_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    from nemesis.schedule import spec_to_json

    return {
        "targets": spec_to_json(rng.choice(options.message_targets)),
        "drop": options.message_drop,
        "duplicate": options.message_duplicate,
        "reorder": options.message_reorder,
        "delay": options.message_delay,
        "delay_ms": options.message_delay_ms,
    }


class MessageNemesis:
    def __init__(
        self,
        faults: MessageFaults,
        nodes: Sequence[str],
        live: Callable[[], Sequence[str]],
        rng: random.Random,
        options: NemesisOptions,
    ) -> None:
        self.faults = faults
        self.nodes = tuple(nodes)
        self.live = live
        self.rng = rng
        self.options = options
        self.faulty: list[str] = []

    def invoke(self, op: FaultOp) -> dict[str, Any]:
        if op.fault != "message":
            raise ValueError(f"the message nemesis cannot do {op.f!r}")
        if not op.starts:
            return self._clear()
        defaults = start_value(self.options, self.rng)
        value = {**defaults, **op.value}
        targets = choose_targets(value["targets"], self.nodes, self.live(), self.rng)
        self._clear()
        figures = {name: float(value[name]) for name in FIGURES}
        for node in targets:
            try:
                self.faults.set_message_faults(
                    node,
                    **figures,
                    delay_ms=int(value["delay_ms"]),
                    seed=self.rng.getrandbits(32),
                )
            except Exception as err:
                raise NemesisError(f"message faults on {node}: {err}") from err
            self.faulty.append(node)
        active = ", ".join(f"{name} {p:g}" for name, p in figures.items() if p)
        return {
            "nodes": list(targets),
            **figures,
            "delay_ms": int(value["delay_ms"]),
            "effect": effect(
                f"message faults on {', '.join(targets) or 'nobody'} ({active or 'all zero'})",
                bool(targets) and bool(active),
            ),
        }

    def _clear(self) -> dict[str, Any]:
        totals = dict.fromkeys(("sent", "dropped", "duplicated", "reordered", "delayed"), 0)
        failures: list[str] = []
        for node in list(self.faulty):
            try:
                counts = self.faults.clear_message_faults(node)
            except Exception as err:  # down meanwhile: its faults died with it
                failures.append(f"{node}: {err}")
                counts = {}
            self.faulty.remove(node)
            for name in totals:
                totals[name] += int(counts.get(name, 0))
        touched = sum(v for k, v in totals.items() if k != "sent")
        summary = (
            f"{totals['sent']:,} messages: {totals['dropped']:,} dropped,"
            f" {totals['duplicated']:,} duplicated, {totals['reordered']:,} reordered,"
            f" {totals['delayed']:,} delayed"
        )
        if failures:
            summary += f" (no counts from {'; '.join(failures)})"
        return {"counts": totals, "effect": effect(summary, touched > 0)}

    def heal(self) -> None:
        self.faulty = [node for node in self.nodes if node in set(self.live())]
        self._clear()
