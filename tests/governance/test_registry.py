"""The registries' one shape (``governance.registry.Registry``): things kept by name in registration order, the same
thing registered twice kept once, a different thing under a taken name refused (unless the registry is a swappable
slot), and every ``*_register`` function in product code keeping its things in a ``Registry``, not a dict or list of
its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance.registry import Registry

ROOT = Path(settings.BASE_DIR)


def test_things_are_kept_by_name_in_registration_order():
    rules = Registry("retention rule")
    second, first = object(), object()
    assert rules.register("b", second) is second
    rules.register("a", first)
    assert rules.values() == [second, first]
    assert rules.items() == [("b", second), ("a", first)]
    assert list(rules) == ["b", "a"] and len(rules) == 2 and "a" in rules
    assert rules["a"] is first and rules.get("a") is first and rules.get("missing") is None
    with pytest.raises(KeyError):
        rules["missing"]


def test_the_same_thing_registered_again_is_kept_once():
    rules = Registry("retention rule")
    rule = ("policy_document.processing_ended", 6)
    rules.register(rule[0], rule)
    rules.register(rule[0], rule)
    rules.register(rule[0], tuple(rule))  # equal is the same thing (a frozen dataclass made again)
    assert rules.values() == [rule]


def test_a_different_thing_under_a_taken_name_is_refused():
    rules = Registry("retention rule")
    rules.register("alerts", "kept 31 days")
    with pytest.raises(ImproperlyConfigured, match="Two retention rules are registered as 'alerts'"):
        rules.register("alerts", "kept forever")
    assert rules.values() == ["kept 31 days"]


def test_a_swappable_slot_takes_the_newer_thing():
    hooks = Registry("face hook", replace=True)
    hooks.register("face_reader", "first engine")
    hooks.register("face_reader", "second engine")
    assert hooks.items() == [("face_reader", "second engine")]


def test_a_snapshot_restores_what_a_test_cleared():
    panels = Registry("home panel")
    panels.register("alerts", "alerts waiting")
    saved = panels.snapshot()
    panels.clear()
    panels.register("test", "a test's panel")
    panels.restore(saved)
    assert panels.items() == [("alerts", "alerts waiting")]


REGISTER = re.compile(r"(^register_|_register$)")


def hand_built_registrations(path: Path, root: Path = ROOT) -> list[str]:
    """``*_register`` functions that write into a container of their own (``X[name] = …``, ``.append``,
    ``.update``, ``.setdefault``) instead of calling a ``Registry``'s ``register``. Pages named after a register
    (``breach_register(request)``, the breach register's page) are not registries."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.FunctionDef) or not REGISTER.search(node.name):
            continue
        if node.args.args and node.args.args[0].arg == "request":
            continue
        for inner in ast.walk(node):
            writes = (isinstance(inner, ast.Assign) and any(isinstance(t, ast.Subscript) for t in inner.targets)) or (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in ("append", "update", "setdefault")
            )
            if writes:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}")
                break
    return found


def test_every_registry_in_product_code_is_a_registry():
    offenders = [
        hit
        for folder in ("governance", "recognition")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts
        for hit in hand_built_registrations(path)
    ]
    assert offenders == []


def test_the_check_sees_a_hand_built_registry(tmp_path):
    module = tmp_path / "x.py"
    module.write_text(
        "_RULES = {}\n\ndef rule_register(rule):\n    _RULES[rule.code] = rule\n\n"
        "_HOOKS = []\n\ndef register_hook(hook):\n    _HOOKS.append(hook)\n\n"
        "def panel_register(panel):\n    return _PANELS.register(panel.code, panel)\n\n"
        "def breach_register(request):\n    context = {}\n    context['rows'] = []\n"
    )
    assert hand_built_registrations(module, tmp_path) == ["x.py:3 rule_register", "x.py:8 register_hook"]
