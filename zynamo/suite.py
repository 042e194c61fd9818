"""Named suites of ``zynamo test-all`` rows: each row a name, what it exercises, and its own
options, as data.

``zynamo test-all`` runs the ``default`` suite unless given ``--workloads``/``--nemeses`` (the
explicit matrix of workloads × nemeses) or another ``--suite``; ``--rows a,b`` picks rows by
name. A row's options are ``TestOptions`` fields laid over the shared flags (``--env``,
``--time-limit``, ``--seed``, ...): what a row sets is what makes it that row, so it wins over a
shared flag of the same name. Every row is built and validated before the first runs.

The default rows were chosen by measurement (the coverage and contention figures each row's
``results.json`` holds, in the simulator over several seeds; README and ``bench/suite.py``):
together they reach every protocol path the coverage checker counts — fallback writes and
hints delivered, read repairs, anti-entropy keys synced, reaps, ownership transfers, siblings
created and merged, failure-detector transitions, restarts — and each repair mechanism runs
alone under the fault it must recover from (docs/repair.md), so one cannot hide another.

No I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from zynamo.options import TestOptions

# What a row may set: every TestOptions field but those that say where and when a run happens
# (the shared flags decide those for every row alike).
SHARED_ONLY = frozenset({"env", "seed", "results_dir", "toxiproxy", "name"})
ROW_FIELDS = frozenset(f.name for f in dataclasses.fields(TestOptions)) - SHARED_ONLY


@dataclass(frozen=True)
class SuiteRow:
    """One row of a suite: its name (also the test's name in results/), what it exercises,
    and the ``TestOptions`` fields it sets."""

    name: str
    exercises: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def apply(self, base: TestOptions) -> TestOptions:
        """``base`` (the shared flags) with this row's options laid over it; ``ValueError``
        naming the row and the option when the result is not a valid test."""
        unknown = sorted(set(self.options) - ROW_FIELDS)
        if unknown:
            raise ValueError(
                f"suite row {self.name!r}: {', '.join(unknown)} cannot be set by a row"
                f" (rows set: {', '.join(sorted(ROW_FIELDS))})"
            )
        try:
            return dataclasses.replace(base, **self.options, name=self.name)
        except (TypeError, ValueError) as err:
            raise ValueError(f"suite row {self.name!r}: {err}") from None


KILL_AND_PARTITION = ("partition", "kill")
# Measured on set-partition-kill: 100 ops/s gives 58 % of writes overlapping another to the
# same key and 398 siblings created, against 36 % and 125 at the single test's default 50.
BUSY = 100.0

DEFAULT_SUITE: tuple[SuiteRow, ...] = (
    SuiteRow(
        "set-partition-kill",
        "the shopping cart under partitions and crashes with every mechanism on: sloppy"
        " quorum, hints stored and delivered, read repair, anti-entropy, siblings",
        {"workload": "set", "nemesis": KILL_AND_PARTITION, "rate": BUSY},
    ),
    SuiteRow(
        "strict-primaries",
        "PR = PW = 2: every acknowledged write is on two primaries and every read asks two,"
        " so the quorum checker holds every read to the writes before it; a write that"
        " never reaches a primary fails",
        {"workload": "set", "nemesis": KILL_AND_PARTITION, "pr": 2, "pw": 2, "rate": BUSY},
    ),
    SuiteRow(
        "cart-removes",
        "the cart with removes under partitions: concurrent adds and removes merged as"
        " two-phase sets, resurrection of a removed element",
        {"workload": "cart", "nemesis": ("partition",), "rate": BUSY},
    ),
    SuiteRow(
        "register-delete-reap",
        "deletes and tombstones reaped after 1 s under crashes: a tombstone reaped before"
        " every primary holds it brings a deleted value back",
        {
            "workload": "register-delete",
            "nemesis": ("kill",),
            "tombstone_grace_ms": 1000,
            "rate": BUSY,
        },
    ),
    SuiteRow(
        "hot-keys",
        "contention: 8 keys picked Zipf-wise by 20 clients at 200 ops/s, so writes to one"
        " key race (about half overlap another) and dotted version vectors must keep every"
        " sibling",
        {
            "workload": "set",
            "nemesis": KILL_AND_PARTITION,
            "key_distribution": "zipf",
            "active_keys": 8,
            "concurrency": 20,
            "rate": 200.0,
        },
    ),
    SuiteRow(
        "hints-alone",
        "hinted handoff alone (no read repair, no anti-entropy) under partitions and crashes:"
        " every write a cut-off or killed primary missed must come back through a hint",
        {"workload": "set", "nemesis": KILL_AND_PARTITION, "repairs": ("hints",), "rate": BUSY},
    ),
    SuiteRow(
        "read-repair-alone",
        "read repair alone under partitions: every key the final reads read must have"
        " converged on its primaries afterwards",
        {"workload": "set", "nemesis": ("partition",), "repairs": ("read-repair",), "rate": BUSY},
    ),
    SuiteRow(
        "anti-entropy-alone",
        "anti-entropy alone under partitions: Merkle exchanges must bring every key's"
        " primaries together after the heal",
        {"workload": "set", "nemesis": ("partition",), "repairs": ("anti-entropy",), "rate": BUSY},
    ),
    SuiteRow(
        "register-linearizable",
        "the register with R = W = 2 and PR = PW = 2 under partitions and crashes:"
        " linearizability per key where strict quorums promise it",
        {"workload": "register", "nemesis": KILL_AND_PARTITION, "pr": 2, "pw": 2, "rate": BUSY},
    ),
    SuiteRow(
        "membership",
        "nodes leave and join while the cart runs: ownership transfers of whole partitions",
        {"workload": "set", "nemesis": ("membership",), "rate": BUSY},
    ),
)

SUITES: Mapping[str, tuple[SuiteRow, ...]] = MappingProxyType({"default": DEFAULT_SUITE})


def suite_rows(suite: str, picked: Sequence[str] = ()) -> tuple[SuiteRow, ...]:
    """The rows of ``suite`` (those named in ``picked``, in the suite's order, when given);
    ``ValueError`` naming the accepted names otherwise."""
    if suite not in SUITES:
        raise ValueError(f"--suite: {suite!r} is not one of {', '.join(SUITES)}")
    rows = SUITES[suite]
    names = [row.name for row in rows]
    unknown = [name for name in picked if name not in names]
    if unknown:
        raise ValueError(
            f"--rows: {', '.join(unknown)} not in suite {suite!r}; its rows: {', '.join(names)}"
        )
    return tuple(row for row in rows if not picked or row.name in picked)


def suite_options(base: TestOptions, rows: Sequence[SuiteRow]) -> list[TestOptions]:
    """Every row's options over ``base``, all validated before any row runs."""
    return [row.apply(base) for row in rows]
