"""The operator's leave steps against scripted nodes on a fake clock: a newcomer is asked only
once it is in its own ring, a forced removal is asked again until every member says the node
left, and a step that never finishes times out naming itself."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.core import ClientError, LeaveTimeout, Waiting, leave_and_wait
from cluster.core.leave_steps import FORCE_RESEND_S


class Scripted:
    """Nodes whose answers change with (fake) time; records the leave requests."""

    def __init__(self, in_ring_at: float = 0.0, left_after_asks: int = 1) -> None:
        self.now = 0.0
        self.in_ring_at = in_ring_at
        self.left_after_asks = left_after_asks
        self.asked: list[tuple[float, str, dict[str, Any]]] = []

    def clock(self) -> Waiting:
        def sleep(seconds: float) -> None:
            self.now += seconds

        return Waiting(now_s=lambda: self.now, sleep_s=sleep, poll_s=0.5)

    def admin(self, node: str, op: str, /, **args: Any) -> Any:
        done = len(self.asked) >= self.left_after_asks
        if op == "ring":
            owners = ["n1", "n2"] + (["n9"] if self.now >= self.in_ring_at else [])
            return {"owners": owners}
        if op == "leave":
            if self.now < self.in_ring_at:
                raise ClientError("leave: node 'n9' is not in the ring", True, node)
            self.asked.append((self.now, node, args))
            return {}
        if op == "status":
            status = "left" if done else "joining"
            return {"status": status, "peers": {"n9": {"status": status}}}
        raise AssertionError(op)


def test_a_node_that_just_joined_is_asked_to_leave_once_it_is_in_its_own_ring() -> None:
    nodes = Scripted(in_ring_at=3.0)
    leave_and_wait(
        nodes.admin,
        "n9",
        running=True,
        via="n1",
        others=lambda: ["n1", "n2"],
        waiting=nodes.clock(),
        timeout_s=60,
    )
    assert nodes.asked == [(3.0, "n9", {"node": "n9", "force": False})]


def test_a_forced_removal_is_asked_again_until_every_member_says_the_node_left() -> None:
    nodes = Scripted(left_after_asks=3)  # the first two removals were undone by a peer
    leave_and_wait(
        nodes.admin,
        "n9",
        running=False,
        via="n1",
        others=lambda: ["n1", "n2"],
        waiting=nodes.clock(),
        timeout_s=60,
    )
    assert [(at, via, args["force"]) for at, via, args in nodes.asked] == [
        (0.0, "n1", True),
        (FORCE_RESEND_S, "n1", True),
        (2 * FORCE_RESEND_S, "n1", True),
    ]


def test_a_step_that_never_finishes_times_out_naming_it() -> None:
    nodes = Scripted(in_ring_at=1e9)
    with pytest.raises(LeaveTimeout, match="after 10 s waiting for n9 to enter the ring"):
        leave_and_wait(
            nodes.admin,
            "n9",
            running=True,
            via="n1",
            others=lambda: ["n1"],
            waiting=nodes.clock(),
            timeout_s=10,
        )
    assert nodes.asked == [] and nodes.now == pytest.approx(10.0)
