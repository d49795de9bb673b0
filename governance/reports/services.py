"""Publishing transparency reports (the one write in reports)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused
from governance.organisations.models import Organisation, OrganisationKind
from governance.reports.access import can_publish_transparency_report
from governance.reports.documents import sections_to_json
from governance.reports.models import PublishedReport
from governance.reports.selectors import previous_quarter, transparency_report


def transparency_report_publish(
    *, actor: Any | None, operator: Organisation, start: datetime, end: datetime
) -> PublishedReport:
    """Freeze the operator's transparency report for [start, end) at a random public address.

    Permission: the operator's own DPO (``governance.publish_reports``), or the scheduled job
    (``actor=None``). Idempotent: a period already published returns the existing snapshot (the
    public figures never change under a reader). One transaction: snapshot + audit event.
    """
    if actor is not None and not can_publish_transparency_report(actor, operator):
        raise PermissionRefused("Only the operator's data protection officer publishes its transparency report.")
    existing = PublishedReport.objects.filter(
        organisation=operator, kind="transparency", period_start=start, period_end=end
    ).first()
    if existing:
        return existing
    report = transparency_report(actor=actor, operator=operator, start=start, end=end)
    try:
        with transaction.atomic():
            published = PublishedReport.objects.create(
                slug=secrets.token_urlsafe(16),
                kind="transparency",
                organisation=operator,
                title=report.title,
                period_start=start,
                period_end=end,
                content=sections_to_json(report.sections),
                published_at=timezone.now(),
                published_by_name=(actor.get_full_name() or actor.username) if actor else "scheduled job",
            )
            audit_record(
                action=AuditAction.DISCLOSURE,
                event="report.transparency_published",
                actor=actor,
                target=published,
                recipient="The public (published transparency report)",
                details={"slug": published.slug, "period_start": start.isoformat(), "period_end": end.isoformat()},
            )
    except IntegrityError:  # a concurrent publisher won the race: theirs is the snapshot
        return PublishedReport.objects.get(
            organisation=operator, kind="transparency", period_start=start, period_end=end
        )
    return published


def transparency_reports_publish_quarterly(*, at: datetime | None = None) -> int:
    """The beat job: publish last quarter's report for every operator that ran a deployment in it.

    Idempotent (one snapshot per operator and period): a rerun or a second beat publishes nothing twice."""
    start, end = previous_quarter(at or timezone.now())
    created = 0
    for operator in Organisation.objects.filter(kind=OrganisationKind.OPERATOR).order_by("pk"):
        if PublishedReport.objects.filter(
            organisation=operator, kind="transparency", period_start=start, period_end=end
        ).exists():
            continue
        sections = transparency_report(actor=None, operator=operator, start=start, end=end).sections
        if not any(f.value for s in sections for f in s.figures if f.code == "deployments"):
            continue  # nothing ran this quarter: no report to publish
        transparency_report_publish(actor=None, operator=operator, start=start, end=end)
        created += 1
    return created
