"""Properties of the three versionings: merge is a join (commutative, associative, idempotent)
that keeps exactly the causally maximal versions, ``descends`` is a partial order, contexts and
states survive the wire, and each versioning loses (or keeps) concurrent writes as documented."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.core.versions import (
    EMPTY_CONTEXT,
    VCLOCK_MAX_ENTRIES,
    VERSIONINGS,
    Context,
    DvvVersion,
    LwwVersion,
    Siblings,
    VclockVersion,
    Version,
    Versioning,
    versioning,
)

NODES = ("a", "b", "c")

# ---------------------------------------------------------------------- executions


@dataclass
class Execution:
    """A random run: replicas take writes with contexts read from anywhere earlier, sync with
    each other, and clients read merges of replicas. ``states`` is every state that existed."""

    mode: Versioning
    replicas: dict[str, Siblings] = field(
        default_factory=lambda: dict.fromkeys(NODES, Siblings.EMPTY)
    )
    states: list[Siblings] = field(default_factory=lambda: [Siblings.EMPTY])


values = st.one_of(st.integers(0, 4), st.none(), st.sampled_from(["x", [1, 2], {"k": "v"}]))
node_ids = st.sampled_from(NODES)
# (what, node, other node, which earlier state the context comes from, value, clock skew)
operations = st.tuples(
    st.sampled_from(["put", "put", "sync", "read"]),  # puts twice as likely
    node_ids,
    node_ids,
    st.integers(0, 50),
    values,
    st.integers(-15, 15),
)


@st.composite
def executions(draw: st.DrawFn, mode: str) -> Execution:
    run = Execution(versioning(mode))
    ops = draw(st.lists(operations, min_size=1, max_size=14))
    for step, (what, node, other, source, value, skew_ms) in enumerate(ops):
        if what == "put":
            context = run.mode.context(run.states[source % len(run.states)])
            # Wall clocks advance with skew, so lww and vclock timestamps can disagree with
            # causality, as they do across real nodes.
            now_ms = 1_000 + 20 * step + skew_ms
            state, _ = run.mode.update(run.replicas[node], context, value, node, now_ms)
            run.replicas[node] = state
        elif what == "sync":  # node pulls other's state (anti-entropy, read repair, handoff)
            state = run.mode.merge(run.replicas[node], run.replicas[other])
            run.replicas[node] = state
        else:  # a client reads the merge of two replicas
            state = run.mode.merge(run.replicas[node], run.replicas[other])
        run.states.append(state)
    return run


@st.composite
def run_and_states(draw: st.DrawFn, count: int) -> tuple[Versioning, list[Siblings]]:
    mode = draw(st.sampled_from(VERSIONINGS))
    run = draw(executions(mode))
    return run.mode, [draw(st.sampled_from(run.states)) for _ in range(count)]


def keys_of(s: Siblings) -> set[str]:
    return {v.sort_key for v in s.versions}


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


# ---------------------------------------------------------------------- concurrent writes


def two_concurrent_rmw(mode_name: str) -> Siblings:
    """Two clients read the same state, then each writes through the same coordinator."""
    mode = versioning(mode_name)
    first, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, "v0", "a", 1_000)
    context = mode.context(first)
    after_x, _ = mode.update(first, context, "x", "a", 2_000)
    after_y, _ = mode.update(after_x, context, "y", "a", 3_000)
    return after_y


def test_dvv_keeps_both_concurrent_writes_as_siblings() -> None:
    state = two_concurrent_rmw("dvv")
    assert state.values == ["x", "y"]
    # A client that reads both and writes back resolves them.
    dvv = versioning("dvv")
    resolved, _ = dvv.update(state, dvv.context(state), "xy", "a", 4_000)
    assert resolved.values == ["xy"]


@pytest.mark.parametrize("mode_name", ["vclock", "lww"])
def test_vclock_and_lww_lose_one_of_two_concurrent_writes(mode_name: str) -> None:
    state = two_concurrent_rmw(mode_name)
    assert state.values == ["y"]  # "x" was acknowledged and is gone


def test_vclock_gives_the_two_concurrent_writes_equal_clocks() -> None:
    vclock = versioning("vclock")
    first, _ = vclock.update(Siblings.EMPTY, EMPTY_CONTEXT, "v0", "a", 1_000)
    context = vclock.context(first)
    _, clock_x = vclock.update(first, context, "x", "a", 2_000)
    _, clock_y = vclock.update(first, context, "y", "a", 3_000)
    assert clock_x == clock_y == {"a": 2}


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


def test_lww_keeps_the_later_timestamp_even_when_it_arrives_first() -> None:
    lww = versioning("lww")
    newer, _ = lww.update(Siblings.EMPTY, EMPTY_CONTEXT, "new", "a", 2_000)
    after, _ = lww.update(newer, EMPTY_CONTEXT, "old", "b", 1_000)
    assert after.values == ["new"]
    assert lww.context(after) == EMPTY_CONTEXT and lww.clocks(after) == [{}]


# ---------------------------------------------------------------------- vclock truncation


def test_vclock_truncation_keeps_ten_entries_and_drops_the_oldest() -> None:
    vclock = versioning("vclock")
    state = Siblings.EMPTY
    writers = [f"n{i:02d}" for i in range(14)]
    for i, node in enumerate(writers):
        state, clock = vclock.update(state, vclock.context(state), i, node, 1_000 + i)
        assert len(clock) <= VCLOCK_MAX_ENTRIES
    (newest,) = [v for v in state.versions if v.value == 13]
    assert isinstance(newest, VclockVersion)
    # The four oldest writers were dropped; the ten newest survive, the writer included.
    assert sorted(newest.clock()) == writers[-VCLOCK_MAX_ENTRIES:]
    # The price the paper warns of (§4.4): a truncated clock no longer shows that it descends
    # the versions it replaced, so they linger as false siblings.
    assert state.values == [10, 11, 12, 13, 9]


def test_vclock_truncation_never_drops_the_coordinators_own_entry() -> None:
    vclock = versioning("vclock")
    old_stamps = {f"n{i}": 5_000 + i for i in range(VCLOCK_MAX_ENTRIES)}
    context = Context.of(dict.fromkeys(old_stamps, 1), old_stamps)
    _, clock = vclock.update(Siblings.EMPTY, context, "v", "z", 1)  # skewed, oldest stamp
    assert len(clock) == VCLOCK_MAX_ENTRIES and clock["z"] == 1
    assert "n0" not in clock


# ---------------------------------------------------------------------- wire forms


@given(run_and_states(1))
def test_context_round_trips_through_encode_and_decode(
    case: tuple[Versioning, list[Siblings]],
) -> None:
    mode, (state,) = case
    context = mode.context(state)
    text = context.encode()
    assert Context.decode(text) == context
    assert text.replace("-", "").replace("_", "").isalnum() or text == ""
    assert (text == "") == (context == EMPTY_CONTEXT)


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.integers(1, 10**12), max_size=12),
    st.data(),
)
def test_any_context_round_trips(counters: dict[str, int], data: st.DataObject) -> None:
    stamped = data.draw(st.sets(st.sampled_from(sorted(counters)))) if counters else set()
    stamps = {n: data.draw(st.integers(0, 2**45)) for n in stamped}
    context = Context.of(counters, stamps)
    decoded = Context.decode(context.encode())
    assert decoded == context
    assert decoded.as_dict() == counters


@pytest.mark.parametrize(
    "garbage",
    [
        "not base64!",
        "%%%",
        "a",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"a": 0}').decode(),
        base64.urlsafe_b64encode(b'{"a": -1}').decode(),
        base64.urlsafe_b64encode(b'{"a": "1"}').decode(),
        base64.urlsafe_b64encode(b'{"a": [1]}').decode(),
        base64.urlsafe_b64encode(b'{"a": true}').decode(),
        base64.urlsafe_b64encode(b'{"": 1}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_garbage_contexts_are_rejected(garbage: str) -> None:
    with pytest.raises(ValueError, match="malformed context"):
        Context.decode(garbage)


@given(st.text(max_size=40))
def test_decoding_any_text_gives_a_context_or_a_clear_error(text: str) -> None:
    try:
        context = Context.decode(text)
    except ValueError as err:
        assert "malformed context" in str(err)
    else:
        assert Context.decode(context.encode()) == context


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


def test_a_versioning_refuses_another_versionings_state() -> None:
    lww_state, _ = versioning("lww").update(Siblings.EMPTY, EMPTY_CONTEXT, 1, "a", 1)
    with pytest.raises(ValueError, match="siblings hold lww versions but this cluster uses"):
        versioning("dvv").merge(lww_state, Siblings.EMPTY)


def test_unknown_versioning_names_the_accepted_values() -> None:
    with pytest.raises(ValueError, match=r"unknown versioning 'crdt'.*dvv, vclock, lww"):
        versioning("crdt")


def test_values_must_be_json() -> None:
    with pytest.raises(ValueError, match="not JSON-able"):
        versioning("dvv").update(Siblings.EMPTY, EMPTY_CONTEXT, {1, 2}, "a", 1)


def test_every_named_versioning_exists() -> None:
    for name, other in product(VERSIONINGS, VERSIONINGS):
        assert (versioning(name) is versioning(other)) == (name == other)
        assert versioning(name).name == name


# ---------------------------------------------------------------------- canonical forms


def canonical(data: object) -> str:
    """The canonical JSON text, computed from scratch (not by the code under test)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
).filter(lambda v: "Infinity" not in canonical(v))


