"""The real server's group commit goes through the shared rule (``cluster.storage.GroupCommit``):
what a batch produced leaves only after the store committed it, nothing leaves if the commit
fails, and a slip planted in the shared rule changes the server's order too (so the
simulator's sweeps, which run the same rule, stand for it). One in-process ``Server`` on a
loopback port and a SQLite file; no peers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.core import AdminReply, ClusterConfig, Reply, Send
from cluster.net.server import NodeSettings, Server
from cluster.storage import GroupCommit, Outbound


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = NodeSettings(
        name="n1",
        listen=f"tcp://127.0.0.1:{free_port()}",
        dial={},
        config=ClusterConfig(nodes=("n1",), n=1, r=1, w=1),
        seed=0,
        sync="normal",
    )
    node = Server(settings, tmp_path)
    try:
        yield node
    finally:
        node.close()


def record_order(server: Server, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What happens, in order: ``commit`` (the store's) and ``send ...`` (the batch's output)."""
    order: list[str] = []
    commit = server.store.commit_batch

    def committing() -> None:
        order.append("commit")
        commit()

    def sending(effects: list[Send | Reply]) -> None:
        order.extend(f"send {type(e).__name__}" for e in effects)

    monkeypatch.setattr(server.store, "commit_batch", committing)
    monkeypatch.setattr(server, "_transmit_batch", sending)
    return order


def one_batch(server: Server) -> None:
    """A batch that writes and replies, as a put's coordinator does, then its commit."""
    held = server._held = server.group_commit.begin()
    server.store.put_text("k", "[1]")
    server.apply([Reply(b"client", AdminReply(1, True, None))])
    server._held = None
    server._commit(held, 0.0)


def test_a_batch_replies_only_after_its_commit(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = record_order(server, monkeypatch)
    one_batch(server)
    assert order == ["commit", "send Reply"]
    assert server.store.get("k") == [1]


def test_a_failed_commit_sends_nothing(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    order = record_order(server, monkeypatch)

    def failing() -> None:
        order.append("commit")
        raise OSError("disk I/O error")

    monkeypatch.setattr(server.store, "commit_batch", failing)
    monkeypatch.setattr(server.node.data, "load", lambda now_ms: None)
    one_batch(server)
    assert order == ["commit"]


def test_a_slip_in_the_shared_rule_is_the_servers_slip_too(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ack_before_commit(group: GroupCommit) -> list[Outbound]:
        held, group._held = group._held, []
        return held

    monkeypatch.setattr(GroupCommit, "seal", ack_before_commit)
    order = record_order(server, monkeypatch)
    one_batch(server)
    assert order == ["send Reply", "commit"]
