"""A small invalid run, written by hand, whose story the report must tell: on k3, add 5 is
acknowledged by coordinator n2 with n4 standing in for n3 (a hint); n4 is killed before it
hands the hint off; n1 then writes a version without 5; the final read misses it."""

from __future__ import annotations

import json
import pathlib
from typing import Any

S = 1_000_000_000


def _op(index: int, t_s: float, process: Any, type_: str, f: str, **fields: Any) -> dict[str, Any]:
    return {
        "index": index,
        "time": int(t_s * S),
        "process": process,
        "type": type_,
        "f": f,
        **fields,
    }


def lost_add_history() -> list[dict[str, Any]]:
    done = {"coordinator": "n2", "replicas": ["n2", "n4"], "fallbacks": ["n4"], "n": 3, "w": 2}
    return [
        _op(0, 1.0, 0, "invoke", "add", key="k3", value=1, node="n1"),
        _op(
            1,
            1.01,
            0,
            "ok",
            "add",
            key="k3",
            value=1,
            node="n1",
            coordinator="n1",
            replicas=["n1", "n2"],
            fallbacks=[],
        ),
        _op(2, 4.46, 1, "invoke", "add", key="k3", value=5, node="n2"),
        _op(3, 4.47, 1, "ok", "add", key="k3", value=5, node="n2", **done),
        _op(4, 5.0, "nemesis", "invoke", "start-kill", value={"targets": "one"}),
        _op(5, 5.1, "nemesis", "info", "start-kill", value={"nodes": ["n4"]}),
        _op(6, 6.0, 2, "invoke", "add", key="k3", value=7, node="n1"),
        _op(
            7,
            6.01,
            2,
            "ok",
            "add",
            key="k3",
            value=7,
            node="n1",
            coordinator="n1",
            replicas=["n1", "n3"],
            fallbacks=[],
        ),
        _op(8, 9.0, "nemesis", "invoke", "stop-kill", value={}),
        _op(9, 9.1, "nemesis", "info", "stop-kill", value={"nodes": ["n4"]}),
        _op(10, 63.2, 1000000, "invoke", "read", key="k3", value=None, node="n1", final=True),
        _op(
            11,
            63.21,
            1000000,
            "ok",
            "read",
            key="k3",
            value=[1, 7],
            node="n1",
            final=True,
            coordinator="n1",
            replicas=["n1", "n3"],
            fallbacks=[],
        ),
    ]


def lost_add_events() -> dict[str, list[dict[str, Any]]]:
    def ev(node: str, seq: int, t_s: float, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "time": int(t_s * S),
            "node": node,
            "generation": 1,
            "seq": seq,
            "node_ms": t_s * 1000 + 5000,
            "kind": kind,
            **fields,
        }

    return {
        "n2": [
            ev(
                "n2",
                1,
                4.465,
                "version-created",
                key="k3",
                req=7,
                dot="n2:7",
                value=[1, 5],
                hint_for=None,
                context={"n1": 1},
                targets=[["n2", None], ["n4", "n3"]],
                siblings=1,
                kept=True,
            ),
        ],
        "n4": [
            ev(
                "n4",
                1,
                4.466,
                "replica-write",
                key="k3",
                src="n2",
                req=7,
                hint_for="n3",
                applied=True,
                repair=False,
                error=None,
            ),
        ],
        "n1": [
            ev("n1", 1, 5.5, "peer-down", peer="n4"),
            ev(
                "n1",
                2,
                6.005,
                "version-created",
                key="k3",
                req=9,
                dot="n1:2",
                value=[1, 7],
                hint_for=None,
                context={"n1": 1},
                targets=[["n1", None], ["n3", None]],
                siblings=1,
                kept=True,
            ),
        ],
    }


def lost_add_results(lost_count: int = 1) -> dict[str, Any]:
    lost = {
        "key": "k3",
        "element": 5,
        "known_ns": int(4.47 * S),
        "last_seen_read": None,
        "missing_from": {
            "index": 11,
            "process": 1000000,
            "type": "ok",
            "f": "read",
            "key": "k3",
            "value": [1, 7],
            "start_ns": int(63.2 * S),
        },
    }
    return {
        "valid": False,
        "checkers": {
            "set": {
                "valid": False,
                "attempted": 3,
                "acknowledged": 3,
                "lost": lost_count,
                "lost_elements": [lost],
                "elements": [{"key": "k3", "element": 5, "acknowledged": True, "outcome": "lost"}],
            },
            "convergence": {"valid": True, "heal_ns": int(61.49 * S)},
        },
    }


def write_lost_add_run(tmp_path: pathlib.Path, lost_count: int = 1) -> pathlib.Path:
    run_dir = tmp_path / "set-kill" / "20240101T000000.000000Z"
    run_dir.mkdir(parents=True)
    history = "".join(json.dumps(line) + "\n" for line in lost_add_history())
    (run_dir / "history.jsonl").write_text(history, encoding="utf-8")
    (run_dir / "results.json").write_text(json.dumps(lost_add_results(lost_count)))
    test = {
        "workload": "set",
        "nemesis": ["kill"],
        "seed": 42,
        "versioning": "dvv",
        "time_limit_s": 60.0,
        "test": "set-kill",
        "git_commit": "caf5eee0123456789",
    }
    (run_dir / "test.json").write_text(json.dumps(test), encoding="utf-8")
    for node, events in lost_add_events().items():
        lines = "".join(json.dumps(e) + "\n" for e in events)
        (run_dir / f"{node}.events.jsonl").write_text(lines, encoding="utf-8")
    return run_dir
