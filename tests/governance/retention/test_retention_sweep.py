"""Retention sweeps: due items go, held items stay, a killed sweep loses and repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from governance.audit.models import AuditAction, AuditEvent
from governance.audit.services import audit_chain_verify, audit_record, audit_seal_chain_head
from governance.retention.models import RetentionRun, RetentionRunStatus
from governance.retention.services import SweepAlreadyRunning, _sweep_lock, retention_preview, retention_sweep

pytestmark = pytest.mark.django_db

RULE = "audit_event.personal_fields"


def record_events(n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    action=AuditAction.DISCLOSURE,
                    event="test.disclosed",
                    actor=None,
                    target=("test.alert", str(i), f"Alert {i}"),
                    justification="Match confirmed",
                    recipient="Met Camden BCU via CJSM",
                    details={"i": i},
                )
            )
    return events


def test_audit_events_keep_personal_fields_until_their_period_then_are_redacted(settings):
    settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS = 30
    events = record_events(3)
    audit_seal_chain_head()
    with time_machine.travel(timezone.now() + timedelta(days=29), tick=False):
        run = retention_sweep()
        assert run.erased_counts[RULE] == 0
    assert AuditEvent.objects.get(pk=events[0].pk).recipient == "Met Camden BCU via CJSM"
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        run = retention_sweep()
    assert run.erased_counts[RULE] == 3 and run.status == RetentionRunStatus.FINISHED
    redacted = AuditEvent.objects.get(pk=events[0].pk)
    assert (redacted.recipient, redacted.justification, redacted.details) == ("", "", {})
    assert redacted.event == "test.disclosed" and redacted.action == "disclosure"  # the fact of the event stays
    report = audit_chain_verify()
    assert report.ok, report.problems


def test_dry_run_erases_nothing(settings):
    settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS = 0
    record_events(2)
    preview = retention_preview(at=timezone.now() + timedelta(seconds=1))
    assert preview.due[RULE] == 2
    call_command("enforce_retention", "--dry-run")
    assert AuditEvent.objects.filter(redacted_at__isnull=False).count() == 0
    assert not RetentionRun.objects.exists()


def test_two_sweeps_never_run_at_once():
    """Another process (here: another thread with its own database connection) holds the lock."""
    import threading

    from django.db import connections

    held, release = threading.Event(), threading.Event()

    def other_sweeper():
        try:
            with _sweep_lock():
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(SweepAlreadyRunning):
            retention_sweep()
    finally:
        release.set()
        thread.join()


def test_retention_dashboard_shows_overdue_in_red_with_a_reason(client, cast, settings):
    settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS = 0
    settings.RETENTION_OVERDUE_GRACE_MINUTES = 0
    record_events(2)
    assert client.login(username="dpo.estate", password=cast.password)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        page = client.get(reverse("retention-dashboard")).content.decode()
        assert "overdue for erasure" in page and "No retention sweep has finished yet" in page
        retention_sweep()
        page = client.get(reverse("retention-dashboard")).content.decode()
    assert "Nothing is overdue" in page


def test_reviewer_cannot_see_retention(client, cast):
    assert client.login(username="reviewer.estate", password=cast.password)
    assert client.get(reverse("retention-dashboard")).status_code == 403


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sweep_killed_midway_then_rerun_erases_everything_exactly_once(postgres, settings, tmp_path):
    """SIGKILL a sweep process mid-run; a second run finishes the work. The per-run counts, saved in
    the same transaction as each batch, add up to exactly the number of due items."""
    total = 1500
    record_events(total)
    env = {**os.environ, "DATABASE_URL": _database_url(), "OVERSIGHT_AUDIT_PERSONAL_DATA_RETENTION_DAYS": "0"}
    sweep = subprocess.Popen(
        [sys.executable, "manage.py", "enforce_retention", "--batch-size", "10"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "sweep.log", "w"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if AuditEvent.objects.filter(redacted_at__isnull=False).count() >= 100:
            break
        assert sweep.poll() is None, (tmp_path / "sweep.log").read_text()
        time.sleep(0.02)
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait()
    done_before = AuditEvent.objects.filter(redacted_at__isnull=False).count()
    assert 100 <= done_before < total, "the sweep must be killed midway"
    killed = RetentionRun.objects.get()
    assert killed.status == RetentionRunStatus.RUNNING  # it never finished
    assert killed.erased_counts[RULE] == done_before  # counts committed with their batches

    settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS = 0
    rerun = retention_sweep(at=timezone.now() + timedelta(seconds=1))
    killed.refresh_from_db()
    assert killed.status == RetentionRunStatus.INTERRUPTED
    assert AuditEvent.objects.filter(redacted_at__isnull=True, event="test.disclosed").count() == 0
    assert killed.erased_counts[RULE] + rerun.erased_counts[RULE] == total
    assert audit_chain_verify().ok
