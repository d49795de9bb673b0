"""Reads of the agreement register, always scoped to what the user may see."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from governance.access import agreements_visible_to, record_history
from governance.agreements.models import Agreement, AgreementStatus
from governance.agreements.rules import RuleBreach, agreement_rule_breaches
from governance.audit.models import AuditEvent
from governance.organisations.models import User


def agreement_list(
    *, user: User, status: str = "", organisation: str = "", search: str = "", attention: bool = False
) -> QuerySet[Agreement]:
    agreements = agreements_visible_to(user)
    if status:
        agreements = agreements.filter(status=status)
    if organisation:
        agreements = agreements.filter(
            Q(supplying_organisation__short_name=organisation)
            | Q(supplying_organisation__parent__short_name=organisation)
            | Q(receiving_organisation__short_name=organisation)
        )
    if search:
        agreements = agreements.filter(
            Q(reference__icontains=search) | Q(title__icontains=search) | Q(purpose__icontains=search)
        )
    return agreements.order_by("-starts_on", "reference", "-version")


def agreement_versions(*, user: User, agreement: Agreement) -> QuerySet[Agreement]:
    return agreements_visible_to(user).filter(reference=agreement.reference).order_by("version")


def agreement_history(*, agreement: Agreement) -> QuerySet[AuditEvent]:
    """The agreement's full history, straight from the audit log."""
    return record_history("governance.agreement", agreement)


def dashboard_figures(*, user: User) -> dict:
    agreements = agreements_visible_to(user)
    by_status = {row["status"]: row["n"] for row in agreements.order_by().values("status").annotate(n=Count("pk"))}
    today = timezone.localdate()
    horizon = today + timedelta(days=settings.AGREEMENT_EXPIRY_WARNING_DAYS)
    live = agreements.filter(status__in=[AgreementStatus.APPROVED, AgreementStatus.ACTIVE])
    expiring = live.filter(ends_on__lte=horizon).order_by("ends_on")
    review_due = live.filter(review_on__lt=today).order_by("review_on")
    breaking: list[tuple[Agreement, list[RuleBreach]]] = []
    for agreement in agreements.exclude(status=AgreementStatus.DRAFT):
        breaches = [b for b in agreement_rule_breaches(agreement) if b.severity == "breach"]
        if breaches:
            breaking.append((agreement, breaches))
    return {
        "by_status": [(AgreementStatus(s).label, s, by_status.get(s, 0)) for s in AgreementStatus.values],
        "total": sum(by_status.values()),
        "expiring": expiring,
        "review_due": review_due,
        "breaking": breaking,
        "awaiting_action": agreements.filter(status=AgreementStatus.SUBMITTED),
        "horizon_days": settings.AGREEMENT_EXPIRY_WARNING_DAYS,
    }