@st.composite
def rich_states(draw: st.DrawFn) -> tuple[Versioning, Siblings]:
    """A state of 0-3 concurrent versions with arbitrary JSON values and node names."""
    mode = versioning(draw(st.sampled_from(VERSIONINGS)))
    names = st.text(min_size=1, max_size=4)
    base, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, draw(json_values), draw(names), 1_000)
    state = base
    for step in range(draw(st.integers(0, 3))):
        other, _ = mode.update(
            base, mode.context(base), draw(json_values), draw(names), 2_000 + step
        )
        state = mode.merge(state, other)
    return mode, state


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


# ---------------------------------------------------------------------- hand-built states


def dvv_versions() -> st.SearchStrategy[DvvVersion]:
    """Any dvv version, including ones no cluster makes: two values claiming one dot, a dot
    already in its own past."""
    names = st.sampled_from(NODES)
    return st.builds(
        lambda value, node, counter, past: DvvVersion(
            canonical(value), node, counter, tuple(sorted(past.items()))
        ),
        st.sampled_from(["x", "y", None]),
        names,
        st.integers(1, 3),
        st.dictionaries(names, st.integers(1, 3)),
    )


def dvvs_of(s: Siblings) -> list[DvvVersion]:
    return [v for v in s.versions if isinstance(v, DvvVersion)]


