"""Versions (``cluster.core.versions.version``): a version read from JSON or built by a
versioning equals the version built from its fields by the public constructor, with the same
canonical text, JSON form and value."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given

from cluster.core.versions import Siblings, Versioning
from tests.cluster.core.versions.strategies import rich_states


@given(rich_states())
def test_versions_read_or_written_equal_versions_built_from_their_fields(
    case: tuple[Versioning, Siblings],
) -> None:
    _, state = case
    for source in (state, Siblings.from_json(json.loads(json.dumps(state.to_json())))):
        for v in source.versions:
            fields = {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.init}
            rebuilt = type(v)(**fields)
            assert rebuilt == v and hash(rebuilt) == hash(v) and repr(rebuilt) == repr(v)
            assert rebuilt.sort_key == v.sort_key and rebuilt.to_json() == v.to_json()
            assert rebuilt.value == v.value
