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
