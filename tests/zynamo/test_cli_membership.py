"""`zynamo cluster join` and `zynamo cluster leave` against a real cluster: the ring changes,
the data follows, every key stays readable, a node that left can come back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.net.local import LocalCluster
from zynamo.cli import EXIT_BAD_ARGS, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Exit code, and what was printed on stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cluster"
    yield directory
    if (directory / "cluster.json").exists():  # leave nothing running, whatever happened
        LocalCluster.load(directory).stop()


def table_nodes(out: str) -> list[str]:
    """The node names of the status table (the lines between its heading and the views)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("node ")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("views"))
    return [line.split()[0] for line in lines[start:end]]


def test_join_then_leave_keeps_every_key_readable(
    capsys: pytest.CaptureFixture[str], cluster_dir: Path
) -> None:
    d = str(cluster_dir)
    assert run(capsys, "cluster", "start", "--dir", d, "--nodes", "3", "--partitions", "16")[0] == 0
    keys = [f"key{i}" for i in range(20)]
    for key in keys:
        assert run(capsys, "kv", "put", "--dir", d, key, f"{key}-value")[0] == 0

    code, out = run(capsys, "cluster", "join", "--dir", d)
    assert code == 0, out
    assert "n4 has joined" in out
    code, out = run(capsys, "cluster", "status", "--dir", d)
    assert code == 0 and table_nodes(out) == ["n1", "n2", "n3", "n4"]
    assert out.count("member  v2") == 4  # every node: a member, on the second ring

    code, out = run(capsys, "cluster", "leave", "n2", "--dir", d)
    assert code == 0, out
    assert "n2 handed its data to the others and was stopped" in out
    code, out = run(capsys, "cluster", "status", "--dir", d)
    assert code == 0 and table_nodes(out) == ["n1", "n3", "n4"] and "left: n2" in out

    for key in keys:
        code, out = run(capsys, "kv", "get", "--dir", d, key)
        assert code == 0 and out.splitlines()[0] == f'"{key}-value"', (key, out)

    code, out = run(capsys, "cluster", "join", "--dir", d, "--node", "n2")
    assert code == 0 and "n2 has joined" in out, out
    code, out = run(capsys, "cluster", "status", "--dir", d)
    assert table_nodes(out) == ["n1", "n2", "n3", "n4"] and "left:" not in out


def test_membership_commands_name_what_is_wrong(
    capsys: pytest.CaptureFixture[str], cluster_dir: Path
) -> None:
    d = str(cluster_dir)
    assert run(capsys, "cluster", "start", "--dir", d, "--nodes", "2", "--partitions", "8")[0] == 0
    code, out = run(capsys, "cluster", "leave", "n9", "--dir", d)
    assert code == EXIT_BAD_ARGS and "n9" in out and "n1, n2" in out
    code, out = run(capsys, "cluster", "join", "--dir", d, "--node", "n1")
    assert code == EXIT_BAD_ARGS and "already a member" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["cluster", "join", "--dir", d, "--timeout", "-3"])
    assert exit_info.value.code == EXIT_BAD_ARGS
