"""The command line that runs a test again: what a report, a sweep summary and a CI failure
print so a person can copy, paste and watch the same run.

``reproduce_command(options)`` gives ``zynamo test`` with every option that differs from the
defaults, the seed always included; in the simulator (``--env sim``) that command replays the
run exactly, on the same commit. An option with no command-line flag that differs from its
default is named in a trailing comment rather than silently dropped. No I/O.
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import Any

from nemesis.options import NemesisOptions, option_flag
from zynamo.options import TestOptions

# TestOptions field -> its `zynamo test` flag, in the order the command lists them.
FLAGS = {
    "env": "--env",
    "net": "--net",
    "workload": "--workload",
    "nemesis": "--nemesis",
    "partition_shapes": "--partition",
    "partition_mode": "--partition-mode",
    "nodes": "--nodes",
    "n": "--n",
    "r": "--r",
    "w": "--w",
    "versioning": "--versioning",
    "time_limit_s": "--time-limit",
    "rate": "--rate",
    "concurrency": "--concurrency",
    "nemesis_interval_s": "--nemesis-interval",
    "recovery_s": "--recovery",
    "timeout_ms": "--timeout-ms",
    "ops_per_key": "--ops-per-key",
    "active_keys": "--active-keys",
    "key_distribution": "--key-distribution",
    "repairs": "--repairs",
    "pr": "--pr",
    "pw": "--pw",
    "sync": "--sync",
    "commit_ms": "--commit-ms",
    "toxiproxy": "--toxiproxy",
    "availability": "--availability",
    "log_patterns": "--log-pattern",
    "log_ignore": "--log-ignore",
    "name": "--name",
    "seed": "--seed",
}
# Fields whose flag is given once per item (a regular expression may hold a comma); an empty
# list is the flag with "none".
REPEATED = ("log_patterns", "log_ignore")
# Fields that say where results go, not what the run does; and the nemesis options, which
# have a flag each (``zynamo.nemesis_flags``) and are listed field by field.
NOT_REPRODUCED = ("results_dir", "nemesis_options")
# NemesisOptions fields that the run's own --partition / --partition-mode already carry.
FOLDED = ("partition_shapes", "partition_modes")


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def reproduce_command(options: TestOptions, program: str = "zynamo") -> str:
    """``zynamo test ...`` that runs ``options`` again (exactly, in the simulator)."""
    defaults = TestOptions()
    words = [program, "test"]
    unflagged = []
    order = list(FLAGS)
    names = sorted(
        (f.name for f in dataclasses.fields(TestOptions)),
        key=lambda name: order.index(name) if name in FLAGS else len(order),
    )
    for name in names:
        value = getattr(options, name)
        if name in NOT_REPRODUCED or (value == getattr(defaults, name) and name != "seed"):
            continue
        flag = FLAGS.get(name)
        if flag is None:
            unflagged.append(f"{name}={_text(value)}")
        elif name in REPEATED:
            for item in value or ("none",):
                words += [flag, item]
        elif value is not None:
            words += [flag, _text(value)]
    words += _nemesis_flags(options.nemesis_options, unflagged)
    command = shlex.join(words)
    if unflagged:
        command += "  # also set (no flag): " + ", ".join(unflagged)
    return command


def _nemesis_flags(options: NemesisOptions, unflagged: list[str]) -> list[str]:
    """``--kill-targets one`` ... for every nemesis option that differs from its default."""
    defaults = NemesisOptions()
    words: list[str] = []
    for field in dataclasses.fields(NemesisOptions):
        value = getattr(options, field.name)
        if field.name in FOLDED or value == getattr(defaults, field.name):
            continue
        if field.name == "partition_grudges":
            unflagged.append(f"{field.name}={value}")
            continue
        if isinstance(value, tuple):
            text = ",".join("+".join(v) if isinstance(v, tuple) else str(v) for v in value)
        else:
            text = _text(value)
        words += [option_flag(field.name), text]
    return words
