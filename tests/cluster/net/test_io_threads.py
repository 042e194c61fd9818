"""ZeroMQ's background threads are put under SCHED_BATCH (so a send does not preempt its
sender), and only those of the context that was just started."""

from __future__ import annotations

import os
import sys

import pytest
import zmq

from cluster.net.io_threads import defer_new_io_threads, threads

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def test_only_the_new_contexts_threads_are_deferred() -> None:
    first = zmq.Context()
    second = zmq.Context()
    sockets: list[zmq.Socket[bytes]] = []
    try:
        earlier = threads()
        sockets.append(first.socket(zmq.DEALER))  # starts the first context's threads
        before = threads()
        firsts = before - earlier
        assert firsts, "a context with a socket has its own threads"
        sockets.append(second.socket(zmq.DEALER))
        new = threads() - before
        assert defer_new_io_threads(before) == len(new) >= second.get(zmq.IO_THREADS)
        assert {os.sched_getscheduler(tid) for tid in new} == {os.SCHED_BATCH}
        assert {os.sched_getscheduler(tid) for tid in firsts} == {os.SCHED_OTHER}
    finally:
        for sock in sockets:
            sock.close(0)
        first.term()
        second.term()


def test_nothing_new_nothing_changed() -> None:
    assert defer_new_io_threads(threads()) == 0
