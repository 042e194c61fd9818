"""Versions of a key: sibling sets, causal contexts, and the three ways a cluster can version.

A replica's state of one key is a ``Siblings`` value: a set of concurrent versions, each holding
a JSON-able value (``None`` is a tombstone, the trace of a delete). A get returns the merged
siblings and an opaque ``Context``; a put hands that context back so the coordinator knows what
the client had seen (DeCandia et al. 2007, §4.1, §4.4). Three versionings, chosen per cluster
(``versioning = dvv | vclock | lww``, see ``versioning``): dotted version vectors (``dvv``, the
default), the paper's vector clocks (``vclock``) and last write wins (``lww``).

This is the package's facade; its modules, each with one responsibility, import only downwards:

- ``encoding``: canonical JSON of values and the field checks the others share;
- ``context``: ``Context``, the causal context and its opaque wire text;
- ``version``: the version classes of the three versionings and their JSON form;
- ``siblings``: ``Siblings``, a state of concurrent versions, its stored form and digest;
- ``scheme``: the ``Versioning`` protocol and the helpers the schemes share;
- ``dvv``, ``vclock``, ``lww``: the three versionings;
- ``registry``: ``VERSIONINGS`` and ``versioning(name)``.

Pure values: no I/O, no clock, no randomness.
"""

from cluster.core.versions.context import EMPTY_CONTEXT, Context
from cluster.core.versions.registry import VERSIONINGS, versioning
from cluster.core.versions.scheme import Versioning
from cluster.core.versions.siblings import Siblings
from cluster.core.versions.vclock import VCLOCK_MAX_ENTRIES
from cluster.core.versions.version import DvvVersion, LwwVersion, VclockVersion, Version

__all__ = [
    "EMPTY_CONTEXT",
    "VCLOCK_MAX_ENTRIES",
    "VERSIONINGS",
    "Context",
    "DvvVersion",
    "LwwVersion",
    "Siblings",
    "VclockVersion",
    "Version",
    "Versioning",
    "versioning",
]
