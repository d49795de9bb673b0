"""Every row lock in product code goes through ``governance.locks.lock_rows`` (issue 24, item 4).

A ``select_for_update()`` written out by hand locks ``FOR UPDATE``, with every row ``select_related`` joins: before
an audit event that is the deadlock ``governance.locks`` describes. The scan reads the source (``ast``), so a new
service that bypasses the helper fails here before it meets a load test. Run alone: ``pytest tests/test_row_locks.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.locks import lock_rows
from tests.conftest import require

ROOT = Path(settings.BASE_DIR)
PRODUCT = ("governance", "recognition", "config")
HELPER = Path("governance/locks.py")


def row_locks_in(path: Path, root: Path = ROOT) -> list[str]:
    """Each ``….select_for_update(…)`` call in ``path``, as ``file:line``."""
    lines = sorted(
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "select_for_update"
    )
    return [f"{path.relative_to(root)}:{line}" for line in lines]


def test_no_product_code_takes_a_row_lock_but_through_lock_rows():
    offenders = [
        hit
        for folder in PRODUCT
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts and path.relative_to(ROOT) != HELPER
        for hit in row_locks_in(path)
    ]
    assert offenders == [], "lock rows with governance.locks.lock_rows: " + ", ".join(offenders)


def test_the_scan_sees_a_row_lock_when_there_is_one(tmp_path):
    module = tmp_path / "x.py"
    module.write_text(
        "def f(Model, pk):\n"
        "    Model.objects.select_for_update().get(pk=pk)\n"
        "    return Model.objects.filter(pk=pk).select_for_update(of=('self',))\n"
    )
    assert row_locks_in(module, tmp_path) == ["x.py:2", "x.py:3"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_lock_rows_locks_the_row_itself_for_no_key_update(cast):
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    from governance.organisations.models import User

    with CaptureQueriesContext(connection) as queries:
        lock_rows(User.objects).select_related("organisation").get(pk=cast.estate_dpo.pk)
    sql = queries.captured_queries[-1]["sql"]
    assert sql.endswith(f'FOR NO KEY UPDATE OF "{User._meta.db_table}"'), sql
