"""Verifying the whole audit log on demand and nightly, with its status on the audit page (issue 25).

A data protection officer or the regulator starts a run from the audit page (``audit_verification_start``);
it runs as a task (``audit_verification_run_task`` below, registered under ``governance.tasks``), recording its progress as it streams the
log, so the page shows "running, N of M events checked" and then the result, however large the log, never
holding a request open for it. Beat's nightly verification records its runs the same way.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction, AuditVerification, AuditVerificationStatus
from governance.audit.sequencer import latest_head
from governance.errors import PermissionRefused

# A run not finished after this long is taken as dead (its worker killed): a new one may start.
STALE_AFTER_SECONDS = 6 * 3600
PROBLEMS_KEPT = 20


def audit_verification_latest() -> AuditVerification | None:
    return AuditVerification.objects.first()


def audit_verification_last_finished() -> AuditVerification | None:
    return AuditVerification.objects.exclude(status=AuditVerificationStatus.RUNNING).first()


def _running() -> AuditVerification | None:
    since = timezone.now() - timezone.timedelta(seconds=STALE_AFTER_SECONDS)
    return AuditVerification.objects.filter(status=AuditVerificationStatus.RUNNING, started_at__gte=since).first()


def audit_verification_start(*, actor: Any | None, queue: bool = True) -> AuditVerification:
    """Start a verification run (``actor`` None: beat). Idempotent while one runs: that one is returned.
    Audited as a consultation of the log; the run itself is queued after the commit (``queue``), or run by
    the caller (beat's task, already on a worker)."""
    from governance.access import can_start_audit_verification
    from governance.audit.services import audit_record

    if actor is not None and not can_start_audit_verification(actor):
        raise PermissionRefused("Only a data protection officer or the regulator starts a verification of the log.")
    with transaction.atomic():
        running = _running()
        if running is not None:
            return running
        head = latest_head()
        run = AuditVerification.objects.create(
            started_at=timezone.now(),
            started_by_name=(actor.get_full_name() or actor.get_username()) if actor is not None else "",
            tree_size=head.tree_size if head else 0,
        )
        if actor is not None:
            audit_record(
                action=AuditAction.CONSULTATION,
                event="audit.verification_started",
                actor=actor,
                target=("audit.verification", str(run.pk), f"Verification of the audit log #{run.pk}"),
                justification="Verification of the whole audit log started from the audit page",
            )
        if queue:
            transaction.on_commit(lambda: audit_verification_run_task.delay(run.pk))
    return run


def audit_verification_run(pk: int) -> AuditVerification | None:
    """Run verification ``pk`` (the task). Idempotent: a finished run is left as it is."""
    from governance.audit.services import audit_chain_verify

    run = AuditVerification.objects.filter(pk=pk).first()
    if run is None or run.status != AuditVerificationStatus.RUNNING:
        return run

    def progress(checked: int) -> None:
        AuditVerification.objects.filter(pk=pk).update(events_checked=checked)

    report = audit_chain_verify(progress=progress)
    run.status = AuditVerificationStatus.PASSED if report.ok else AuditVerificationStatus.FAILED
    run.finished_at = timezone.now()
    run.events_checked = report.events_checked
    run.heads_checked = report.heads_checked
    run.problems = report.problems[:PROBLEMS_KEPT]
    run.save(update_fields=["status", "finished_at", "events_checked", "heads_checked", "problems"])
    return run


@shared_task(name="governance.tasks.audit_verification_run", acks_late=True, ignore_result=True)
def audit_verification_run_task(pk: int) -> str | None:
    """A verification started from the audit page. Defined here, beside what queues it, so this module
    does not import ``governance.tasks`` (which imports this one for beat's nightly run); the name keeps
    it among the governance tasks for the workers and the broker."""
    run = audit_verification_run(pk)
    return run.status if run else None
