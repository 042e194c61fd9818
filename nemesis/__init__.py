"""Faults: the embedded Toxiproxy-compatible server and its client, grudges computed as
data, and the adapters that apply network, process, clock and membership faults."""

# The built-in faults register themselves on import: no reader of the registry misses them.
from nemesis import faults as _builtin_faults  # noqa: F401
