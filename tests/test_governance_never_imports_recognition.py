"""ARCHITECTURE.md: ``governance`` does not import ``recognition`` — not in code, not in management
commands. Recognition reaches governance through the registries governance defines."""

import ast
from pathlib import Path

from django.conf import settings


def _recognition_imports(path: Path, root: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno} {name}" for name in names if name.split(".")[0] == "recognition"
        ]
    return found


def test_no_governance_module_imports_recognition():
    offenders = [
        hit
        for path in sorted((settings.BASE_DIR / "governance").rglob("*.py"))
        for hit in _recognition_imports(path, settings.BASE_DIR)
    ]
    assert offenders == []


def test_the_check_sees_an_import_when_there_is_one(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("import recognition\n\ndef f():\n    from recognition.deployments.models import Alert\n")
    assert _recognition_imports(module, tmp_path) == ["x.py:1 recognition", "x.py:4 recognition.deployments.models"]
