"""The quorum cores on their own (riak_kv's get_core / put_core tests): what a coordinator
decides from the replies it has, in any order, without a node or a network."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.core.quorum import GetCore, PutCore
from cluster.core.ring import Target
from cluster.core.versions import Siblings, versioning

DVV = versioning("dvv")
P1, P2, P3 = Target("n1"), Target("n2"), Target("n3")
FALLBACK = Target("n4", hint_for="n3")  # n4 stands in for the down n3


def write(value: object, actor: str, base: Siblings = Siblings.EMPTY) -> Siblings:
    """A write of ``value`` coordinated by ``actor`` by a client that read ``base``."""
    return DVV.update(base, DVV.context(base), value, actor, 0)[0]


# --------------------------------------------------------------------------- GetCore


def test_a_get_answers_once_r_replicas_answered_with_the_merge_of_what_they_hold() -> None:
    old = write("old", "n1")
    new = write("new", "n2", base=old)
    core = GetCore([P1, P2, P3], r=2)
    core.add_result("n1", old)
    assert not core.enough()
    core.add_result("n2", new)
    assert core.enough() and not core.complete
    outcome, merged = core.response(DVV)
    assert outcome.ok and outcome.replicas == ["n1", "n2"] and outcome.fallbacks == []
    assert merged.values == ["new"]  # the newer write supersedes the one it read


def test_concurrent_writes_come_back_as_siblings() -> None:
    core = GetCore([P1, P2, P3], r=2)
    core.add_result("n1", write("a", "n1"))
    core.add_result("n2", write("b", "n2"))
    _, merged = core.response(DVV)
    assert sorted(merged.values) == ["a", "b"]


def test_a_get_fails_as_soon_as_r_can_no_longer_be_reached() -> None:
    core = GetCore([P1, P2, P3], r=2)
    core.add_result("n1", None)  # an error
    assert not core.enough()
    core.add_result("n2", None)
    assert core.enough()  # n3 alone cannot make r=2: no need to wait for it
    outcome, merged = core.response(DVV)
    assert not outcome.ok and outcome.replicas == [] and merged.is_empty
    assert "only 0 of r=2" in outcome.error


def test_pr_counts_primaries_only() -> None:
    core = GetCore([P1, P2, FALLBACK], r=2, pr=2)
    core.add_result("n1", Siblings.EMPTY)
    core.add_result("n4", Siblings.EMPTY)
    assert not core.enough()  # two answers, one primary: n2 may still make it
    core.add_result("n2", None)
    assert core.enough()
    outcome, _ = core.response(DVV)
    assert not outcome.ok and outcome.fallbacks == ["n4"]
    assert "(1 primaries, 2 required)" in outcome.error


def test_replies_from_non_targets_and_repeated_replies_are_ignored() -> None:
    core = GetCore([P1, P2, P3], r=2)
    core.add_result("n1", write("v", "n1"))
    core.add_result("n1", write("w", "n1"))
    core.add_result("n9", write("x", "n9"))
    assert not core.enough()
    outcome, merged = core.response(DVV)
    assert outcome.replicas == ["n1"] and merged.values == ["v"]


def test_read_repair_sends_the_merge_to_every_replica_that_answered_with_less() -> None:
    old = write("old", "n1")
    new = write("new", "n2", base=old)
    core = GetCore([P1, P2, FALLBACK], r=2)
    core.add_result("n1", old)
    core.add_result("n2", new)
    core.add_result("n4", Siblings.EMPTY)  # the fallback holds nothing yet
    assert core.complete
    repairs = core.read_repairs(DVV)
    assert [t for t, _ in repairs] == [P1, FALLBACK]  # n2 already holds the merge
    assert all(state.values == ["new"] for _, state in repairs)


def test_no_read_repair_when_nothing_is_held_or_replicas_share_one_state() -> None:
    empty = GetCore([P1, P2, P3], r=2)
    empty.add_result("n1", Siblings.EMPTY)
    empty.add_result("n2", Siblings.EMPTY)
    assert empty.read_repairs(DVV) == []
    same = write("v", "n1")
    agreeing = GetCore([P1, P2, P3], r=2)
    for node in ("n1", "n2", "n3"):
        agreeing.add_result(node, same)  # digest reads hand back the coordinator's object
    assert agreeing.read_repairs(DVV) == []


@pytest.mark.parametrize(
    ("r", "pr", "targets"),
    [(0, 0, [P1]), (2, 3, [P1, P2, P3]), (2, -1, [P1, P2]), (1, 0, [P1, Target("n1", "n2")])],
)
def test_impossible_quorum_settings_are_refused(r: int, pr: int, targets: list[Target]) -> None:
    with pytest.raises(ValueError):
        GetCore(targets, r, pr)
    with pytest.raises(ValueError):
        PutCore(targets, r, pr)


TARGETS = [P1, P2, FALLBACK]


@st.composite
def replies(draw: st.DrawFn) -> list[tuple[Target, bool]]:
    """Some of the targets' replies, in any order, each a success or an error."""
    answered = draw(st.permutations(TARGETS))[: draw(st.integers(0, len(TARGETS)))]
    return [(t, draw(st.booleans())) for t in answered]


