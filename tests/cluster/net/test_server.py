"""The real node server on a 5-node local cluster: requests, siblings, forwarding, quorums,
garbage on the socket, the admin channel, and a clean SIGTERM. Real processes and sockets."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq

from cluster.core.config import ClusterConfig
from cluster.core.ring import Ring
from cluster.net import AsyncClient, Client, ClientError
from cluster.net.local import LocalCluster

NODES = ("n1", "n2", "n3", "n4", "n5")
CONFIG = ClusterConfig(nodes=NODES, n=3, r=2, w=2)
RING = Ring.build(CONFIG.nodes, CONFIG.partitions)


def outsider(key: str) -> str:
    """A node that is not one of ``key``'s primaries."""
    return next(n for n in NODES if n not in RING.primaries(key, CONFIG.n))


def test_put_get_delete_round_trip(client: Client) -> None:
    assert not client.get("rt").found
    written = client.put("rt", {"cart": ["milk"]})
    assert written.coordinator in RING.primaries("rt", 3)
    read = client.get("rt")
    assert read.found and read.values == [{"cart": ["milk"]}]
    assert read.clock == written.version
    client.put("rt", {"cart": ["milk", "eggs"]}, context=read.context)
    assert client.get("rt").values == [{"cart": ["milk", "eggs"]}]
    client.delete("rt", context=client.get("rt").context)
    gone = client.get("rt")
    assert not gone.found and gone.values == []


def test_concurrent_writes_with_the_same_context_become_siblings(client: Client) -> None:
    client.put("sib", "base")
    context = client.get("sib").context
    first, second = RING.primaries("sib", 3)[:2]
    client.put("sib", "left", context=context, node=first)
    client.put("sib", "right", context=context, node=second)
    read = client.get("sib", r=3)
    assert sorted(read.values) == ["left", "right"]  # base is superseded by both
    # Writing back with the merged context resolves the conflict.
    client.put("sib", "merged", context=read.context)
    assert client.get("sib", r=3).values == ["merged"]


def test_a_node_outside_the_preference_list_forwards_to_a_primary(client: Client) -> None:
    key = "forwarded"
    asked = outsider(key)
    written = client.put(key, "v", node=asked)
    read = client.get(key, node=asked)
    assert written.node == asked and read.node == asked
    assert written.coordinator in RING.primaries(key, 3)
    assert read.coordinator in RING.primaries(key, 3)
    assert read.values == ["v"]


def test_per_request_quorums(client: Client) -> None:
    key = "quorums"
    assert len(client.put(key, 1, w=3).replicas) == 3
    assert len(client.get(key, r=3).replicas) == 3
    assert len(client.get(key, r=1).replicas) >= 1
    with pytest.raises(ClientError) as refused:
        client.get(key, r=4)  # only N=3 replicas exist: refused before anything is sent
    assert refused.value.definite


def test_garbage_frames_are_logged_and_the_node_keeps_serving(
    cluster: LocalCluster, client: Client
) -> None:
    log = cluster.log_path("n2")
    before = log.read_text().count("garbage from")
    context = zmq.Context()
    raw = context.socket(zmq.DEALER)
    raw.setsockopt(zmq.LINGER, 0)
    raw.setsockopt(zmq.IDENTITY, b"vandal")
    raw.connect(cluster.endpoints["n2"])
    try:
        garbage: list[list[bytes]] = [
            [b"\xff\xfe\x00binary"],  # not UTF-8
            [b"{not json"],  # invalid JSON
            [b'"text"'],  # JSON, but not an object
            [b"[]"],  # an empty batch
            [b'{"t": "no-such-type", "req": 1}'],  # unknown type
            [b'{"t": "get", "req": 1}'],  # missing fields
            [b'{"t": "get", "req": -5, "key": "k"}'],  # a field of the wrong kind
            [b'{"t": "get", "req": 1, "key": "k", "bogus": 1}'],  # unknown field
            [b"a", b"b"],  # too many frames
            [b""],  # empty
        ]
        for frames in garbage:
            raw.send_multipart(frames)
        # The node still answers, on another connection and on the vandal's own.
        assert client.get("after-garbage", node="n2").found is False
        raw.send(b'{"t":"admin","req":77,"op":"ping","args":{}}')
        assert raw.poll(2000), "the node stopped answering after garbage"
        assert json.loads(raw.recv())["req"] == 77
        # A batch with a bad item: the item is logged, the rest served.
        raw.send(b'[{"t":"nope"},{"t":"admin","req":78,"op":"ping","args":{}}]')
        assert raw.poll(2000), "the node dropped a batch for one bad item"
        assert json.loads(raw.recv())["req"] == 78
    finally:
        raw.close(0)
        context.term()
    deadline = time.monotonic() + 5
    while log.read_text().count("garbage from") - before < len(garbage) + 1:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)
    text = log.read_text()
    assert "b'vandal'" in text and "not JSON" in text and "unknown message type" in text
    assert "expected 2 frames" in text and "missing fields" in text
    assert "an empty batch" in text and "batch item 0: unknown message type 'nope'" in text


def test_admin_channel(cluster: LocalCluster, client: Client) -> None:
    assert client.admin("n3", "ping")["node"] == "n3"
    status = client.admin("n3", "status")
    assert status["node"] == "n3" and status["generation"] == 1
    assert status["up"] == list(NODES)
    assert status["pid"] == cluster.pid("n3")
    assert set(status["links"]) == set(NODES) - {"n3"}
    assert Ring.from_json(client.admin("n1", "ring")) == RING
    written = client.put("adm", "x", w=3)
    for node in written.replicas:
        replica = client.admin(node, "replica", key="adm")
        assert replica["values"] == ["x"] and replica["clocks"] == [written.version]
        assert "adm" in client.admin(node, "keys")
    with pytest.raises(ClientError, match="unknown admin op 'nope'"):
        client.admin("n1", "nope")


def test_async_client_multiplexes_concurrent_requests(cluster: LocalCluster) -> None:
    async def scenario() -> list[list[object]]:
        async with AsyncClient(cluster.endpoints, timeout_ms=3000) as aclient:
            await asyncio.gather(*(aclient.put(f"async-{i}", i) for i in range(60)))
            reads = await asyncio.gather(*(aclient.get(f"async-{i}") for i in range(60)))
            return [r.values for r in reads]

    assert asyncio.run(scenario()) == [[i] for i in range(60)]


def test_sigterm_stops_a_node_cleanly(tmp_path: Path) -> None:
    single = LocalCluster(tmp_path, ClusterConfig(nodes=("solo",), n=1, r=1, w=1))
    single.save()
    node_dir = tmp_path / "solo"
    command = [sys.executable, "-m", "cluster.net", "--name", "solo", "--dir", str(node_dir)]
    command += ["--cluster", str(single.cluster_file)]
    proc = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[3])
    try:
        with Client(single.endpoints, timeout_ms=500) as solo:
            deadline = time.monotonic() + 20
            while True:
                try:
                    solo.put("k", "v")
                    break
                except ClientError:
                    assert time.monotonic() < deadline, "the node never answered"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert "node solo stopped" in (node_dir / "node.log").read_text()
