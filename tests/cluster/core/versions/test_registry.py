"""The versionings by name (``cluster.core.versions.registry``): every accepted name gives
its own versioning, and an unknown name is refused naming the accepted ones."""

from __future__ import annotations

from itertools import product

import pytest

from cluster.core.versions import VERSIONINGS, versioning


def test_unknown_versioning_names_the_accepted_values() -> None:
    with pytest.raises(ValueError, match=r"unknown versioning 'crdt'.*dvv, vclock, lww"):
        versioning("crdt")


def test_every_named_versioning_exists() -> None:
    for name, other in product(VERSIONINGS, VERSIONINGS):
        assert (versioning(name) is versioning(other)) == (name == other)
        assert versioning(name).name == name
