"""The import rules of DESIGN.md as a contract, checked on every test run.

Every import in the project's packages — at module level, inside functions and under
``TYPE_CHECKING`` alike — is read from the source (not by importing it) and held against the
rules below. A failure names the file, the line and the import, and the rule it breaks:

- ``checker`` imports no other package of the project (it stands alone);
- ``cluster`` imports none of ``nemesis``, ``workloads``, ``checker``, ``zynamo``;
- ``cluster``'s layers point one way: ``core`` imports no other layer; ``storage`` only
  ``core``; ``net`` and ``sim`` only ``core`` and ``storage`` (never each other);
- ``cluster/core`` imports no module that does I/O, and uses no module-level randomness (a
  ``random.Random`` is passed in);
- code outside a ``cluster`` layer imports that layer's facade (``cluster.core``), never one
  of its modules (tests and benchmarks may reach inside);
- no import cycles among the project's modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cluster", "nemesis", "workloads", "checker", "zynamo")
LAYERS = ("core", "storage", "net", "sim")
# What each layer of ``cluster`` may import from the other layers.
LAYER_MAY_IMPORT = {
    "core": set(),
    "storage": {"core"},
    "net": {"core", "storage"},
    "sim": {"core", "storage"},
}
IO_MODULES = frozenset(
    {
        "asyncio",
        "multiprocessing",
        "os",
        "pathlib",
        "select",
        "selectors",
        "shutil",
        "signal",
        "socket",
        "sqlite3",
        "subprocess",
        "sys",
        "tempfile",
        "threading",
        "time",
        "zmq",
    }
)


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is written."""

    source: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported module, dotted

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module or package of the project."""
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(source, path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from pkg import sub`` imports the module ``pkg.sub`` when there is one.
                target = f"{base}.{alias.name}"
                found.append(
                    Import(source, path, node.lineno, target if is_module(target) else base)
                )
    return found


def all_imports() -> list[Import]:
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += imports_of(path)
    return found


def top(dotted: str) -> str:
    return dotted.split(".")[0]


def layer_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cluster" and parts[1] in LAYERS else None


def violations(imports: list[Import]) -> list[str]:
    """Every broken rule, one line each (empty when the tree keeps the contract)."""
    broken: list[str] = []
    for imp in imports:
        src_pkg, dst_pkg = top(imp.source), top(imp.target)
        internal = dst_pkg in PACKAGES
        if src_pkg == "checker" and internal and dst_pkg != "checker":
            broken.append(f"{imp}: checker imports no other package of the project")
        if src_pkg == "cluster" and dst_pkg in ("nemesis", "workloads", "checker", "zynamo"):
            broken.append(f"{imp}: cluster imports none of nemesis, workloads, checker, zynamo")
        src_layer, dst_layer = layer_of(imp.source), layer_of(imp.target)
        crosses = src_layer and dst_layer and dst_layer != src_layer
        if crosses and dst_layer not in LAYER_MAY_IMPORT[src_layer]:
            allowed = ", ".join(sorted(LAYER_MAY_IMPORT[src_layer])) or "no other layer"
            broken.append(f"{imp}: cluster.{src_layer} may import {allowed}")
        if src_layer == "core" and top(imp.target) in IO_MODULES:
            broken.append(f"{imp}: cluster.core does no I/O")
        if dst_layer and src_layer != dst_layer and imp.target != f"cluster.{dst_layer}":
            broken.append(
                f"{imp}: outside its layer, import the facade cluster.{dst_layer} instead"
            )
    return broken


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def module_level_randomness(path: Path) -> list[str]:
    """Uses of ``random.<function>`` (the hidden module-level generator) in ``path``; only the
    ``random.Random`` type is allowed, for a generator that is passed in."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "random"
            and node.attr != "Random"
        ):
            found.append(
                f"{shown(path)}:{node.lineno} uses random.{node.attr}: pass a random.Random in"
            )
        if isinstance(node, ast.ImportFrom) and node.module == "random":
            names = [a.name for a in node.names if a.name != "Random"]
            if names:
                found.append(f"{shown(path)}:{node.lineno} imports {', '.join(names)} from random")
    return found


def cycles(imports: list[Import]) -> list[list[str]]:
    graph = nx.DiGraph()
    for imp in imports:
        if top(imp.target) in PACKAGES and imp.target != imp.source:
            graph.add_edge(imp.source, imp.target)
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_the_tree_keeps_the_import_rules() -> None:
    assert violations(all_imports()) == []


def test_the_core_uses_no_module_level_randomness() -> None:
    found = []
    for path in sorted((ROOT / "cluster" / "core").rglob("*.py")):
        found += module_level_randomness(path)
    assert found == []


def test_no_import_cycles_type_checking_imports_included() -> None:
    assert cycles(all_imports()) == []


# ----------------------------------------------------------------------- the checks can fail


def planted(source: str, path: str, target: str) -> Import:
    return Import(source, ROOT / path, 1, target)


@pytest.mark.parametrize(
    ("imp", "rule"),
    [
        (planted("cluster.core.node", "cluster/core/node.py", "sqlite3"), "does no I/O"),
        (planted("cluster.core.ring", "cluster/core/ring.py", "zmq"), "does no I/O"),
        (planted("cluster.core.node", "cluster/core/node.py", "cluster.storage"), "may import"),
        (planted("cluster.sim.simulator", "cluster/sim/simulator.py", "cluster.net"), "may"),
        (planted("checker.wgl", "checker/wgl.py", "cluster.core"), "checker imports no"),
        (planted("cluster.net.local", "cluster/net/local.py", "nemesis.grudge"), "cluster imports"),
        (planted("workloads.set", "workloads/set.py", "cluster.net.client"), "the facade"),
    ],
)
def test_each_rule_names_the_offending_import(imp: Import, rule: str) -> None:
    broken = violations([imp])
    assert broken and rule in broken[0] and str(imp) in broken[0]


def test_a_cycle_is_found_and_named() -> None:
    loop = [
        planted("cluster.core.a", "cluster/core/node.py", "cluster.core.b"),
        planted("cluster.core.b", "cluster/core/ring.py", "cluster.core.a"),
    ]
    assert cycles(loop) == [["cluster.core.a", "cluster.core.b"]]


def test_module_level_randomness_is_found(tmp_path: Path) -> None:
    sneaky = tmp_path / "jitter.py"
    sneaky.write_text("import random\nfrom random import choice\n\nx = random.random()\n")
    assert module_level_randomness(sneaky) == [
        "jitter.py:2 imports choice from random",
        "jitter.py:4 uses random.random: pass a random.Random in",
    ]
