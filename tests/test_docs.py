"""The documents agree with the code (issue 24): every BENCHMARKS.md section is written from a committed results
file, every test SECURITY.md names as a control's proof exists, and every command, make target and benchmark module
README.md, SECURITY.md and ``docs/`` tell a reader to run exists. Reads files only: no database."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
# Django's own management commands the documents may name.
DJANGO_COMMANDS = {"migrate", "check", "collectstatic", "createsuperuser", "makemigrations", "shell", "runserver"}


def _test_functions() -> dict[str, set[str]]:
    """{test function name: the test files defining it}."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                found.setdefault(node.name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_benchmarks_section_is_written_from_a_results_file_that_names_its_machine():
    text = (ROOT / "BENCHMARKS.md").read_text()
    sections = re.findall(r"<!-- bench:([\w-]+) -->", text)
    assert sections, "BENCHMARKS.md has no generated sections"
    assert sorted(sections) == sorted(set(re.findall(r"<!-- /bench:([\w-]+) -->", text)))
    for name in sections:
        results = ROOT / "benchmarks" / "results" / f"{name}.json"
        assert results.exists(), f"section {name} has no results file {results.relative_to(ROOT)}"
        payload = json.loads(results.read_text())
        assert payload["name"] == name and payload["command"].startswith(("python -m benchmarks.", "DATABASE_URL="))
        assert payload["machine"]["cpu"] and "load_average_1m" in payload["machine"], name


def test_every_test_security_md_names_exists():
    text = (ROOT / "SECURITY.md").read_text()
    defined = _test_functions()
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(test_\w+))?`", text)
    assert len(named) > 50
    for path, function in named:
        assert (ROOT / path).exists(), path
        if function:
            assert path in defined.get(function, set()), f"{path}::{function} does not exist"
    for function in set(re.findall(r"`(test_\w+)`", text)):  # a bare name: defined somewhere under tests/
        assert function in defined, f"{function} does not exist"


def test_every_command_target_and_benchmark_module_the_documents_name_exists():
    commands = {path.stem for path in ROOT.glob("*/management/commands/*.py")} | {
        path.stem for path in ROOT.glob("*/*/management/commands/*.py")
    }
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    for document in DOCUMENTS:
        text = document.read_text()
        for command in set(re.findall(r"manage\.py ([a-z_]+)", text)):
            assert command in commands | DJANGO_COMMANDS, f"{document.name}: manage.py {command}"
        for target in set(re.findall(r"`make ([a-z][\w-]*)", text)):
            assert target in targets, f"{document.name}: make {target}"
        for module in set(re.findall(r"python -m (benchmarks(?:\.\w+)+)", text)):
            path = ROOT / module.replace(".", "/")
            assert path.with_suffix(".py").exists() or (path / "__main__.py").exists(), f"{document.name}: {module}"
