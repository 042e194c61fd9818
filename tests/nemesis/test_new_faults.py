"""The disk, message and toxic faults, the primaries targets and shapes, explicit grudges, and
what every fault op says it did, on an in-memory environment that offers the optional
capabilities (``nemesis.environment``) the way a real or simulated one would."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest

from nemesis import grudge as g
from nemesis.base import FaultOp
from nemesis.combined import build_nemesis
from nemesis.effects import describe_effect, fault_effects
from nemesis.environment import Link
from nemesis.options import NemesisOptions
from nemesis.schedule import Schedule
from nemesis.shapes import grudge_for
from zynamo.env.memory import MemoryEnvironment

NODES = ("n1", "n2", "n3", "n4", "n5")


class CapableEnvironment(MemoryEnvironment):
    """A memory environment with storage faults, message faults, a ring and toxics."""

    def __init__(self, nodes: Iterable[str], damaged_refuse: bool = True) -> None:
        super().__init__(nodes)
        self.sync_mode = "normal"
        self.damaged: set[str] = set()
        self.damaged_refuse = damaged_refuse
        self.message_settings: dict[str, dict[str, Any]] = {}
        self.toxics: dict[Link, tuple[str, dict[str, Any]]] = {}
        self.net.add_toxic = self._add_toxic  # type: ignore[attr-defined]
        self.net.remove_toxics = self._remove_toxics  # type: ignore[attr-defined]

    def power_loss(self, node: str) -> dict[str, Any]:
        self.kill(node)
        return {"transactions_lost": 3, "keys_rolled_back": 2}

    def corrupt(self, node: str, mode: str, rng: random.Random) -> dict[str, Any]:
        self.kill(node)
        self.damaged.add(node)
        return {"mode": mode, "offset": 4096, "bit": 3}

    def restart(self, node: str) -> dict[str, Any]:
        if node in self.damaged and self.damaged_refuse:
            return {"started": False, "refused": "refusing to start: the database is damaged"}
        self.start_node(node)
        return {"started": True, "refused": None}

    def set_message_faults(self, node: str, **settings: Any) -> dict[str, int]:
        self.message_settings[node] = settings
        return {}

    def clear_message_faults(self, node: str) -> dict[str, int]:
        settings = self.message_settings.pop(node, {})
        touched = 5 if settings.get("drop") else 0
        return {"sent": 100, "dropped": touched}

    def preference_list(self, key: str) -> tuple[str, ...]:
        return ("n2", "n4", "n5") if key == "k0" else ("n1", "n2", "n3")

    def _add_toxic(self, links: Iterable[Link], kind: str, attrs: dict[str, Any]) -> list[Link]:
        chosen = sorted(set(links))
        self.toxics.update({link: (kind, attrs) for link in chosen})
        return chosen

    def _remove_toxics(self, links: Iterable[Link] | None = None) -> None:
        self.toxics.clear()


@pytest.fixture
def env() -> CapableEnvironment:
    made = CapableEnvironment(NODES)
    made.start()
    return made


def test_power_loss_takes_its_targets_down_until_stop_and_says_what_was_lost(
    env: CapableEnvironment,
) -> None:
    nemesis = build_nemesis("disk", env=env, rng=random.Random(1))
    done = nemesis.invoke(FaultOp("start-disk", {"mode": "power-loss", "targets": ["n1", "n3"]}))
    assert done["nodes"] == ["n1", "n3"] and env.running == {"n2", "n4", "n5"}
    assert done["effect"]["summary"] == (
        "power loss n1, n3 (sync normal): 6 unsynced transactions dropped, 4 keys rolled back"
    )
    back = nemesis.invoke(FaultOp("stop-disk"))
    assert back["refused"] == {} and set(back["down_s"]) == {"n1", "n3"}
    assert env.running == set(NODES)


def test_a_node_that_refuses_its_damaged_store_is_removed_by_force(
    env: CapableEnvironment,
) -> None:
    nemesis = build_nemesis("disk", env=env, rng=random.Random(1))
    done = nemesis.invoke(FaultOp("start-disk", {"mode": "bitflip", "targets": ["n2"]}))
    assert done["effect"]["summary"] == "bitflip n2 (bit 3 of byte 4,096)"
    back = nemesis.invoke(FaultOp("stop-disk"))
    assert back["refused"] == {"n2": "refusing to start: the database is damaged"}
    assert back["removed"] == ["n2"] and "n2" not in env.members
    assert "n2 refused to start and was removed by force" in back["effect"]["summary"]


def test_message_faults_are_set_on_the_targets_and_their_counts_come_back(
    env: CapableEnvironment,
) -> None:
    options = NemesisOptions(message_drop=0.5, message_delay_ms=7)
    nemesis = build_nemesis("message", env=env, rng=random.Random(1), options=options)
    start = Schedule("message", 1.0, random.Random(2), NODES, options).next_op()
    assert start is not None
    done = nemesis.invoke(FaultOp("start-message", {**start.value, "targets": ["n4"]}))
    assert done["nodes"] == ["n4"] and env.message_settings["n4"]["drop"] == 0.5
    assert env.message_settings["n4"]["delay_ms"] == 7
    stopped = nemesis.invoke(FaultOp("stop-message"))
    assert stopped["counts"]["dropped"] == 5 and stopped["effect"]["mattered"]
    assert env.message_settings == {}


def test_message_faults_that_touched_nothing_are_flagged(env: CapableEnvironment) -> None:
    options = NemesisOptions(
        message_drop=0, message_duplicate=0, message_reorder=0, message_delay=0
    )
    nemesis = build_nemesis("message", env=env, rng=random.Random(1), options=options)
    nemesis.invoke(FaultOp("start-message", {"targets": "all"}))
    stopped = nemesis.invoke(FaultOp("stop-message"))
    assert describe_effect("stop-message", stopped) == (
        "WARNING: nemesis stop-message did nothing: 500 messages: 0 dropped, 0 duplicated,"
        " 0 reordered, 0 delayed"
    )


def test_toxics_go_on_every_link_of_the_targets_and_come_off(env: CapableEnvironment) -> None:
    options = NemesisOptions(limit_data_bytes=512)
    nemesis = build_nemesis("toxic", env=env, rng=random.Random(1), options=options)
    done = nemesis.invoke(FaultOp("start-toxic", {"kind": "limit_data", "targets": ["n1"]}))
    assert len(done["links"]) == 8 and done["attributes"] == {"bytes": 512}
    assert all(toxic == ("limit_data", {"bytes": 512}) for toxic in env.toxics.values())
    assert len(env.toxics) == 8
    nemesis.heal()
    assert env.toxics == {}


def test_primaries_targets_mean_the_preference_list_of_the_key(env: CapableEnvironment) -> None:
    nemesis = build_nemesis("kill", env=env, rng=random.Random(1))
    done = nemesis.invoke(FaultOp("start-kill", {"targets": "primaries"}))  # the hot key k0
    assert done["nodes"] == ["n2", "n4", "n5"]
    nemesis.heal()
    done = nemesis.invoke(FaultOp("start-kill", {"targets": "primaries:k9"}))
    assert done["nodes"] == ["n1", "n2", "n3"]


def test_the_primaries_partition_cuts_the_key_s_replicas_apart_or_off(
    env: CapableEnvironment,
) -> None:
    nemesis = build_nemesis("partition", env=env, rng=random.Random(1))
    apart = nemesis.invoke(FaultOp("start-partition", {"shape": "primaries", "form": "apart"}))
    assert apart["primaries"] == ["n2", "n4", "n5"] and apart["key"] == "k0"
    assert apart["grudge"]["n2"] == ["n4", "n5"] and apart["grudge"]["n1"] == []
    off = nemesis.invoke(FaultOp("start-partition", {"shape": "primaries", "form": "cut-off"}))
    assert off["grudge"]["n1"] == ["n2", "n4", "n5"] and off["grudge"]["n4"] == ["n1", "n3"]


def test_primaries_without_a_ring_are_refused_before_the_run() -> None:
    plain = MemoryEnvironment(NODES)
    with pytest.raises(ValueError, match="kill_targets: primaries need the ring"):
        build_nemesis(
            "kill", env=plain, rng=random.Random(1), options={"kill_targets": "primaries"}
        )
    with pytest.raises(ValueError, match="disk need storage faults"):
        build_nemesis("disk", env=plain, rng=random.Random(1))
    with pytest.raises(ValueError, match="message need message faults"):
        build_nemesis("message", env=plain, rng=random.Random(1))


def test_explicit_grudges_replace_the_shapes(env: CapableEnvironment) -> None:
    options = NemesisOptions(partition_grudges=("n1:n2,n3;n4:n5",))
    start = Schedule("partition", 1.0, random.Random(2), NODES, options).next_op()
    assert start is not None and start.value["grudge"] == {"n1": ["n2", "n3"], "n4": ["n5"]}
    nemesis = build_nemesis("partition", env=env, rng=random.Random(1), options=options)
    done = nemesis.invoke(start)
    assert done["links"] == ["n2->n1", "n3->n1", "n5->n4"]
    assert done["effect"]["summary"].startswith("partition grudge: 3 links cut")


def test_minority_third_cuts_off_a_third() -> None:
    grudge = grudge_for({"shape": "minority-third"}, NODES, random.Random(4))
    cut_off = [node for node in NODES if len(grudge[node]) == 4]
    assert len(cut_off) == 1  # a third of five, rounded down, at least one
    assert g.parse_grudge("n1:n2;n1:n3") == {"n1": frozenset({"n2", "n3"})}


def test_a_partition_that_cuts_nothing_is_flagged_and_listed_in_the_results(
    env: CapableEnvironment,
) -> None:
    small = CapableEnvironment(("n1", "n2", "n3"))
    small.start()
    nemesis = build_nemesis("partition", env=small, rng=random.Random(1))
    done = nemesis.invoke(FaultOp("start-partition", {"shape": "majorities-ring"}))
    line = describe_effect("start-partition", done)
    assert line == (
        "WARNING: nemesis start-partition did nothing:"
        " partition majorities-ring: 0 links cut (refuse)"
    )
    history = [{"process": "nemesis", "type": "info", "f": "start-partition", "value": done}]
    assert fault_effects(history)["did_nothing"] == [
        "start-partition: partition majorities-ring: 0 links cut (refuse)"
    ]
