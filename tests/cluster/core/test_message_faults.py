"""Message-level faults in a node's transport: seeded draws that drop, duplicate, reorder and
delay peer messages, set and cleared through the node's ``message-faults`` admin op, with
counters that say what they did."""

from __future__ import annotations

import pytest

from cluster.core.message_faults import MessageFaults, MessageFaultSettings

MESSAGES = [f"m{i}".encode() for i in range(2000)]


def _route_all(faults: MessageFaults) -> tuple[list[bytes], list[bytes]]:
    now = faults.route("n2", MESSAGES, now_ms=0.0)
    later = [message for _, message in faults.due(now_ms=10_000.0)]
    return now, later


def test_each_fault_happens_at_about_its_probability_and_is_counted() -> None:
    faults = MessageFaults()
    faults.configure({"drop": 0.1, "duplicate": 0.1, "reorder": 0.1, "delay": 0.1, "seed": 4})
    now, later = _route_all(faults)
    counts = faults.counts
    assert counts["sent"] == 2000
    for name in ("dropped", "duplicated", "reordered", "delayed"):
        assert 120 < counts[name] < 280, counts
    # nothing is lost but what was dropped; duplicates arrive twice; held ones come later
    assert len(now) + len(later) == 2000 - counts["dropped"] + counts["duplicated"]
    assert len(later) == counts["reordered"] + counts["delayed"]


def test_the_same_seed_faults_the_same_messages() -> None:
    runs = []
    for _ in range(2):
        faults = MessageFaults()
        faults.configure({"drop": 0.3, "reorder": 0.2, "seed": 11})
        runs.append(_route_all(faults))
    assert runs[0] == runs[1]


def test_delayed_messages_wait_their_time_and_reordered_ones_are_overtaken() -> None:
    faults = MessageFaults()
    faults.configure({"delay": 1.0, "delay_ms": 100, "seed": 1})
    assert faults.route("n3", [b"a"], now_ms=1000.0) == []
    assert faults.next_due_ms() == 1100.0
    assert faults.due(1099.0) == []
    assert faults.due(1100.0) == [("n3", b"a")]
    faults.configure({"reorder": 1.0, "seed": 1})
    assert faults.route("n3", [b"first"], now_ms=0.0) == []
    faults.configure({"seed": 1})  # no faults now: the next message leaves at once
    assert faults.route("n3", [b"second"], now_ms=0.5) == [b"second"]
    assert faults.due(50.0) == [("n3", b"first")]  # ... overtaken by the second


def test_clearing_stops_the_faults_and_returns_the_counts() -> None:
    faults = MessageFaults()
    faults.configure({"drop": 1.0, "seed": 0})
    assert faults.route("n2", [b"x", b"y"], 0.0) == []
    reply = faults.configure({})
    assert reply == {
        "active": False,
        "counts": {"sent": 2, "dropped": 2, "duplicated": 0, "reordered": 0, "delayed": 0},
    }
    assert faults.route("n2", [b"z"], 0.0) == [b"z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"drop": 2}, "drop: expected 0 to 1"),
        ({"delay_ms": -5}, "delay_ms: expected an integer >= 0"),
        ({"loss": 0.1}, "unknown loss; accepted: drop, duplicate, reorder, delay, delay_ms"),
    ],
)
def test_bad_settings_name_the_argument(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MessageFaultSettings.from_args(args)
