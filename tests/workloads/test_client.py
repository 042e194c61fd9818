"""The Client interface: a workload run against the in-memory client records a well-formed
history, and the real client's adapter refuses requests before it is opened."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from cluster.net import AsyncClient
from workloads.base import KeyPool, Quorum
from workloads.client import Get, Put, get, put
from workloads.generator import LoadSettings, final_reads, run_workload
from workloads.memory_client import MemoryClient, MemoryStore
from workloads.protocol_client import ProtocolClient
from workloads.recorder import HistoryRecorder
from workloads.register import RegisterWorkload
from workloads.set import SetWorkload

NODES = ("n1", "n2", "n3")


def test_memory_client_keeps_siblings_unless_the_context_supersedes_them() -> None:
    async def scenario() -> None:
        client = MemoryClient()
        await client.open()
        first = await get(client, Get("k", "n1"))
        assert not first.found and first.values == []
        await put(client, Put("k", 1, "n1", context=first.context))
        seen = await get(client, Get("k", "n2"))
        await put(client, Put("k", 2, "n2", context=""))  # blind write: a sibling
        assert (await get(client, Get("k", "n1"))).values == [1, 2]
        await put(client, Put("k", 3, "n3", context=(await get(client, Get("k", "n3"))).context))
        assert (await get(client, Get("k", "n1"))).values == [3]
        assert seen.coordinator == "n2" and seen.replicas == ["n2"]
        await client.close()
        with pytest.raises(RuntimeError, match="open"):
            await client.invoke(Get("k", "n1"))

    asyncio.run(scenario())


@pytest.mark.parametrize("workload", [SetWorkload(), RegisterWorkload()], ids=["set", "register"])
def test_a_run_against_the_memory_client_records_a_well_formed_history(
    tmp_path: Path, workload: SetWorkload | RegisterWorkload
) -> None:
    store = MemoryStore()
    keys = KeyPool(active=2, ops_per_key=10)
    quorum = Quorum(3, 2, 2)

    async def run() -> None:
        client = MemoryClient(store)
        await client.open()
        with HistoryRecorder(tmp_path / "history.jsonl") as recorder:
            counts = await run_workload(
                client,
                workload,
                recorder,
                NODES,
                keys,
                quorum,
                LoadSettings(concurrency=4, rate=400, time_limit_s=0.3),
                random.Random(1),
            )
            done = await final_reads(
                client, workload, recorder, keys.used, NODES, quorum, 100, random.Random(2)
            )
        await client.close()
        assert counts.ok > 20 and counts.fail == counts.info == 0
        assert all(done.values()) and set(done) == set(keys.used)

    asyncio.run(run())
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [op["index"] for op in history] == list(range(len(history)))
    open_ops: dict[int, dict[str, object]] = {}
    for op in history:
        if op["type"] == "invoke":
            assert op["process"] not in open_ops  # one operation at a time per process
            open_ops[op["process"]] = op
        else:
            invoked = open_ops.pop(op["process"])
            assert op["type"] == "ok" and (op["f"], op["key"]) == (invoked["f"], invoked["key"])
            assert op["coordinator"] == op["node"] and op["n"] == 3
    assert not open_ops  # every invocation completed
    finals = [op for op in history if op.get("final") and op["type"] == "ok"]
    assert {op["key"] for op in finals} == set(keys.used)
    if isinstance(workload, SetWorkload):  # the final reads hold every acknowledged add
        added = {(op["key"], op["value"]) for op in history if op["f"] == "add"}
        held = {(op["key"], v) for op in finals for v in op["value"]}
        assert added <= held


def test_the_protocol_client_must_be_opened_first() -> None:
    async def scenario() -> None:
        client = ProtocolClient(lambda: AsyncClient({"n1": "tcp://127.0.0.1:9"}, timeout_ms=100))
        with pytest.raises(RuntimeError, match="open"):
            await client.invoke(Get("k", "n1"))
        await client.close()  # closing an unopened client is fine

    asyncio.run(scenario())


def test_workloads_name_the_checkers_that_judge_them() -> None:
    assert [c.name for c in SetWorkload.checkers] == [
        "set",
        "convergence",
        "quorum",
        "versions",
        "lost-versions",
        "leftovers",
        "nemesis",
        "placement",
        "invariants",
        "coverage",
        "stats",
    ]
    assert [c.name for c in RegisterWorkload.checkers] == [
        "linearizable",
        "convergence",
        "quorum",
        "lost-versions",
        "leftovers",
        "nemesis",
        "placement",
        "invariants",
        "coverage",
        "stats",
    ]


def test_an_unknown_workload_is_refused_naming_the_accepted_ones() -> None:
    from workloads.catalog import make_workload
    from zynamo import options as zynamo_options

    assert isinstance(make_workload("register"), RegisterWorkload)
    with pytest.raises(ValueError, match="'bank' is not one of set, register"):
        make_workload("bank")
    with pytest.raises(ValueError, match="--workload: 'bank' is not one of set, register"):
        zynamo_options.TestOptions(workload="bank")
