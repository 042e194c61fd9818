"""Progress of a long check: on a terminal a line that counts seconds, elsewhere nothing."""

from __future__ import annotations

import io
import time

import pytest

from zynamo import ticker


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_seconds_and_a_cleared_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ticker, "FIRST_AFTER_S", 0.05)
    monkeypatch.setattr(ticker, "EVERY_S", 0.05)
    out = Terminal()
    with ticker.ticking("checking big.edn", out):
        time.sleep(0.3)
    text = out.getvalue()
    assert "\rchecking big.edn: 0 s" in text and text.endswith("\r\033[K")


def test_a_pipe_or_a_ci_log_sees_nothing() -> None:
    out = io.StringIO()
    with ticker.ticking("checking big.edn", out):
        time.sleep(0.01)
    assert out.getvalue() == ""
