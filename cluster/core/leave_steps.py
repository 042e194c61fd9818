"""How an operator takes a node out of the cluster, step by step: the steps ``LocalCluster.leave``
(real processes, wall-clock time) and ``SimEnvironment.leave`` (virtual time) share.

1. A running node that joined moments ago is not in the ring yet, and only a ring member can
   hand off and leave: wait until the node's own view has it in the ring.
2. Ask for the leave: the node itself when it runs (it hands its data off), else another
   member, by force (``Membership.remove``: nothing to hand off).
3. Wait until the node (when it runs) and every member still watching say it left. A forced
   removal is asked again now and then: a peer that knew a newer generation of the node than
   the member asked undoes a removal made at the older one, and asking again from the merged
   view makes it stick.

Pure: it talks to nodes only through the ``admin`` callable it is given (which raises
``ClientError`` when a node does not answer or refuses) and waits only through the given
``Waiting`` clock, so the same steps run in real and in virtual time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cluster.core.client import ClientError

FORCE_RESEND_S = 5.0  # how often a forced removal is asked again while waiting for it


class Admin(Protocol):
    """An admin request to ``node``: its reply's data, or ``ClientError``."""

    def __call__(self, node: str, op: str, /, **args: Any) -> Any: ...


@dataclass(frozen=True)
class Waiting:
    """The clock the steps wait on: seconds now, sleeping, and how often to look again."""

    now_s: Callable[[], float]
    sleep_s: Callable[[float], None]
    poll_s: float


class LeaveTimeout(TimeoutError):
    """A step did not finish in time; the message says which."""


def leave_and_wait(
    admin: Admin,
    node: str,
    *,
    running: bool,
    via: str,
    others: Callable[[], Sequence[str]],
    waiting: Waiting,
    timeout_s: float,
) -> None:
    """Take ``node`` out (steps 1-3 above) within ``timeout_s``. ``running``: the node runs and
    can hand off; ``via``: the member asked to remove it when it does not; ``others()``: the
    members that must see it leave (called at each look, so one that stops meanwhile is no
    longer waited for). ``ClientError`` if the request is refused; ``LeaveTimeout``."""
    deadline = waiting.now_s() + timeout_s

    def wait_until(check: Callable[[], bool], what: str) -> None:
        while True:
            try:
                if check():
                    return
            except ClientError:
                pass  # a node busy, paused or restarting: ask again
            if waiting.now_s() >= deadline:
                raise LeaveTimeout(f"timed out after {timeout_s:g} s waiting for {what}")
            waiting.sleep_s(waiting.poll_s)

    if running:
        wait_until(
            lambda: node in admin(node, "ring")["owners"], f"{node} to enter the ring to leave it"
        )
    remover = node if running else via
    admin(remover, "leave", node=node, force=not running)
    resend_at = waiting.now_s() + FORCE_RESEND_S

    def left_everywhere() -> bool:
        nonlocal resend_at
        if not running and waiting.now_s() >= resend_at:
            resend_at = waiting.now_s() + FORCE_RESEND_S
            with contextlib.suppress(ClientError):  # busy: it is asked again later
                admin(remover, "leave", node=node, force=True)  # idempotent
        if running and admin(node, "status")["status"] != "left":
            return False
        # ... and everyone knows, before the node stops gossiping.
        return all(
            admin(other, "status")["peers"].get(node, {}).get("status") == "left"
            for other in others()
        )

    wait_until(left_everywhere, f"{node} to hand off its data and leave")
