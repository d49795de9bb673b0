"""Searching the audit log. Reading the log is itself a consultation: views call
``audit_log_consult`` (services) whenever they show or export it."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.access import audit_events_visible_to
from governance.audit.models import AuditEvent
from governance.organisations.models import User


def audit_events_search(
    *,
    user: User,
    action: str = "",
    text: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    target_type: str = "",
) -> QuerySet[AuditEvent]:
    """Events the user may read (``audit_events_visible_to``: their organisation's, all for regulators)."""
    events = audit_events_visible_to(user)
    if action:
        events = events.filter(action=action)
    if target_type:
        events = events.filter(target_type=target_type)
    if text:
        events = events.filter(
            Q(event__icontains=text)
            | Q(actor_username__icontains=text)
            | Q(target_label__icontains=text)
            | Q(justification__icontains=text)
            | Q(recipient__icontains=text)
            | Q(target_id=text)
        )
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        events = events.filter(occurred_at__lte=datetime.combine(date_to, time.max, tzinfo=tz))
    return events.order_by("-sequence")
