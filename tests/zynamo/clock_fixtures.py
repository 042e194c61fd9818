"""A small run directory with clock faults of every mode and a kill, for the report's tests:
five nodes; a bump of n1, a strobe of n2 and n3, a drift of n5 while n4 is killed, a scramble
of every node healed at the end; clients whose requests to n4 fail while it is down."""

from __future__ import annotations

import json
import pathlib
from typing import Any

NODES = ("n1", "n2", "n3", "n4", "n5")


def _nemesis(t_s: float, f: str, type_: str, value: Any) -> dict[str, Any]:
    return {"time": round(t_s * 1e9), "process": "nemesis", "type": type_, "f": f, "value": value}


def _effect(summary: str) -> dict[str, Any]:
    return {"summary": summary, "mattered": True}


def clock_history() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for step in range(140):  # a request every 0.1 s, to each node in turn
        t_s = step * 0.1
        node = NODES[step % 5]
        down = node == "n4" and 7.0 <= t_s < 9.0
        common = {"process": step % 4, "f": "add", "key": "k1", "value": step, "node": node}
        lines.append({"time": round(t_s * 1e9), "type": "invoke", **common})
        done = {"type": "fail", "error": "could not connect"} if down else {"type": "ok"}
        lines.append({"time": round((t_s + 0.02) * 1e9), **common, **done})
    strobe = {
        "mode": "strobe",
        "nodes": ["n2", "n3"],
        "delta_ms": 800,
        "period_ms": 100,
        "duration_ms": 900,
        "flips": 10,
        "base_offsets": {"n2": 0.0, "n3": 0.0},
        "offsets": {"n2": 0.0, "n3": 0.0},
        "effect": _effect("clock strobe: n2, n3 flipped +800 ms and back every 100 ms, 10 times"),
    }
    scramble = {"n1": -900.0, "n2": 300.0, "n3": 1200.0, "n4": -200.0, "n5": 50.0}
    reset = {"offsets": dict.fromkeys(NODES, 0.0), "effect": _effect("clocks reset")}
    lines += [
        _nemesis(2.0, "start-clock", "invoke", {"mode": "bump", "targets": "one"}),
        _nemesis(
            2.0,
            "start-clock",
            "info",
            {"mode": "bump", "offsets": {"n1": 1500.0}, "effect": _effect("n1 +1,500 ms")},
        ),
        _nemesis(4.0, "stop-clock", "invoke", {}),
        _nemesis(4.0, "stop-clock", "info", reset),
        _nemesis(5.0, "start-clock", "invoke", {"mode": "strobe", "targets": "minority"}),
        _nemesis(6.0, "start-clock", "info", strobe),
        _nemesis(6.5, "stop-clock", "invoke", {}),
        _nemesis(6.5, "stop-clock", "info", reset),
        _nemesis(7.0, "start-kill", "invoke", {"targets": "one"}),
        _nemesis(7.0, "start-kill", "info", {"nodes": ["n4"], "effect": _effect("kill n4")}),
        _nemesis(7.5, "start-clock", "invoke", {"mode": "drift", "targets": "one"}),
        _nemesis(
            7.5,
            "start-clock",
            "info",
            {
                "mode": "drift",
                "drifts_ppm": {"n5": 100_000},
                "offsets": {"n5": 0.0},
                "effect": _effect("clock drift: n5 +100,000 ppm"),
            },
        ),
        _nemesis(9.0, "stop-kill", "invoke", {}),
        _nemesis(
            9.0,
            "stop-kill",
            "info",
            {"nodes": ["n4"], "down_s": {"n4": 2.0}, "effect": _effect("n4: down 2.0 s")},
        ),
        _nemesis(10.0, "stop-clock", "invoke", {}),
        _nemesis(10.0, "stop-clock", "info", reset),
        _nemesis(11.0, "start-clock", "invoke", {"mode": "scramble", "targets": "all"}),
        _nemesis(
            11.0,
            "start-clock",
            "info",
            {"mode": "scramble", "offsets": scramble, "effect": _effect("clock scramble")},
        ),
        _nemesis(14.0, "stop-all", "invoke", None),
        _nemesis(14.0, "stop-all", "info", {"healed": True}),
    ]
    lines.sort(key=lambda line: line["time"])
    return [{"index": i, **line} for i, line in enumerate(lines)]


def write_run(
    results: pathlib.Path, history: list[dict[str, Any]], name: str = "clock-run"
) -> pathlib.Path:
    run = results / name / "20240101T000000Z"
    run.mkdir(parents=True)
    text = "".join(json.dumps(line) + "\n" for line in history)
    (run / "history.jsonl").write_text(text, encoding="utf-8")
    test = {"test": name, "nodes": len(NODES), "nemesis": ["clock", "kill"], "seed": 1}
    (run / "test.json").write_text(json.dumps(test), encoding="utf-8")
    (run / "results.json").write_text(json.dumps({"valid": True, "checkers": {}}))
    return run


def without_clock_faults(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same run with its clock ops left out (the kill stays)."""
    return [line for line in history if not str(line.get("f", "")).endswith("-clock")]