@given(st.lists(dvv_versions(), max_size=4), st.lists(dvv_versions(), max_size=4))
def test_dvv_merge_and_descends_follow_seen_by_on_any_versions(
    xs: list[DvvVersion], ys: list[DvvVersion]
) -> None:
    dvv = versioning("dvv")
    a, b = Siblings(tuple(xs)), Siblings(tuple(ys))
    ours, theirs = dvvs_of(a), dvvs_of(b)
    union = ours + theirs
    survivors = {v.sort_key for v in union if not any(w != v and v.seen_by(w) for w in union)}
    assert keys_of(dvv.merge(a, b)) == survivors
    assert dvv.descends(a, b) == all(any(v.seen_by(w) for w in ours) for v in theirs)
    # A merge with itself or with nothing still drops what the state's own versions supersede.
    mine = {v.sort_key for v in ours if not any(w != v and v.seen_by(w) for w in ours)}
    assert keys_of(dvv.merge(a, a)) == keys_of(dvv.merge(a, Siblings.EMPTY)) == mine
    assert keys_of(dvv.merge(Siblings.EMPTY, a)) == mine


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x", "y", None]),
            st.dictionaries(
                st.sampled_from(NODES),
                st.tuples(st.integers(1, 3), st.integers(0, 2)),
                min_size=1,
            ),
        ),
        max_size=5,
    )
)
def test_vclock_merge_keeps_one_winner_per_maximal_clock_on_any_versions(
    specs: list[tuple[object, dict[str, tuple[int, int]]]],
) -> None:
    vclock = versioning("vclock")
    versions = [
        VclockVersion(canonical(value), tuple(sorted((n, c, t) for n, (c, t) in clock.items())))
        for value, clock in specs
    ]
    state = Siblings(tuple(versions))
    merged = vclock.merge(state, Siblings.EMPTY)
    assert merged == vclock.merge(state, state) == vclock.merge(Siblings.EMPTY, state)

    def tie(v: VclockVersion) -> tuple[int, str, str]:  # the documented order of equal clocks
        return (max(t for _, _, t in v.entries), v.value_json, v.sort_key)

    winners: dict[tuple[tuple[str, int], ...], VclockVersion] = {}
    for v in versions:
        clock = tuple(sorted(v.clock().items()))
        if clock not in winners or tie(v) > tie(winners[clock]):
            winners[clock] = v
    maximal = {
        clock
        for clock in winners
        if not any(
            other != clock and all(c <= dict(other).get(n, 0) for n, c in clock)
            for other in winners
        )
    }
    assert keys_of(merged) == {winners[clock].sort_key for clock in maximal}


