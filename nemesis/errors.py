"""Errors the nemesis raises: a fault that could not be applied, and a heal that left something
behind (it lists every step that failed; the other steps still ran). No I/O."""

from __future__ import annotations

from collections.abc import Sequence


class NemesisError(RuntimeError):
    """A fault could not be applied or undone; the message says which and why."""


class HealError(NemesisError):
    """Heal-all finished but some steps failed; ``failures`` names each one."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = list(failures)
        super().__init__("heal left faults behind: " + "; ".join(self.failures))
