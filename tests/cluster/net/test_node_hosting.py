"""``NodeHosting``: nodes started through a launcher, answering the harness on a control address
of their own (a Unix socket) besides the one their peers dial — what ``--net kernel`` builds on
— and a cluster file that keeps all of it for ``LocalCluster.load``. Runs as any user."""

from __future__ import annotations

import json
from pathlib import Path

from cluster.core import ClusterConfig
from cluster.net import Client, LocalCluster
from cluster.net.local import HOST


class SocketHosting:
    """Loopback for the peers, a Unix socket per node for clients, ``env`` as the launcher."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def host(self, node: str) -> str:
        return HOST

    def launcher(self, node: str) -> list[str]:
        return ["env", f"ZYNAMO_TEST_LAUNCHED={node}"]

    def control(self, node: str) -> str | None:
        return f"ipc://{self.directory / node}.sock"


def test_nodes_answer_on_their_control_sockets_and_load_keeps_them(tmp_path: Path) -> None:
    config = ClusterConfig(nodes=("n1", "n2"), partitions=8)
    with LocalCluster(tmp_path / "c", config, hosting=SocketHosting(tmp_path)) as cluster:
        assert cluster.endpoints == {n: f"ipc://{tmp_path / n}.sock" for n in config.nodes}
        cluster.start()
        environ = Path(f"/proc/{cluster.pid('n1')}/environ").read_bytes()
        assert b"ZYNAMO_TEST_LAUNCHED=n1" in environ  # started through the launcher
        with Client(cluster.endpoints, timeout_ms=2000) as client:
            client.put("k", "v", node="n1")
            assert client.get("k", node="n2").values == ["v"]  # the peers talk over TCP
        saved = json.loads(cluster.cluster_file.read_text())["nodes"]["n2"]
        assert saved["control"] == f"ipc://{tmp_path / 'n2'}.sock"
        assert saved["launcher"] == ["env", "ZYNAMO_TEST_LAUNCHED=n2"]
        again = LocalCluster.load(cluster.directory)
        assert again.endpoints == cluster.endpoints
        with again.client() as client:
            assert client.admin("n2", "ping") is not None
