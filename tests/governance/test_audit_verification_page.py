"""The audit page shows the chain's status — the latest signed head, when the log was last verified and
its result — and lets a DPO or the regulator start a verification that runs as a task (issue 25)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from governance.audit.models import AuditEvent, AuditVerification
from governance.audit.sequencer import audit_sequence_all
from governance.audit.verification import audit_verification_run, audit_verification_start
from governance.errors import PermissionRefused

pytestmark = pytest.mark.django_db


def page(client) -> str:
    return client.get(reverse("audit-log")).content.decode()


def test_a_dpo_starts_a_verification_and_the_page_shows_its_progress_then_its_result(cast):
    audit_sequence_all()
    client = Client()
    client.force_login(cast.estate_dpo)
    before = page(client)
    assert (
        'id="audit-chain-status"' in before and "Not verified yet." in before and "Verify the whole log now" in before
    )
    # The run is queued after the commit: inside this test's transaction it has not run yet (a worker runs it).
    response = client.post(reverse("audit-verify"))
    assert response.status_code == 302
    run = AuditVerification.objects.get()
    assert run.status == "running" and AuditEvent.objects.filter(event="audit.verification_started").exists()
    running = page(client)
    assert f"Verification #{run.pk} running" in running and "Not verified yet." in running
    assert client.post(reverse("audit-verify")).status_code == 302 and AuditVerification.objects.count() == 1
    audit_verification_run(run.pk)  # what the task does
    done = page(client)
    assert "Intact" in done and "running" not in done.split('id="audit-chain-status"')[1].split("</section>")[0]
    run.refresh_from_db()
    assert run.status == "passed" and run.events_checked > 0 and run.finished_at


def test_a_broken_log_is_shown_as_problems_found(cast):
    audit_sequence_all()
    event = AuditEvent.objects.order_by("sequence").first()
    from django.db import connection, transaction

    # A tamperer editing the row directly, under the model's refusal: on PostgreSQL a superuser who turned
    # the append-only trigger off for the session (as tests/governance/test_audit_chain.py's attacker).
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET justification = 'forged' WHERE id = %s", [event.pk])
    run = audit_verification_run(audit_verification_start(actor=cast.regulator, queue=False).pk)
    assert run.status == "failed" and run.problems
    client = Client()
    client.force_login(cast.regulator)
    text = page(client)
    assert "Problems found" in text and "started by" in text


def test_only_a_dpo_or_the_regulator_starts_one(cast):
    with pytest.raises(PermissionRefused):
        audit_verification_start(actor=cast.estate_reviewer)
    client = Client()
    client.force_login(cast.estate_dpo)
    assert "Verify the whole log now" in page(client)
