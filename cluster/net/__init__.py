"""The real shell: Zynamo nodes as OS processes talking over ZeroMQ, and the clients to them.

- ``cluster.net.server`` — one node process: a ``zmq.Poller`` loop around a ``cluster.core``
  ``Node``, SQLite storage, timers on the monotonic clock (run by ``python -m cluster.net``);
- ``cluster.net.frames`` — how messages travel in ZeroMQ frames (batches);
- ``cluster.net.io_threads`` — scheduling of ZeroMQ's I/O threads;
- ``cluster.net.message_faults`` — drop, duplicate, reorder, delay of peer messages, set
  through the node's ``message-faults`` admin op;
- ``cluster.net.client`` — ``Client`` (blocking) and ``AsyncClient`` (asyncio);
- ``cluster.net.local`` — ``LocalCluster``: node processes on loopback, their faults
  (kill, pause, restart) and membership changes; ``NodeHosting`` places them elsewhere.

Network, file, process and signal I/O. What other packages may use is in ``__all__``.
"""

from cluster.core import ClientError, GetResult, PutResult
from cluster.net.client import AsyncClient, Client
from cluster.net.local import CLUSTER_FILE, ClusterError, LocalCluster, NodeHosting, free_ports

__all__ = [
    "CLUSTER_FILE",
    "AsyncClient",
    "Client",
    "ClientError",
    "ClusterError",
    "GetResult",
    "LocalCluster",
    "NodeHosting",
    "PutResult",
    "free_ports",
]
