"""Reads for the retention dashboard and deletion certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from governance.access import (
    certificate_for,
    certificates_visible_to,
    holds_visible_to,
    is_regulator,
    run_for,
    runs_visible_to,
)
from governance.organisations.models import User
from governance.retention.certificate import certificate_erased_by
from governance.retention.models import RetentionRunStatus
from governance.retention.registry import RetentionRule, hold_targets, retention_rules


@dataclass
class RuleStatus:
    rule: RetentionRule
    due_now: int
    overdue: int
    due_soon: int
    overdue_examples: list[str]


def retention_status(*, user: User, days_ahead: int = 7, at: datetime | None = None) -> dict:
    """Per rule: what is due now, what is overdue (should already be gone), what falls due soon —
    of the items the user's organisation may see (each rule's ``visible``)."""
    runs = runs_visible_to(user)
    now = at or timezone.now()
    grace = timedelta(minutes=settings.RETENTION_OVERDUE_GRACE_MINUTES)
    rules = []
    for rule in retention_rules():
        due_now = rule.visible(user, rule.due(now)).count()
        overdue_qs = rule.visible(user, rule.due(now - grace))
        overdue = overdue_qs.count()
        rules.append(
            RuleStatus(
                rule=rule,
                due_now=due_now,
                overdue=overdue,
                due_soon=max(rule.visible(user, rule.due(now + timedelta(days=days_ahead))).count() - due_now, 0),
                overdue_examples=[rule.describe(item) for item in overdue_qs.order_by("pk")[:5]],
            )
        )
    last_finished = runs.filter(status=RetentionRunStatus.FINISHED).first()
    running = runs.filter(status=RetentionRunStatus.RUNNING).first()
    total_overdue = sum(r.overdue for r in rules)
    reason = ""
    if total_overdue:
        if running:
            reason = f"A sweep has been running since {timezone.localtime(running.started_at):%d %b %Y %H:%M}."
        elif last_finished is None:
            reason = "No retention sweep has finished yet: is the scheduler (beat) running?"
        elif last_finished.finished_at < now - grace:
            reason = (
                f"The last sweep finished at {timezone.localtime(last_finished.finished_at):%d %b %Y %H:%M}: "
                "the scheduler (beat) or the workers are not running."
            )
        else:
            reason = "Items were due before the last sweep but were not erased: see the worker logs for erasure errors."
    return {
        "rules": rules,
        "total_overdue": total_overdue,
        "overdue_reason": reason,
        "days_ahead": days_ahead,
        "last_finished": last_finished,
        "running": running,
        "holds": holds_visible_to(user).in_force(now).select_related("placed_by", "placed_by_organisation"),
        "runs": runs_with_counts(user=user, runs=list(runs[:20])),
    }


def runs_with_counts(*, user: User, runs: list) -> list[tuple]:
    """Each run with what it erased of the user's organisation's records (its certificates);
    the run's totals across every organisation only for regulators."""
    from django.db.models import Count

    mine = dict(
        certificates_visible_to(user)
        .filter(run_id__in=[str(r.run_id) for r in runs])
        .order_by()
        .values_list("run_id")
        .annotate(n=Count("pk"))
    )
    return [(run, mine.get(str(run.run_id), 0), run.total_erased if is_regulator(user) else None) for run in runs]


def retention_run_get(*, user: User, run_id: str):
    return run_for(user, run_id)


def deletion_certificates(*, user: User, run_id: str | None = None) -> QuerySet:
    certificates = certificates_visible_to(user)
    if run_id:
        certificates = certificates.filter(run_id=run_id)
    return certificates.order_by("-erased_at", "-pk")


def deletion_certificate_get(*, user: User, pk: int):
    return certificate_for(user, pk)


def hold_target_choices(*, user: User, per_kind: int = 200) -> list[tuple[str, list[tuple[str, str]]]]:
    """The legal-hold picker: for each kind of record, the ones the user's organisation is party to."""
    groups = []
    for target in hold_targets():
        records = target.candidates(user).order_by("-pk")[:per_kind]
        groups.append((target.title, [(f"{target.scope}:{r.pk}", target.label(r)) for r in records]))
    return groups


def certificate_as_dict(certificate) -> dict:
    return {
        "certificate": certificate.pk,
        "what": {
            "type": certificate.subject_type,
            "id": certificate.subject_id,
            "label": certificate.subject_label,
            "sha256": certificate.sha256,
        },
        "why": {"rule": certificate.rule, "reason": certificate.reason},
        "when": certificate.erased_at.isoformat(),
        "by": certificate_erased_by(certificate),
        "run": certificate.run_id,
        "details": certificate.details,
    }
