"""Versions (``cluster.core.versions.version``): a version read from JSON or built by a
versioning equals the version built from its fields by the public constructor, with the same
canonical text, JSON form and value; a value's canonical text is the stdlib encoder's, and reads
back as the stdlib reads it."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from cluster.core.versions import Siblings, Versioning
from cluster.core.versions.encoding import _decode_value, _encode_value
from tests.cluster.core.versions.strategies import canonical, json_values, rich_states


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


# The fast paths' shapes (lists of plain ints, with big ints and bools among them) and the rest.
@given(
    st.lists(st.integers(-(2**70), 2**70)) | st.lists(st.integers() | st.booleans()) | json_values
)
def test_a_values_canonical_text_is_the_stdlib_encoders_and_reads_back_as_the_stdlib_reads_it(
    value: object,
) -> None:
    text = _encode_value(value)
    assert text == canonical(value)
    assert _decode_value(text) == json.loads(text)
    assert type(_decode_value(text)) is type(json.loads(text))