@settings(max_examples=200, deadline=None)
@given(replies(), st.integers(1, 3), st.integers(0, 3))
def test_a_get_decides_exactly_when_the_quorum_is_met_or_lost(
    answers: list[tuple[Target, bool]], r: int, pr: int
) -> None:
    assume(pr <= r)
    core = GetCore(TARGETS, r, pr)
    for target, ok in answers:
        core.add_result(target.node, write(target.node, target.node) if ok else None)
    good = [t for t, ok in answers if ok]
    primaries = [t for t in good if t.hint_for is None]
    met = len(good) >= r and len(primaries) >= pr
    outstanding = [t for t in TARGETS if t not in {a for a, _ in answers}]
    reachable = (
        len(good) + len(outstanding) >= r
        and len(primaries) + sum(t.hint_for is None for t in outstanding) >= pr
    )
    assert core.enough() == (met or not reachable)
    outcome, merged = core.response(DVV)
    assert outcome.ok == met
    assert sorted(merged.values) == sorted(t.node for t in good)
    assert core.complete == (len(answers) == len(TARGETS))


@settings(max_examples=100, deadline=None)
@given(st.permutations(["n1", "n2", "n4"]))
def test_the_merged_answer_does_not_depend_on_the_reply_order(order: list[str]) -> None:
    base = write("base", "n1")
    states = {"n1": base, "n2": write("two", "n2", base=base), "n4": write("four", "n4")}
    core = GetCore(TARGETS, r=3)
    for node in order:
        core.add_result(node, states[node])
    _, merged = core.response(DVV)
    assert sorted(merged.values) == ["four", "two"]


# --------------------------------------------------------------------------- PutCore


def test_a_put_succeeds_once_w_replicas_acknowledged() -> None:
    core = PutCore([P1, P2, P3], w=2)
    core.add_result("n1", True)
    assert not core.enough()
    core.add_result("n3", True)
    assert core.enough()
    outcome = core.response()
    assert outcome.ok and outcome.replicas == ["n1", "n3"]


def test_a_put_fails_as_soon_as_w_can_no_longer_be_reached() -> None:
    core = PutCore([P1, P2, P3], w=3)
    core.add_result("n1", True)
    core.add_result("n2", False)
    assert core.enough()
    outcome = core.response()
    assert not outcome.ok and outcome.replicas == ["n1"]
    assert "only 1 of w=3" in outcome.error


def test_pw_refuses_a_write_held_by_fallbacks() -> None:
    core = PutCore([P1, P2, FALLBACK], w=2, pw=2)
    core.add_result("n1", True)
    core.add_result("n4", True)
    assert not core.enough()
    core.add_result("n2", True)
    outcome = core.response()
    assert outcome.ok and outcome.replicas == ["n1", "n4", "n2"] and outcome.fallbacks == ["n4"]


@settings(max_examples=200, deadline=None)
@given(replies(), st.integers(1, 3), st.integers(0, 3))
def test_a_put_decides_exactly_when_the_quorum_is_met_or_lost(
    answers: list[tuple[Target, bool]], w: int, pw: int
) -> None:
    assume(pw <= w)
    core = PutCore(TARGETS, w, pw)
    for target, ok in answers:
        core.add_result(target.node, ok)
    good = [t for t, ok in answers if ok]
    primaries = sum(t.hint_for is None for t in good)
    outstanding = [t for t in TARGETS if t not in {a for a, _ in answers}]
    met = len(good) >= w and primaries >= pw
    reachable = (
        len(good) + len(outstanding) >= w
        and primaries + sum(t.hint_for is None for t in outstanding) >= pw
    )
    assert core.enough() == (met or not reachable)
    outcome = core.response()
    assert outcome.ok == met
    assert outcome.replicas == [t.node for t in good]
