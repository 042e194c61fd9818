"""`zynamo cluster` and `zynamo kv` against a real 3-node cluster started in the background,
and the 254 exit code with a message naming the option for bad options."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.core.config import ClusterConfig
from cluster.net.local import LocalCluster
from zynamo.cli import EXIT_BAD_ARGS, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cluster"
    yield directory
    if (directory / "cluster.json").exists():  # whatever the test did, leave nothing running
        LocalCluster.load(directory).stop()


def test_start_kv_status_stop(capsys: pytest.CaptureFixture[str], cluster_dir: Path) -> None:
    d = str(cluster_dir)
    code, out, _ = run(capsys, "cluster", "start", "--nodes", "3", "--dir", d)
    assert code == 0, out
    assert "n1" in out and "n3" in out and "tcp://127.0.0.1:" in out
    pids = {
        name: node["pid"]
        for name, node in json.loads((cluster_dir / "cluster.json").read_text())["nodes"].items()
    }
    assert sorted(pids) == ["n1", "n2", "n3"] and all(pid_exists(p) for p in pids.values())

    code, out, _ = run(capsys, "kv", "put", "--dir", d, "cart", "milk")
    assert code == 0 and out.startswith("ok: version {")
    code, out, _ = run(capsys, "kv", "get", "--dir", d, "cart")
    lines = out.splitlines()
    assert code == 0 and lines[0] == '"milk"' and lines[1].startswith("context: ")
    context = lines[1].removeprefix("context: ")

    # A second write with the same (old) context makes a sibling; get prints both.
    run(capsys, "kv", "put", "--dir", d, "cart", "eggs", "--context", context, "--node", "n1")
    run(capsys, "kv", "put", "--dir", d, "cart", "bread", "--context", context, "--node", "n2")
    code, out, _ = run(capsys, "kv", "get", "--dir", d, "cart", "--r", "3")
    assert code == 0
    assert sorted(out.splitlines()[:2]) == ['"bread"', '"eggs"']
    merged = next(x for x in out.splitlines() if x.startswith("context: "))

    code, out, _ = run(
        capsys, "kv", "put", "--dir", d, "doc", '{"a": [1, 2]}', "--json", "--w", "3"
    )
    assert code == 0
    assert run(capsys, "kv", "get", "--dir", d, "doc")[1].splitlines()[0] == '{"a": [1, 2]}'

    code, out, _ = run(
        capsys, "kv", "delete", "--dir", d, "cart", "--context", merged.removeprefix("context: ")
    )
    assert code == 0 and out.startswith("deleted")
    code, out, _ = run(capsys, "kv", "get", "--dir", d, "cart")
    assert code == 0 and out.splitlines()[0] == "(not found)"

    code, out, _ = run(capsys, "cluster", "status", "--dir", d)
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    for name, pid in pids.items():
        assert rows[name][1] == str(pid) and rows[name][3] == "running"
        assert rows[name][5:] == ["n1", "n2", "n3"]  # every node sees every node up

    code, out, _ = run(capsys, "cluster", "stop", "--dir", d)
    assert code == 0 and "stopped" in out
    assert not any(pid_exists(p) for p in pids.values())
    code, out, _ = run(capsys, "cluster", "status", "--dir", d)
    assert code == 1 and out.count("stopped") == 3


def test_kill_then_start_again_serves_the_data(
    capsys: pytest.CaptureFixture[str], cluster_dir: Path
) -> None:
    d = str(cluster_dir)
    assert run(capsys, "cluster", "start", "--nodes", "3", "--dir", d)[0] == 0
    assert run(capsys, "kv", "put", "--dir", d, "k", "before", "--w", "3")[0] == 0
    code, out, _ = run(capsys, "cluster", "kill", "--dir", d, "--node", "n2")
    assert code == 0 and "killed n2" in out
    # R=W=2 with one node of three dead: still served.
    assert run(capsys, "kv", "get", "--dir", d, "k", "--r", "2")[1].startswith('"before"')
    code, out, _ = run(capsys, "cluster", "start", "--dir", d)
    assert code == 0 and "restarting n2" in out
    code, out, _ = run(capsys, "kv", "get", "--dir", d, "k", "--node", "n2", "--r", "1")
    assert code == 0 and out.startswith('"before"')


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["cluster", "start", "--nodes", "0", "--dir", "D"], "--nodes"),
        (["cluster", "start", "--nodes", "three", "--dir", "D"], "--nodes"),
        (["cluster", "start", "--dir", "D", "--r", "5"], "--r"),
        (["cluster", "start", "--dir", "D", "--n", "7"], "--n"),
        (["cluster", "start", "--dir", "D", "--versioning", "crdt"], "--versioning"),
        (["cluster", "start", "--nodes", "3"], "--dir"),
        (["cluster", "explode", "--dir", "D"], "explode"),
        (["cluster", "status", "--dir", "D"], "--dir"),
        (["kv", "get", "--dir", "D", "k"], "--dir"),
        (["kv", "delete", "--dir", "D", "k"], "--context"),
        (["kv", "get", "--dir", "D", "k", "--r", "-1"], "--r"),
    ],
)
def test_bad_options_exit_254_naming_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], named: str
) -> None:
    argv = [str(tmp_path / "nothing-here") if a == "D" else a for a in argv]
    with pytest.raises(SystemExit) as exited:
        code = main(argv)
        raise SystemExit(code)
    assert exited.value.code == EXIT_BAD_ARGS
    assert named in capsys.readouterr().err
    assert not (tmp_path / "nothing-here").exists()  # nothing was started


def test_kv_put_json_must_parse(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    LocalCluster(tmp_path, ClusterConfig(nodes=("n1",), n=1, r=1, w=1)).save()  # not started
    code = main(["kv", "put", "--dir", str(tmp_path), "k", "{oops", "--json"])
    assert code == EXIT_BAD_ARGS
    assert "--json" in capsys.readouterr().err
