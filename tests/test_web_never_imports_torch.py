"""Web processes never import torch (issue 26, "Web processes carry the engine's weight": each gunicorn worker held
torch and its CUDA library, 810 MB RSS). ``tests/web_torch_probe.py`` runs in a fresh interpreter — this one has
usually loaded the engine for other tests — and fails with the stack of the first ``import torch``. Its database is a
SQLite file of its own (a second pytest must not create the same PostgreSQL test database as this one); which
modules a request imports does not depend on the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_config_wsgi_every_url_module_and_each_page_kind_never_import_torch(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "OVERSIGHT_FRAME_STORE_URL": "",
        "CI": "false",  # the probe runs on its own SQLite on purpose: CI's PostgreSQL-only rule is for the suite
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/web_torch_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
