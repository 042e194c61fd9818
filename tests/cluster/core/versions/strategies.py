"""What the versions tests share: random executions of a cluster's versioning (replicas
taking writes with contexts read from anywhere earlier, syncing, clients reading merges) and the
states they leave, hand-built dvv versions no cluster makes, and the canonical JSON text computed
from scratch, not by the code under test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

from cluster.core.versions import (
    EMPTY_CONTEXT,
    VERSIONINGS,
    DvvVersion,
    Siblings,
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


def two_concurrent_rmw(mode_name: str) -> Siblings:
    """Two clients read the same state, then each writes through the same coordinator."""
    mode = versioning(mode_name)
    first, _ = mode.update(Siblings.EMPTY, EMPTY_CONTEXT, "v0", "a", 1_000)
    context = mode.context(first)
    after_x, _ = mode.update(first, context, "x", "a", 2_000)
    after_y, _ = mode.update(after_x, context, "y", "a", 3_000)
    return after_y


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
