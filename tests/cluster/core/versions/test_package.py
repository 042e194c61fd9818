"""The package's shape: the facade ``cluster.core.versions`` exports every name the code base
imports from it, and the package's modules import one another without cycles (imports under
``TYPE_CHECKING`` included), so that each can be imported, and type-checked, on its own."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import cluster.core.versions as facade

PACKAGE = facade.__name__
PACKAGE_DIR = Path(facade.__file__).parent
REPOSITORY = PACKAGE_DIR.parents[2]
# Where the code that imports the facade lives (not ``results/`` nor the virtualenv).
SOURCE_DIRS = ("cluster", "nemesis", "workloads", "checker", "zynamo", "tests", "bench")
MODULES = sorted(module.name for module in pkgutil.iter_modules([str(PACKAGE_DIR)]))


def package_imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports, wherever in the file (``"__init__"`` for
    the facade itself)."""
    tree = ast.parse((PACKAGE_DIR / f"{module}.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: from . import x
            names = [node.module] if node.module else [alias.name for alias in node.names]
            imported.update(f"{PACKAGE}.{name}" for name in names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    inside = {name.removeprefix(f"{PACKAGE}.") for name in imported if name.startswith(PACKAGE)}
    return {"__init__" if name == PACKAGE else name.split(".")[0] for name in inside}


def test_the_modules_import_one_another_without_cycles() -> None:
    graph = {module: package_imports(module) for module in MODULES}
    assert set(MODULES) >= {"context", "siblings", "dvv", "vclock", "lww"}
    for module, imported in graph.items():
        assert "__init__" not in imported, f"{module} imports the facade"
        assert imported <= set(MODULES), f"{module} imports {imported - set(MODULES)}"
    # Kahn's algorithm: repeatedly take the modules whose imports are all taken already.
    ordered: list[str] = []
    while len(ordered) < len(graph):
        ready = sorted(m for m, deps in graph.items() if m not in ordered and deps <= set(ordered))
        assert ready, f"import cycle among {sorted(set(graph) - set(ordered))}"
        ordered += ready


def names_imported_from_the_facade() -> set[str]:
    """Every name any module of the repository imports with ``from cluster.core.versions
    import ...``."""
    names: set[str] = set()
    paths = [path for top in SOURCE_DIRS for path in (REPOSITORY / top).rglob("*.py")]
    for path in paths:
        if PACKAGE_DIR in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == PACKAGE and not node.level:
                names.update(alias.name for alias in node.names)
    return names


def test_the_facade_exports_every_name_the_code_base_imports_from_it() -> None:
    imported = names_imported_from_the_facade()
    assert {"Context", "Siblings", "Versioning", "versioning", "VERSIONINGS"} <= imported
    assert imported <= set(facade.__all__)
    for name in facade.__all__:
        assert getattr(facade, name) is not None, name
