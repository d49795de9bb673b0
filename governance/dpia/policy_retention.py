"""The retention rule for appropriate policy documents: DPA 2018 s.42(3) — kept while the
processing it covers goes on and for six months after it ends; then erased (texts blanked, the
record that it existed kept, a deletion certificate and an ``erasure`` event)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from governance.dpia.models import PolicyDocument
from governance.retention.registry import RetentionRule, retention_rule_register

POLICY_KEPT_MONTHS = 6  # s.42(3)


def _months_after(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 August + 6 months = 28/29 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def policy_kept_until(ended_on: date | None) -> date | None:
    """The last day the document is kept: six months after the processing ended (``None`` while
    it goes on). Stored on the record (``kept_until``) so the sweep finds what is due by an index."""
    return _months_after(ended_on, POLICY_KEPT_MONTHS) if ended_on else None


def policy_erasure_due_on(policy: PolicyDocument) -> date | None:
    """The first day the document may no longer be kept."""
    return policy.kept_until + timedelta(days=1) if policy.kept_until else None


def _policies_due(at: datetime) -> QuerySet:
    return PolicyDocument.objects.filter(kept_until__lt=timezone.localtime(at).date(), erased_at__isnull=True)


def _policy_erase(policy: PolicyDocument, run_id: str | None) -> int:
    from governance.dpia.policy_services import policy_erase

    return policy_erase(policy=policy, run_id=run_id)


def _policies_visible(actor, queryset: QuerySet) -> QuerySet:
    from governance.dpia.policy_access import policies_visible_to

    return queryset.filter(pk__in=policies_visible_to(actor).values("pk"))


retention_rule_register(
    RetentionRule(
        code="policy_document.processing_ended",
        title="Appropriate policy documents six months after their processing ends",
        description="DPA 2018 s.42(3): a controller keeps its appropriate policy document while it carries out the "
        "processing and for six months after; then its texts are erased and the record that it existed stays.",
        due=_policies_due,
        erase=_policy_erase,
        describe=str,
        order=("kept_until", "pk"),
        visible=_policies_visible,
    )
)
