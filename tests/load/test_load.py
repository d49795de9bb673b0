"""The bounded load run (``python -m benchmarks.load.run --quick``, about a minute): police uploads, camera
frames and signed-in page reads at once against gunicorn and a real Celery worker on PostgreSQL and
Redis. Asserts what a user would notice — no 5xx, nothing accepted and then lost — never timings
(those are in BENCHMARKS.md, from the full run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import require

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.broker]

ROOT = Path(__file__).resolve().parents[2]


def test_mixed_load_loses_nothing_it_accepted_and_answers_no_5xx(tmp_path):
    require(os.environ.get("DATABASE_URL", "").startswith("postgres"), "needs PostgreSQL: set DATABASE_URL")
    require(settings.CELERY_BROKER_URL.startswith("redis"), "needs a Redis broker: set CELERY_BROKER_URL")
    out = tmp_path / "load.json"
    # The run works in its own scratch database (<DATABASE_URL's name>_load) and servers of its own.
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.load.run", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert out.exists(), finished.stdout[-3000:] + finished.stderr[-3000:]
    outcome = json.loads(out.read_text())
    acc = outcome["accounting"]

    assert outcome["server_errors"] == {}, outcome["endpoints"]
    # Every kind of client ran, at the same time (their quotas end the run; its time bound only on a busy machine).
    assert all(outcome["answered"][kind] > 0 for kind in ("upload", "frame", "read")), outcome["locust_tail"]
    # Uploads: every 202 is a stored, audited image that the worker then enrolled or rejected.
    uploads = acc["uploads"]
    assert uploads["answered_upload_202"] > 0
    assert uploads["answered_upload_202"] == uploads["stored"] == uploads["with_received_audit_event"]
    assert uploads["stored_ids_match"] and uploads["still_received"] == 0
    # Frames: every frame the server took (202) or refused and counted ended in exactly one counted outcome.
    frames = acc["frames"]
    assert frames["answered_202"] > 0
    assert frames["outcomes"] == frames["answered_202"] + frames["door_counted"], frames
    if frames["accepted_counter"] is not None:
        assert frames["accepted_counter"] == frames["answered_202"]
    # Page reads signed in: all answered 200 (a redirect to sign-in would be a broken session).
    reads = {
        name: e for name, e in outcome["endpoints"].items() if name.startswith("GET /") and name != "GET /sign-in/"
    }
    assert reads and all(set(e["statuses"]) == {"200"} for e in reads.values()), reads
    assert acc["drained"] and acc["audit_chain_ok"] and acc["ok"]
    assert finished.returncode == 0, finished.stdout[-2000:]
