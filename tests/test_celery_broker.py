"""A task travels through the real Redis broker to a real ``celery worker`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection, transaction

from governance.audit.models import AuditAction, AuditSeal
from governance.audit.services import audit_record

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_task_runs_in_a_separate_worker_process_through_redis(postgres, broker_url, tmp_path):
    from governance.audit.sequencer import audit_sequence_all, latest_head
    from governance.tasks import audit_seal_chain_head_task

    with transaction.atomic():
        audit_record(action=AuditAction.COLLECTION, event="test.broker", actor=None, target=("test", "1", "t"))
    # The signed tree head that includes the event, what the worker's task seals: made when the transaction
    # committed (sequencing on commit), or by the sequencer now.
    head = audit_sequence_all() or latest_head()
    assert head is not None
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": broker_url}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--logfile={log}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        audit_seal_chain_head_task.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not AuditSeal.objects.filter(sequence=head.tree_size, chain_hash=head.root_hash).exists()
        ):
            assert worker.poll() is None, f"worker exited early:\n{log.read_text() if log.exists() else ''}"
            time.sleep(0.25)
        assert AuditSeal.objects.filter(sequence=head.tree_size, chain_hash=head.root_hash).exists(), (
            log.read_text() if log.exists() else "no log"
        )
        text = log.read_text()
        assert "governance.tasks.audit_seal_chain_head" in text and "succeeded" in text
        assert str(worker.pid) != str(os.getpid())
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
