"""Reads for the retention dashboard and deletion certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import User
from governance.retention.models import LegalHold, RetentionRun, RetentionRunStatus
from governance.retention.registry import RetentionRule, retention_rules


def _require_view(user: User) -> None:
    if not user.has_perm("retention.view_retentionrun"):
        raise PermissionRefused("Your role cannot see retention enforcement.")


@dataclass
class RuleStatus:
    rule: RetentionRule
    due_now: int
    overdue: int
    due_soon: int
    overdue_examples: list[str]


def retention_status(*, user: User, days_ahead: int = 7, at: datetime | None = None) -> dict:
    """Per rule: what is due now, what is overdue (should already be gone), what falls due soon."""
    _require_view(user)
    now = at or timezone.now()
    grace = timedelta(minutes=settings.RETENTION_OVERDUE_GRACE_MINUTES)
    rules = []
    for rule in retention_rules():
        due_now = rule.due(now).count()
        overdue_qs = rule.due(now - grace)
        overdue = overdue_qs.count()
        rules.append(RuleStatus(
            rule=rule, due_now=due_now, overdue=overdue,
            due_soon=max(rule.due(now + timedelta(days=days_ahead)).count() - due_now, 0),
            overdue_examples=[rule.describe(item) for item in overdue_qs.order_by("pk")[:5]],
        ))
    last_finished = RetentionRun.objects.filter(status=RetentionRunStatus.FINISHED).first()
    running = RetentionRun.objects.filter(status=RetentionRunStatus.RUNNING).first()
    total_overdue = sum(r.overdue for r in rules)
    reason = ""
    if total_overdue:
        if running:
            reason = f"A sweep has been running since {timezone.localtime(running.started_at):%d %b %Y %H:%M}."
        elif last_finished is None:
            reason = "No retention sweep has finished yet: is the scheduler (beat) running?"
        elif last_finished.finished_at < now - grace:
            reason = (f"The last sweep finished at {timezone.localtime(last_finished.finished_at):%d %b %Y %H:%M}: "
                      "the scheduler (beat) or the workers are not running.")
        else:
            reason = "Items were due before the last sweep but were not erased: see the worker logs for erasure errors."
    return {
        "rules": rules, "total_overdue": total_overdue, "overdue_reason": reason, "days_ahead": days_ahead,
        "last_finished": last_finished, "running": running,
        "holds": LegalHold.objects.in_force(now).select_related("placed_by"),
        "runs": RetentionRun.objects.all()[:20],
    }


def retention_run_get(*, user: User, run_id: str) -> RetentionRun:
    _require_view(user)
    try:
        return RetentionRun.objects.get(run_id=run_id)
    except (RetentionRun.DoesNotExist, ValueError):
        raise NotFound("No such retention run.") from None


def deletion_certificates(*, user: User, run_id: str | None = None) -> QuerySet:
    from governance.watchlist.models import DeletionCertificate

    _require_view(user)
    certificates = DeletionCertificate.objects.all()
    if run_id:
        certificates = certificates.filter(run_id=run_id)
    return certificates.order_by("-erased_at", "-pk")


def deletion_certificate_get(*, user: User, pk: int):
    try:
        return deletion_certificates(user=user).get(pk=pk)
    except Exception as error:
        if isinstance(error, PermissionRefused):
            raise
        raise NotFound("No such deletion certificate.") from None


def certificate_as_dict(certificate) -> dict:
    return {
        "certificate": certificate.pk,
        "what": {"type": certificate.subject_type, "id": certificate.subject_id, "label": certificate.subject_label,
                 "sha256": certificate.sha256},
        "why": {"rule": certificate.rule, "reason": certificate.reason},
        "when": certificate.erased_at.isoformat(),
        "by": certificate.erased_by_name or "Oversight retention sweep",
        "run": certificate.run_id,
        "details": certificate.details,
    }
