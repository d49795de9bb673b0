"""Benchmarks live apart from the product: nothing in ``governance/``, ``recognition/`` or ``config/`` imports the
top-level ``benchmarks`` package, no test imports it (tests may run a benchmark's command, as a user would), and no
benchmark module sits in an app package. Run alone: ``pytest tests/test_import_boundaries.py``."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def imports_of(path: Path, package: str, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found += [f"{path.relative_to(root)}:{node.lineno} {name}" for name in names if name.split(".")[0] == package]
    return found


def test_no_product_module_imports_benchmarks():
    offenders = [
        hit
        for folder in ("governance", "recognition", "config")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in imports_of(path, "benchmarks")
    ]
    assert offenders == []


def test_no_test_imports_benchmarks():
    offenders = [hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in imports_of(path, "benchmarks")]
    assert offenders == []


def test_no_benchmark_module_in_an_app_package():
    stray = [
        str(path.relative_to(ROOT))
        for folder in ("governance", "recognition", "config")
        for path in (ROOT / folder).rglob("*.py")
        if "bench" in path.stem
    ]
    assert stray == []


def test_the_check_sees_an_import_when_there_is_one(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("import benchmarks\n\ndef f():\n    from benchmarks.engine import camera_frames\n")
    assert imports_of(module, "benchmarks", tmp_path) == ["x.py:1 benchmarks", "x.py:4 benchmarks.engine"]


# --- import circles --------------------------------------------------------------------------------------------------
# Every import between product modules counts, a deferred one (inside a function) included: deferring an import hides
# a circle from Python at start-up, not from the engineer who has to read both modules to change either. The circles
# still open would be named here with the reason each stays (none is, since issue 24 closed the last six); a new circle
# fails, and so does a named one that is gone (take it off the list). Run alone:
# ``pytest tests/test_import_boundaries.py -k circle``.
KNOWN_CIRCLES: dict[frozenset[str], str] = {}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT, folders=("governance", "recognition", "config")) -> dict[str, set[str]]:
    """Module → the product modules it imports, at any depth of its code (migrations left out)."""
    paths = {
        module_name(path, root): path
        for folder in folders
        for path in sorted((root / folder).rglob("*.py"))
        if "migrations" not in path.parts
    }

    def resolve(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found |= {resolve(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                found |= {resolve(f"{base}.{alias.name}") or resolve(base) for alias in node.names}
        graph[module] = {name for name in found if name and name != module}
    return graph


def import_circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: set[frozenset[str]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.add(frozenset(group))
    return circles


def test_no_new_import_circle_in_product_code():
    new = [sorted(circle) for circle in import_circles(import_graph()) if circle not in KNOWN_CIRCLES]
    assert new == []


def test_every_known_circle_is_still_open():
    closed = [sorted(circle) for circle in KNOWN_CIRCLES if circle not in import_circles(import_graph())]
    assert closed == [], "closed: take these off KNOWN_CIRCLES"


def test_the_check_sees_a_circle_through_a_deferred_import(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import g\n\ndef f():\n    return g()\n")
    (tmp_path / "pkg" / "b.py").write_text("def g():\n    from . import a\n\n    return a\n")
    (tmp_path / "pkg" / "c.py").write_text("from pkg import a\n")
    graph = import_graph(tmp_path, folders=("pkg",))
    assert graph["pkg.c"] == {"pkg.a"}
    assert import_circles(graph) == {frozenset({"pkg.a", "pkg.b"})}
