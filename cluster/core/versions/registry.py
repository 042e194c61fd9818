"""The versionings by name: what ``versioning = dvv | vclock | lww`` in a cluster's config
selects. ``VERSIONINGS`` lists the accepted names (``dvv``, the default, first); ``versioning``
gives the one shared instance of each (they hold no state). Pure: no I/O.
"""

from __future__ import annotations

from cluster.core.versions.dvv import Dvv
from cluster.core.versions.lww import Lww
from cluster.core.versions.scheme import Versioning
from cluster.core.versions.vclock import Vclock

VERSIONINGS = ("dvv", "vclock", "lww")

_VERSIONINGS: dict[str, Versioning] = {"dvv": Dvv(), "vclock": Vclock(), "lww": Lww()}


def versioning(name: str) -> Versioning:
    """The versioning called ``name``; ``ValueError`` naming the accepted values otherwise."""
    try:
        return _VERSIONINGS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown versioning {name!r}; accepted values: {', '.join(VERSIONINGS)}"
        ) from None
