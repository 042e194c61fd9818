"""The Dynamo node, in four layers (imports point down this list, never up):

- ``cluster.core`` — the sans-IO protocol: the node and its sub-machines, quorum cores, ring,
  versions, messages, failure detector, Merkle trees, effects. No I/O at all: messages and
  timers in, effects out; storage through the ``Store`` port it is given.
- ``cluster.storage`` — the ``Store`` implementations: SQLite (real nodes), memory (simulator).
- ``cluster.net`` — the real shell: the ZeroMQ server process, frames, I/O threads, the
  clients, local clusters of OS processes.
- ``cluster.sim`` — the other shell: every node in one process on a virtual clock and a seeded
  network.

``net`` and ``sim`` both drive ``core`` and never import each other. Code outside a layer
imports that layer's facade (its ``__init__``), never its modules.
"""
