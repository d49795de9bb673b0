"""Reading reports: the subject through its ``<entity>_for`` (not found alike for missing and
forbidden), then every registered provider's sections, scoped to the reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from governance.access import is_regulator
from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import Organisation, OrganisationKind
from governance.reports.access import can_read_reports
from governance.reports.models import PublishedReport
from governance.reports.registry import ReportScope, Section, report_sections, report_subject


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    subtitle: str
    sections: list[Section]
    subject: Any = None


def require_reports(actor: Any) -> None:
    if not can_read_reports(actor):
        raise PermissionRefused("Your role cannot read accountability reports.")


def report_for(actor: Any, kind: str, pk: Any) -> Report:
    """The agreement or deployment report, computed now from what ``actor`` may see."""
    subject_kind = report_subject(kind)
    if subject_kind is None:
        raise NotFound("No such report.")
    subject = subject_kind.lookup(actor, pk)  # NotFound before any role check: no existence leak
    require_reports(actor)
    sections = report_sections(kind, ReportScope(actor=actor, subject=subject))
    return Report(
        kind=kind,
        title=f"{subject_kind.title}: {subject_kind.label(subject)}",
        subtitle=f"Computed from the records visible to {actor.organisation}",
        sections=sections,
        subject=subject,
    )


def quarter_of(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar quarter holding ``moment``: [start, end) in the site's time zone."""
    local = timezone.localtime(moment)
    first_month = 3 * ((local.month - 1) // 3) + 1
    start = local.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=100)).replace(day=1)
    return start, end


def previous_quarter(moment: datetime) -> tuple[datetime, datetime]:
    start, _ = quarter_of(moment)
    return quarter_of(start - timedelta(days=1))


def quarter_label(start: datetime) -> str:
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def transparency_operator_for(actor: Any, organisation_id: Any = None) -> Organisation:
    """Whose transparency report the actor reads: its own organisation (an operator), or for a
    regulator any operator named."""
    require_reports(actor)
    if is_regulator(actor) and organisation_id:
        try:
            return Organisation.objects.get(pk=organisation_id, kind=OrganisationKind.OPERATOR)
        except (Organisation.DoesNotExist, ValueError, TypeError):
            raise NotFound("No such operator.") from None
    organisation = actor.organisation
    if organisation.kind != OrganisationKind.OPERATOR:
        raise NotFound("Transparency reports are published by operators.")
    return organisation


def transparency_report(*, actor: Any, operator: Organisation, start: datetime, end: datetime) -> Report:
    sections = report_sections(
        "transparency", ReportScope(actor=actor, operator_id=operator.pk, period_start=start, period_end=end)
    )
    return Report(
        kind="transparency",
        title=f"Live facial recognition transparency report — {operator.name}, {quarter_label(start)}",
        subtitle=f"{start:%d %b %Y} to {(end - timedelta(days=1)):%d %b %Y}",
        sections=sections,
    )


def published_reports_of(organisation: Organisation | None = None):
    queryset = PublishedReport.objects.select_related("organisation")
    return queryset.filter(organisation=organisation) if organisation else queryset


def published_report_by_slug(slug: str) -> PublishedReport:
    """Public: anyone with the address reads a published report (it holds figures only)."""
    try:
        return PublishedReport.objects.get(slug=slug)
    except PublishedReport.DoesNotExist:
        raise NotFound("No such published report.") from None
