"""Properties every versioning has (``cluster.core.versions.scheme``): merge is a join
(commutative, associative, idempotent) that keeps exactly the causally maximal versions,
``descends`` is a partial order that agrees with merge, merges give canonical states, an update
keeps what its context did not see; and what each versioning keeps or loses of concurrent
writes, side by side."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.versions import (
    EMPTY_CONTEXT,
    VERSIONINGS,
    DvvVersion,
    LwwVersion,
    Siblings,
    VclockVersion,
    Version,
    Versioning,
    versioning,
)
from tests.cluster.core.versions.strategies import (
    canonical,
    executions,
    keys_of,
    node_ids,
    run_and_states,
    two_concurrent_rmw,
    values,
)

# ---------------------------------------------------------------------- merge is a join


@settings(max_examples=150)
@given(run_and_states(3))
def test_merge_is_commutative_associative_and_idempotent(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (a, b, c) = case
    assert mode.merge(a, b) == mode.merge(b, a)
    assert mode.merge(mode.merge(a, b), c) == mode.merge(a, mode.merge(b, c))
    assert mode.merge(a, a) == a
    assert mode.merge(a, Siblings.EMPTY) == a


@settings(max_examples=150)
@given(run_and_states(2))
def test_merge_descends_both_inputs(case: tuple[Versioning, list[Siblings]]) -> None:
    mode, (a, b) = case
    merged = mode.merge(a, b)
    assert mode.descends(merged, a)
    assert mode.descends(merged, b)
    assert mode.descends(merged, Siblings.EMPTY)


@settings(max_examples=150)
@given(run_and_states(3))
def test_descends_is_a_partial_order(case: tuple[Versioning, list[Siblings]]) -> None:
    mode, (a, b, c) = case
    assert mode.descends(a, a)
    if mode.descends(a, b) and mode.descends(b, a):
        assert a == b
    if mode.descends(a, b) and mode.descends(b, c):
        assert mode.descends(a, c)
    # descends agrees with merge: a has seen b exactly when syncing b into a changes nothing.
    assert mode.descends(a, b) == (mode.merge(a, b) == a)


def dvv_history(v: DvvVersion) -> set[tuple[str, int]]:
    """Every event in a dvv version's causal history, spelled out."""
    past = {(node, k) for node, c in v.past for k in range(1, c + 1)}
    return past | {(v.node, v.counter)}


def brute_force_maximal(union: list[Version]) -> set[str] | set[tuple[tuple[str, int], ...]]:
    """What a merge must keep, from the definitions rather than from the implementation."""
    if all(isinstance(v, DvvVersion) for v in union):
        dvvs = [v for v in union if isinstance(v, DvvVersion)]
        return {v.sort_key for v in dvvs if not any(dvv_history(v) < dvv_history(w) for w in dvvs)}
    if all(isinstance(v, VclockVersion) for v in union):
        # For vclocks the causal order only sees clocks: the maximal *clocks* must survive,
        # one version per clock (which of two writes with equal clocks is the lost update).
        clocks = {tuple(sorted(v.clock().items())) for v in union if isinstance(v, VclockVersion)}

        def below(x: tuple[tuple[str, int], ...], y: tuple[tuple[str, int], ...]) -> bool:
            return x != y and all(c <= dict(y).get(n, 0) for n, c in x)

        return {x for x in clocks if not any(below(x, y) for y in clocks)}
    lwws = [v for v in union if isinstance(v, LwwVersion)]
    return {max(lwws, key=lambda v: (v.timestamp_ms, v.node, v.value_json)).sort_key}