# ---------------------------------------------------------------------- dvv fast paths
# The dvv merge returns an input whole when the result is that input, decides two single
# versions without the general pass, and builds states and contexts without re-validating
# what it already checked: each must give exactly what the definitions give, in canonical
# order, on any versions (hand-built ones included).


def reference_dvv_merge(a: Siblings, b: Siblings) -> Siblings:
    """The dvv merge from the definition: every version no other version has seen, put in
    canonical order by the public constructor."""
    union = dvvs_of(a) + dvvs_of(b)
    return Siblings(tuple(v for v in union if not any(w != v and v.seen_by(w) for w in union)))


@st.composite
def dvv_state_pairs(draw: st.DrawFn) -> tuple[Siblings, Siblings]:
    """Two states of hand-built versions; ``b`` may hold some of ``a``'s very objects, as a
    coordinator's new state holds the local versions its context did not cover."""
    xs = draw(st.lists(dvv_versions(), max_size=3))
    shared = draw(st.lists(st.sampled_from(xs), max_size=2)) if xs else []
    ys = draw(st.lists(dvv_versions(), max_size=3))
    return Siblings(tuple(xs)), Siblings((*shared, *ys))


def fresh(s: Siblings) -> Siblings:
    """An equal state not yet known to be maximal (a merge marks an input it returns)."""
    return Siblings(s.versions)


def over_the_wire(s: Siblings) -> Siblings:
    """An equal state as a replica reads it: new objects, from JSON."""
    return Siblings.from_json(json.loads(json.dumps(s.to_json())))


def assert_dvv_merge_is_the_definition(a: Siblings, b: Siblings) -> Siblings:
    dvv = versioning("dvv")
    merged = dvv.merge(a, b)
    expected = reference_dvv_merge(a, b)
    assert merged == expected and merged.versions == expected.versions
    assert [v.sort_key for v in merged.versions] == sorted(keys_of(merged))
    # A merge's result is remembered as maximal: merging it again must agree.
    again = dvv.merge(merged, Siblings.EMPTY)
    assert again == reference_dvv_merge(merged, Siblings.EMPTY) == merged
    return merged


@settings(max_examples=300)
@given(dvv_state_pairs())
def test_dvv_merge_fast_paths_agree_with_the_definition(pair: tuple[Siblings, Siblings]) -> None:
    a, b = pair
    assert_dvv_merge_is_the_definition(fresh(a), fresh(b))
    assert_dvv_merge_is_the_definition(fresh(b), fresh(a))
    assert_dvv_merge_is_the_definition(fresh(a), fresh(a))
    assert_dvv_merge_is_the_definition(fresh(a), Siblings(fresh(a).versions))


@settings(max_examples=300)
@given(dvv_versions(), dvv_versions())
def test_dvv_merge_of_two_single_versions_agrees_with_the_definition(
    x: DvvVersion, y: DvvVersion
) -> None:
    # Every case of two single versions: concurrent, either superseding the other, both
    # superseding each other, one dot claimed twice, a past holding its own dot.
    for a, b in ((x, y), (y, x), (x, x)):
        assert_dvv_merge_is_the_definition(Siblings((a,)), Siblings((b,)))


@settings(max_examples=150)
@given(st.data())
def test_dvv_merge_fast_paths_agree_with_the_definition_on_executions(
    data: st.DataObject,
) -> None:
    run = data.draw(executions("dvv"))
    a, b = (data.draw(st.sampled_from(run.states)) for _ in range(2))
    for x, y in ((a, b), (b, a), (a, a), (a, over_the_wire(a))):
        assert_dvv_merge_is_the_definition(over_the_wire(x), over_the_wire(y))
        assert_dvv_merge_is_the_definition(fresh(x), fresh(y))


