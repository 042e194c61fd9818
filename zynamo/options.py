"""Everything one test run is configured by, validated, with its defaults.

``TestOptions`` is what ``zynamo test`` parses its flags into and what ``test.json`` records
(with the seed actually used and the git commit), so a run can be repeated exactly. Validation
errors name the option and the accepted values. No I/O.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.logs import DEFAULT_IGNORE as DEFAULT_LOG_IGNORE
from checker.logs import DEFAULT_PATTERNS as DEFAULT_LOG_PATTERNS
from cluster.core import VERSIONINGS
from cluster.sim import DEFAULT_COMMIT_MS
from cluster.storage import SYNC_MODES
from nemesis.options import NemesisOptions
from nemesis.registry import NO_FAULTS, accepted_packages
from nemesis.shapes import ACCEPTED_SHAPES, PARTITION_MODES
from workloads.base import KEY_DISTRIBUTIONS
from workloads.catalog import WORKLOADS as CATALOG

WORKLOADS = tuple(CATALOG)
# Where a test runs: local processes behind Toxiproxy, or the deterministic simulator.
ENVIRONMENTS = ("real", "sim")
# How a real run's links are made and cut: Toxiproxy proxies, or the kernel (a network
# namespace per node, nftables rules; needs root, ``ip`` and ``nft``).
NETS = ("proxy", "kernel")
MAX_COMMIT_MS = 10_000.0  # a group commit of more than 10 s would be a stalled node
# Faults that slow or poison links: only proxies can do that.
PROXY_ONLY_FAULTS = ("latency", "toxic")
# The repair mechanisms a run may switch off one by one (docs/repair.md says what each alone
# must recover): hinted handoff, read repair, anti-entropy.
REPAIRS = ("hints", "read-repair", "anti-entropy")


def _accepted(name: str, value: object, accepted: tuple[str, ...]) -> str:
    return f"{name}: {value!r} is not one of {', '.join(accepted)}"


@dataclass(frozen=True)
class TestOptions:
    workload: str = "set"
    nemesis: tuple[str, ...] = ("partition", "kill")
    partition_shapes: tuple[str, ...] = ("random-halves", "isolate", "majorities-ring")
    partition_mode: str = "refuse"
    nodes: int = 5
    n: int = 3
    r: int = 2
    w: int = 2
    versioning: str = "dvv"
    time_limit_s: float = 60.0
    # 50 ops/s keeps one simulated seed fast; the test-all suite's rows run at 100 or more,
    # measured to give twice the overlapping writes and siblings (zynamo.suite).
    rate: float = 50.0
    concurrency: int = 10
    nemesis_interval_s: float = 10.0
    seed: int = 0
    toxiproxy: str | None = None  # URL of an external Toxiproxy; None starts the embedded one
    results_dir: Path = Path("results")
    name: str = ""  # default: derived from workload, nemesis and versioning
    recovery_s: float = 30.0  # longest wait for replicas to agree after the heal
    timeout_ms: int = 1000
    active_keys: int = 2
    key_distribution: str = "uniform"  # or zipf: a few hot keys (workloads.base.KeyPool)
    ops_per_key: int = 100
    anti_entropy_interval_ms: int = 2000
    repairs: tuple[str, ...] = REPAIRS  # the repair mechanisms left on
    tombstone_grace_ms: int = 10_000  # tombstones every replica holds are reaped after this
    env: str = "real"
    net: str = "proxy"  # real runs: proxy (Toxiproxy) or kernel (namespaces + nftables)
    # --- the nemesis's parameters and what storage and strict quorums the cluster runs with
    pr: int = 0  # primaries that must answer a read (0: sloppy quorum only)
    pw: int = 0  # primaries that must acknowledge a write
    sync: str = "normal"  # SQLite's synchronous setting on every node: off, normal, full
    # The simulator only: how long a node's group commit takes, uniformly between (virtual
    # ms); longer widens the window in which a kill loses a batch (real commits take what
    # SQLite takes).
    commit_ms: tuple[float, float] = DEFAULT_COMMIT_MS
    # Every other fault parameter (targets, grudges, skew, latency, storage, message, toxic);
    # partition_shapes and partition_mode above are folded into it, so test.json holds the
    # options the nemesis actually ran with.
    nemesis_options: NemesisOptions = dataclasses.field(default_factory=NemesisOptions)
    # --- checks CI adds to the workload's (zynamo.ci_checkers)
    log_patterns: tuple[str, ...] = DEFAULT_LOG_PATTERNS  # () turns the log checker off
    log_ignore: tuple[str, ...] = DEFAULT_LOG_IGNORE
    availability: float | None = None  # least ok fraction inside fault windows

    def __post_init__(self) -> None:
        self._check_types()
        self._check_run()
        self._check_nemesis_block()

    def _check_types(self) -> None:
        """Each field holds its kind of value (test.json is read back by ``analyze``): the
        error names the field rather than failing later in a comparison."""
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            default = getattr(TestOptions, spec.name, None)
            if spec.name == "toxiproxy":
                ok = value is None or isinstance(value, str)
            elif isinstance(default, bool) or isinstance(value, bool):
                ok = isinstance(value, bool) and isinstance(default, bool)
            elif isinstance(default, float):
                ok = isinstance(value, int | float)
            elif isinstance(default, int | str | Path):
                ok = isinstance(value, type(default))
            elif spec.name in ("nemesis", "partition_shapes", "log_patterns", "log_ignore"):
                ok = isinstance(value, tuple) and all(isinstance(v, str) for v in value)
            else:
                continue
            if not ok:
                kind = "a list of names" if isinstance(value, tuple) else type(default).__name__
                kind = {"int": "an integer", "float": "a number", "str": "a string"}.get(kind, kind)
                raise ValueError(f"{spec.name}: must be {kind}, got {value!r}")

    def _check_commit_ms(self) -> None:
        value = self.commit_ms
        if (
            not isinstance(value, tuple)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] <= value[1] <= MAX_COMMIT_MS
        ):
            raise ValueError(
                f"--commit-ms: LOW,HIGH in virtual ms with 0 <= LOW <= HIGH <= {MAX_COMMIT_MS},"
                f" got {value!r}"
            )
        if self.env != "sim" and tuple(value) != DEFAULT_COMMIT_MS:
            raise ValueError("--commit-ms: only the simulator models commit time (--env sim)")

    def _check_nemesis_block(self) -> None:
        for flag, value, bound in (("--pr", self.pr, self.r), ("--pw", self.pw, self.w)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= bound:
                raise ValueError(
                    f"{flag}: must be between 0 and --{flag[3]}={bound}, got {value!r}"
                )
        if self.sync not in SYNC_MODES:
            raise ValueError(_accepted("--sync", self.sync, SYNC_MODES))
        self._check_commit_ms()
        for shape in self.partition_shapes:
            if shape not in ACCEPTED_SHAPES:
                raise ValueError(_accepted("--partition", shape, ACCEPTED_SHAPES))
        if self.partition_mode not in PARTITION_MODES:
            raise ValueError(_accepted("--partition-mode", self.partition_mode, PARTITION_MODES))
        merged = dataclasses.replace(
            self.nemesis_options,
            partition_shapes=tuple(self.partition_shapes),
            partition_modes=(self.partition_mode,),
        )
        merged.check_nodes(tuple(f"n{i}" for i in range(1, self.nodes + 1)))
        object.__setattr__(self, "nemesis_options", merged)  # frozen: set once, here

    def _check_net(self) -> None:
        if self.net not in NETS:
            raise ValueError(_accepted("--net", self.net, NETS))
        if self.net == "proxy":
            return
        if self.env != "real":
            raise ValueError(f"--net {self.net}: only real runs have links to cut (--env real)")
        if self.toxiproxy:
            raise ValueError(f"--net {self.net}: no Toxiproxy is used, leave --toxiproxy out")
        slowing = [f for f in self.nemesis if f in PROXY_ONLY_FAULTS]
        if slowing:
            raise ValueError(
                f"--net {self.net}: the kernel cuts links but does not slow them;"
                f" {', '.join(slowing)} need --net proxy"
            )

    def _check_run(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ValueError(_accepted("--env", self.env, ENVIRONMENTS))
        self._check_net()
        if self.workload not in WORKLOADS:
            raise ValueError(_accepted("--workload", self.workload, WORKLOADS))
        if not self.nemesis:
            raise ValueError("--nemesis: give at least one fault, or none for no faults")
        nemeses = accepted_packages()  # read now: a fault may be registered after import
        for fault in self.nemesis:
            if fault not in nemeses:
                raise ValueError(_accepted("--nemesis", fault, nemeses))
        if NO_FAULTS in self.nemesis and len(self.nemesis) > 1:
            raise ValueError("--nemesis: 'none' cannot be combined with other faults")
        if self.versioning not in VERSIONINGS:
            raise ValueError(_accepted("--versioning", self.versioning, VERSIONINGS))
        if self.nodes < 1:
            raise ValueError(f"--nodes: must be at least 1, got {self.nodes}")
        if not 1 <= self.n <= self.nodes:
            raise ValueError(f"--n: must be between 1 and --nodes={self.nodes}, got {self.n}")
        for flag, value in (("--r", self.r), ("--w", self.w)):
            if not 1 <= value <= self.n:
                raise ValueError(f"{flag}: must be between 1 and --n={self.n}, got {value}")
        for flag, number in (
            ("--time-limit", self.time_limit_s),
            ("--rate", self.rate),
            ("--nemesis-interval", self.nemesis_interval_s),
            ("--recovery", self.recovery_s),
        ):
            if number <= 0:
                raise ValueError(f"{flag}: must be positive, got {number}")
        if self.key_distribution not in KEY_DISTRIBUTIONS:
            raise ValueError(
                _accepted("--key-distribution", self.key_distribution, KEY_DISTRIBUTIONS)
            )
        if self.tombstone_grace_ms < 0:
            raise ValueError(
                f"--tombstone-grace-ms: must be 0 or more, got {self.tombstone_grace_ms}"
            )
        for repair in self.repairs:
            if repair not in REPAIRS:
                raise ValueError(_accepted("--repairs", repair, REPAIRS))
        for flag, count in (
            ("--concurrency", self.concurrency),
            ("--timeout-ms", self.timeout_ms),
            ("--ops-per-key", self.ops_per_key),
            ("--active-keys", self.active_keys),
            ("anti_entropy_interval_ms", self.anti_entropy_interval_ms),
        ):
            if count < 1:
                raise ValueError(f"{flag}: must be at least 1, got {count}")
        for flag, expressions in (
            ("--log-pattern", self.log_patterns),
            ("--log-ignore", self.log_ignore),
        ):
            for expression in expressions:
                try:
                    re.compile(expression)
                except re.error as err:
                    message = f"{flag}: {expression!r} is not a regular expression ({err})"
                    raise ValueError(message) from None
        if self.availability is not None and (
            isinstance(self.availability, bool)
            or not isinstance(self.availability, int | float)
            or not 0 <= self.availability <= 1
        ):
            raise ValueError(
                f"--availability: a fraction between 0 and 1 (e.g. 0.9), got {self.availability!r}"
            )
        if self.name and not re.fullmatch(r"[A-Za-z0-9._+-]+", self.name):
            raise ValueError(f"--name: use letters, digits and . _ + - only, got {self.name!r}")

    @property
    def faults(self) -> tuple[str, ...]:
        """The fault packages the nemesis runs (none for ``none``)."""
        return tuple(f for f in self.nemesis if f != "none")

    @property
    def test_name(self) -> str:
        if self.name:
            return self.name
        nemesis = "+".join(self.nemesis)
        return f"{self.workload}-{nemesis}-{self.versioning}-r{self.r}w{self.w}"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["nemesis"] = list(self.nemesis)
        data["partition_shapes"] = list(self.partition_shapes)
        data["repairs"] = list(self.repairs)
        data["log_patterns"] = list(self.log_patterns)
        data["log_ignore"] = list(self.log_ignore)
        data["results_dir"] = str(self.results_dir)
        data["nemesis_options"] = self.nemesis_options.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any) -> TestOptions:
        """The options ``test.json`` holds; ``ValueError`` naming the field when one is not
        what it should be."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object of options, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in (
            "nemesis",
            "partition_shapes",
            "repairs",
            "log_patterns",
            "log_ignore",
            "commit_ms",
        ):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        if isinstance(values.get("results_dir"), str):
            values["results_dir"] = Path(values["results_dir"])
        if isinstance(values.get("nemesis_options"), dict):
            values["nemesis_options"] = NemesisOptions.from_mapping(values["nemesis_options"])
        return cls(**values)