@settings(max_examples=150)
@given(run_and_states(2))
def test_merge_keeps_exactly_the_causally_maximal_versions(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (a, b) = case
    union = list(a.versions + b.versions)
    merged = mode.merge(a, b)
    assert keys_of(merged) <= keys_of(a) | keys_of(b)
    if not union:
        assert merged.is_empty
    elif mode.name == "vclock":
        clocks = [
            tuple(sorted(v.clock().items()))
            for v in merged.versions
            if isinstance(v, VclockVersion)
        ]
        assert len(clocks) == len(set(clocks))
        assert set(clocks) == brute_force_maximal(union)
    else:
        assert keys_of(merged) == brute_force_maximal(union)


@given(st.sampled_from(VERSIONINGS), st.data())
def test_update_keeps_what_the_context_did_not_see(mode_name: str, data: st.DataObject) -> None:
    run = data.draw(executions(mode_name))
    local = data.draw(st.sampled_from(list(run.replicas.values())))
    seen = data.draw(st.sampled_from(run.states))
    node = data.draw(node_ids)
    value = data.draw(values)
    state, clock = run.mode.update(local, run.mode.context(seen), value, node, 10_000)
    assert run.mode.descends(state, local)
    if mode_name == "dvv":
        # A dvv write is never lost, and it supersedes exactly what its context covered.
        assert any(v.value == value for v in state.versions)
        assert clock == {**run.mode.context(seen).as_dict(), node: clock[node]}
        assert all(
            run.mode.context(seen).as_dict().get(v.node, 0) < v.counter
            for v in state.versions
            if isinstance(v, DvvVersion) and v.counter != clock[node]
        )
    if mode_name == "lww":
        assert clock == {}


def test_a_versioning_refuses_another_versionings_state() -> None:
    lww_state, _ = versioning("lww").update(Siblings.EMPTY, EMPTY_CONTEXT, 1, "a", 1)
    with pytest.raises(ValueError, match="siblings hold lww versions but this cluster uses"):
        versioning("dvv").merge(lww_state, Siblings.EMPTY)


def test_values_must_be_json() -> None:
    with pytest.raises(ValueError, match="not JSON-able"):
        versioning("dvv").update(Siblings.EMPTY, EMPTY_CONTEXT, {1, 2}, "a", 1)


@settings(max_examples=150)
@given(run_and_states(3))
def test_merges_give_canonical_states_that_survive_the_wire(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (a, b, c) = case
    for merged in (mode.merge(a, b), mode.merge(mode.merge(a, b), c), mode.merge(c, c)):
        fresh = Siblings.from_json(json.loads(json.dumps(merged.to_json())))
        assert fresh == merged
        assert fresh.digest() == merged.digest()
        assert [v.sort_key for v in merged.versions] == sorted(
            canonical(v.to_json()) for v in merged.versions
        )
        assert mode.context(fresh) == mode.context(merged)
        assert mode.descends(fresh, merged) and mode.descends(merged, fresh)


# ---------------------------------------------------------------------- concurrent writes


@pytest.mark.parametrize("mode_name", ["vclock", "lww"])
def test_vclock_and_lww_lose_one_of_two_concurrent_writes(mode_name: str) -> None:
    state = two_concurrent_rmw(mode_name)
    assert state.values == ["y"]  # "x" was acknowledged and is gone


@pytest.mark.parametrize("mode_name", ["dvv", "vclock"])
def test_concurrent_writes_through_different_coordinators_are_siblings(mode_name: str) -> None:
    mode = versioning(mode_name)
    base, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, "v0", "a", 1_000)
    context = mode.context(base)
    at_a, _ = mode.update(base, context, "x", "a", 2_000)
    at_b, _ = mode.update(base, context, "y", "b", 2_000)
    assert mode.merge(at_a, at_b).values == ["x", "y"]


@pytest.mark.parametrize("mode_name", VERSIONINGS)
def test_a_delete_supersedes_what_it_saw_and_only_that(mode_name: str) -> None:
    mode = versioning(mode_name)
    written, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, "x", "a", 1_000)
    deleted, _ = mode.update(written, mode.context(written), None, "a", 2_000)
    assert deleted.is_tombstone and deleted.values == [] and not deleted.is_empty
    # A write the delete did not see (through another coordinator) survives it, except under
    # lww where the later timestamp simply wins.
    concurrent, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, "y", "b", 1_500)
    merged = mode.merge(deleted, concurrent)
    assert merged.values == ([] if mode_name == "lww" else ["y"])
