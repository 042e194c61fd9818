"""Scheduling of ZeroMQ's background I/O threads, so that a send does not cost two context
switches.

A ZeroMQ context moves every message through its own I/O thread: a ``send`` puts the message
on a queue and wakes that thread. Under Linux's default policy the woken thread preempts the
sender at once — on a busy 2-core machine it usually shares the sender's core — so each send
pays a switch to the I/O thread and one back, and a node sending three messages in a row pays
it three times. Putting the I/O threads under ``SCHED_BATCH`` ("mildly disfavoured on wake-up")
lets the sender finish its work and block in ``poll``; the I/O thread then runs and writes
every queued message in one go. Measured with the benchmark's client against echo servers: a
fifth less CPU per request and a fifth more throughput; a node answering pings: a quarter less
CPU per request. Nothing else changes: the thread still runs as soon as the core is free, at
the same priority.

Linux only (reads ``/proc``); elsewhere, or if the kernel refuses, nothing happens. Does OS
I/O, no network.
"""

from __future__ import annotations

import os
from pathlib import Path

_TASKS = Path("/proc/self/task")
_PROCESS_NAME = Path("/proc/self/comm")


def _name(tid: int | str) -> str | None:
    try:
        return (_TASKS / str(tid) / "comm").read_text().strip()
    except OSError:  # the thread ended meanwhile
        return None


def threads() -> set[int]:
    """The ids of this process's threads (empty where ``/proc`` is not)."""
    try:
        return {int(task.name) for task in _TASKS.iterdir()}
    except OSError:
        return set()


def defer_new_io_threads(before: set[int]) -> int:
    """Put the ZeroMQ threads started since ``threads()`` returned ``before`` (those of the
    context that just made its first socket) under ``SCHED_BATCH``; returns how many.

    A new thread names itself (``ZMQbg/IO/0``, ``ZMQbg/Reaper``) only once it runs, so one
    still bearing the process's name is taken to be ZeroMQ's too (the reaper, which only
    closes sockets, is none the worse for it)."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:
        return 0
    try:
        unnamed = _PROCESS_NAME.read_text().strip()
    except OSError:
        return 0
    changed = 0
    for tid in threads() - before:
        name = _name(tid)
        if name is None or not (name.startswith("ZMQbg/") or name == unnamed):
            continue
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(0))
        except OSError:
            continue
        changed += 1
    return changed
