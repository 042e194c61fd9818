"""States of a key (``cluster.core.versions.siblings``): they survive their JSON form with
their digest, their stored forms still load and write back unchanged, malformed states are
refused naming the problem, ``values`` are the distinct live values (and ``holds`` says which
values those are), and the JSON handed out is a fresh copy the caller may change."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given

from cluster.core.versions import EMPTY_CONTEXT, VERSIONINGS, Siblings, Versioning, versioning
from tests.cluster.core.versions.strategies import (
    canonical,
    json_values,
    rich_states,
    run_and_states,
)


@given(run_and_states(2))
def test_siblings_round_trip_through_json_text(case: tuple[Versioning, list[Siblings]]) -> None:
    _, (a, b) = case
    wire = json.loads(json.dumps(a.to_json()))
    assert Siblings.from_json(wire) == a
    assert Siblings.from_json(wire).digest() == a.digest()
    # Equal states have equal JSON and digests; different states different ones.
    assert (a == b) == (a.to_json() == b.to_json()) == (a.digest() == b.digest())


@given(run_and_states(1))
def test_values_are_the_distinct_live_values_in_json_order(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (state,) = case
    live = {v.value_json for v in state.versions if v.value_json != "null"}
    assert [json.dumps(x, sort_keys=True, separators=(",", ":")) for x in state.values] == sorted(
        live
    )
    assert len(mode.clocks(state)) == len(state.versions)
    assert state.is_tombstone == (bool(state.versions) and not live)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"value": 1}, "expected a list"),
        ([1], r"siblings\[0\]: expected an object"),
        ([{"value": 1, "dot": ["a", 0], "past": {}}], r"'dot' must be"),
        ([{"value": 1, "dot": ["a", 2], "past": {"a": 2}}], "already in its own past"),
        ([{"value": 1, "dot": ["a", 1], "past": {"b": "1"}}], "'past' must map"),
        ([{"value": 1, "clock": {}}], "'clock' must map"),
        ([{"value": 1, "clock": {"a": [1]}}], "'clock' must map"),
        ([{"value": 1, "ts": -1, "node": "a"}], "'ts' must be"),
        ([{"value": 1, "when": 3}], "unknown version shape"),
        (
            [{"value": 1, "ts": 1, "node": "a"}, {"value": 1, "clock": {"a": [1, 1]}}],
            "mix versionings: lww, vclock",
        ),
    ],
)
def test_malformed_states_are_rejected(data: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Siblings.from_json(data)


# ---------------------------------------------------------------------- canonical forms


@given(rich_states())
def test_sort_keys_digests_and_json_are_the_canonical_forms(
    case: tuple[Versioning, Siblings],
) -> None:
    _, state = case
    texts = [canonical(v.to_json()) for v in state.versions]
    assert [v.sort_key for v in state.versions] == texts
    assert texts == sorted(texts) and len(set(texts)) == len(texts)  # canonical order
    wire = canonical(state.to_json())
    assert state.digest() == hashlib.sha256(wire.encode()).digest()
    assert Siblings.from_json(json.loads(wire)) == state
    assert canonical(Siblings.from_json(json.loads(wire)).to_json()) == wire


@pytest.mark.parametrize("mode_name", VERSIONINGS)
def test_json_forms_and_values_are_fresh_copies_the_caller_may_change(mode_name: str) -> None:
    mode = versioning(mode_name)
    state, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, {"items": [1, 2]}, "a", 1_000)
    before = json.dumps(state.to_json())
    value = state.to_json()[0]["value"]
    assert isinstance(value, dict)
    value["items"].append(3)
    state.to_json().append({"value": "junk"})
    state.values[0]["items"].clear()
    state.versions[0].value["items"].clear()
    assert json.dumps(state.to_json()) == before
    assert state.values == [{"items": [1, 2]}]


def test_stored_states_of_every_versioning_still_load_and_write_back_unchanged() -> None:
    stored = [
        [
            {"dot": ["n1", 3], "past": {"n1": 2, "n2": 4}, "value": "x"},
            {"dot": ["n2", 5], "past": {"n1": 2, "n2": 4}, "value": None},
        ],
        [{"clock": {"n1": [3, 1700000000000], "n2": [1, 1699999999000]}, "value": [1, "é"]}],
        [{"node": "n3", "ts": 1700000000000, "value": {"b": 1, "a": 2}}],
    ]
    for raw in stored:
        state = Siblings.from_json(json.loads(json.dumps(raw)))
        assert state.to_json() == raw
        assert state.digest() == hashlib.sha256(canonical(raw).encode()).digest()


def test_single_and_empty_states_read_from_json_are_plain_states() -> None:
    assert Siblings.from_json([]) == Siblings.EMPTY
    raw = [{"dot": ["n1", 3], "past": {"n1": 2, "n2": 4}, "value": "x"}]
    state = Siblings.from_json(raw)
    assert state == Siblings(state.versions) and vars(state) == vars(Siblings(state.versions))
    assert not state.is_tombstone and state.to_json() == raw
    deleted = Siblings.from_json([{"dot": ["n1", 4], "past": {"n1": 3}, "value": None}])
    assert deleted.is_tombstone and not Siblings.EMPTY.is_tombstone


@given(rich_states(), json_values)
def test_a_state_holds_exactly_the_values_its_live_versions_hold(
    case: tuple[Versioning, Siblings], other: object
) -> None:
    _, state = case
    live = [v.value_json for v in state.versions if v.value_json != "null"]
    for value in state.values:
        assert state.holds(value)
    assert not state.holds(None)  # a tombstone holds no value
    assert state.holds(other) == (other is not None and canonical(other) in live)
