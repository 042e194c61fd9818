"""The results store as ``zynamo serve`` lists it: every run directory under ``results/``
(``<test>/<timestamp>/`` holding a ``test.json`` or a ``history.jsonl``) with what a person
scans a list for — name, time, verdict, environment, seed, operations, failing checkers.

``scan_runs`` reads the small files of each run (file I/O, no writes); ``safe_path`` decides
which paths of the store may be served. Everything else is pure.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class RunInfo:
    path: str  # relative to the results directory, with "/" separators
    test: str
    started: str  # ISO time, from the directory's name or its modification time
    verdict: str  # valid, invalid, unknown, not checked
    env: str
    seed: object
    operations: int | None
    failing: tuple[str, ...] = ()
    workload: str = ""
    nemesis: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


def _json(path: pathlib.Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _started(run_dir: pathlib.Path) -> str:
    try:
        stamp = datetime.strptime(run_dir.name, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        stamp = datetime.fromtimestamp(run_dir.stat().st_mtime, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _verdict(results: Mapping[str, Any] | None) -> tuple[str, tuple[str, ...]]:
    if results is None:
        return "not checked", ()
    valid = results.get("valid")
    word = "valid" if valid is True else "invalid" if valid is False else "unknown"
    checkers = results.get("checkers")
    failing: tuple[str, ...] = ()
    if isinstance(checkers, Mapping):
        failing = tuple(
            str(n)
            for n, r in checkers.items()
            if isinstance(r, Mapping) and r.get("valid") is not True
        )
    return word, failing


def _operations(results: Mapping[str, Any] | None) -> int | None:
    checkers = (results or {}).get("checkers")
    if isinstance(checkers, Mapping):
        for result in checkers.values():
            if isinstance(result, Mapping):
                for name in ("ops", "op_count"):
                    if isinstance(result.get(name), int):
                        return int(result[name])
    return None


def read_run(results_dir: pathlib.Path, run_dir: pathlib.Path) -> RunInfo:
    test = _json(run_dir / "test.json") or {}
    results = _json(run_dir / "results.json")
    verdict, failing = _verdict(results)
    nemesis = test.get("nemesis")
    return RunInfo(
        path=run_dir.relative_to(results_dir).as_posix(),
        test=str(test.get("test") or test.get("name") or run_dir.parent.name),
        started=_started(run_dir),
        verdict=verdict,
        env=str(test.get("env") or "real"),
        seed=test.get("seed"),
        operations=_operations(results),
        failing=failing,
        workload=str(test.get("workload") or ""),
        nemesis="+".join(map(str, nemesis)) if isinstance(nemesis, list) else str(nemesis or ""),
        options=test,
    )


def scan_runs(results_dir: pathlib.Path) -> list[RunInfo]:
    """Every run under ``results_dir`` (two levels: test, then run), newest first. Symbolic
    links (``latest``) are not followed: each run is listed once, under its real place."""
    runs: list[RunInfo] = []
    if not results_dir.is_dir():
        return runs
    for test_dir in sorted(results_dir.iterdir()):
        if test_dir.is_symlink() or not test_dir.is_dir():
            continue
        for run_dir in sorted(test_dir.iterdir()):
            if run_dir.is_symlink() or not run_dir.is_dir():
                continue
            if (run_dir / "test.json").is_file() or (run_dir / "history.jsonl").is_file():
                runs.append(read_run(results_dir, run_dir))
    runs.sort(key=lambda r: r.started, reverse=True)
    return runs


def safe_path(results_dir: pathlib.Path, relative: str) -> pathlib.Path | None:
    """The file or directory ``relative`` names inside ``results_dir``, or None when it would
    leave it: ``..``, absolute paths, and symbolic links whose target is outside (``latest``,
    which points inside, is fine)."""
    root = results_dir.resolve()
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if any(p == ".." or "\\" in p or "\x00" in p for p in parts):
        return None
    candidate = root.joinpath(*parts) if parts else root
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if resolved != root and root not in resolved.parents:
        return None
    return resolved