@given(st.data())
def test_dvv_merge_returns_the_incoming_state_that_descends_the_local_one(
    data: st.DataObject,
) -> None:
    dvv = versioning("dvv")
    run = data.draw(executions("dvv"))
    local = data.draw(st.sampled_from(run.states))
    seen = data.draw(st.sampled_from(run.states))
    incoming, _ = dvv.update(local, dvv.context(seen), data.draw(values), data.draw(node_ids), 1)
    # The replica write path: the coordinator's new state descends what the replica holds,
    # and is what the replica keeps, as it came.
    stored, sent = over_the_wire(local), over_the_wire(incoming)
    assert dvv.merge(stored, sent) is sent
    assert dvv.merge(sent, stored) is sent
    assert_dvv_merge_is_the_definition(over_the_wire(local), over_the_wire(incoming))


@given(st.lists(dvv_versions(), max_size=4), st.lists(dvv_versions(), max_size=4), st.data())
def test_dvv_update_builds_the_state_the_definition_gives(
    local_versions: list[DvvVersion], seen_versions: list[DvvVersion], data: st.DataObject
) -> None:
    dvv = versioning("dvv")
    local, seen = Siblings(tuple(local_versions)), Siblings(tuple(seen_versions))
    context = dvv.context(seen)
    node, value = data.draw(node_ids), data.draw(values)
    state, clock = dvv.update(local, context, value, node, 1)
    # A fresh dot above every event of ``node`` the context or the local versions know of.
    events = [c for n, c in context.counters if n == node]
    for v in dvvs_of(local):
        events += [c for n, c in (*v.past, (v.node, v.counter)) if n == node]
    counter = max(events, default=0) + 1
    covered = context.as_dict()
    new = DvvVersion(canonical(value), node, counter, context.counters)
    concurrent = [v for v in dvvs_of(local) if covered.get(v.node, 0) < v.counter]
    expected = Siblings((new, *concurrent))
    assert state == expected and state.versions == expected.versions
    assert clock == {**covered, node: counter}
    assert list(clock) == [*covered, *([] if node in covered else [node])]


@given(st.lists(dvv_versions(), max_size=4))
def test_dvv_context_is_the_join_of_the_clocks(versions: list[DvvVersion]) -> None:
    state = Siblings(tuple(versions))
    joined: dict[str, int] = {}
    for v in dvvs_of(state):
        for n, c in v.clock().items():
            joined[n] = max(joined.get(n, 0), c)
    context = versioning("dvv").context(state)
    assert context == Context(tuple(sorted(joined.items())))
    assert context.timestamps_ms == () and vars(context) == vars(Context(context.counters))


@given(
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3), max_size=2),
)
def test_context_of_accepts_and_refuses_what_the_constructor_does(
    counters: dict[str, int], stamps: dict[str, int]
) -> None:
    for given_stamps in ({}, None, stamps):
        try:
            expected = Context(
                tuple(sorted(counters.items())), tuple(sorted((given_stamps or {}).items()))
            )
        except ValueError as err:
            with pytest.raises(ValueError, match=re.escape(str(err))):
                Context.of(counters, given_stamps)
        else:
            built = Context.of(counters, given_stamps)
            assert built == expected and vars(built) == vars(expected)


@given(
    st.dictionaries(st.text(max_size=3), st.integers(-1, 3) | st.booleans(), max_size=4),
    st.randoms(use_true_random=False),
)
def test_context_decode_takes_entries_in_any_order(
    counters: dict[str, object], rng: random.Random
) -> None:
    entries = list(counters.items())
    rng.shuffle(entries)
    text = base64.urlsafe_b64encode(json.dumps(dict(entries)).encode()).decode().rstrip("=")
    valid = all(n and type(c) is int and c >= 1 for n, c in entries)
    if not valid:
        with pytest.raises(ValueError, match="malformed context"):
            Context.decode(text)
        return
    decoded = Context.decode(text)
    assert decoded == Context(tuple(sorted(counters.items())))  # type: ignore[arg-type]
    assert vars(decoded) == vars(Context(decoded.counters))
    assert Context.decode(decoded.encode()) == decoded


def test_single_and_empty_states_read_from_json_are_plain_states() -> None:
    assert Siblings.from_json([]) == Siblings.EMPTY
    raw = [{"dot": ["n1", 3], "past": {"n1": 2, "n2": 4}, "value": "x"}]
    state = Siblings.from_json(raw)
    assert state == Siblings(state.versions) and vars(state) == vars(Siblings(state.versions))
    assert not state.is_tombstone and state.to_json() == raw
    deleted = Siblings.from_json([{"dot": ["n1", 4], "past": {"n1": 3}, "value": None}])
    assert deleted.is_tombstone and not Siblings.EMPTY.is_tombstone
