"""The breach clock, by name: every page, the dashboard and the regulator pack use these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from governance.breaches.models import Breach
from governance.reports.figures import duration_words


@dataclass(frozen=True)
class ClockState:
    code: str  # notified | notified_late | not_required | not_notified | running | overdue
    text: str
    chase: bool  # show on the dashboard


def breach_commissioner_clock(breach: Breach, *, at: datetime | None = None) -> ClockState:
    now = at or timezone.now()
    due = breach.commissioner_due_at
    if breach.commissioner_notified_at:
        if breach.commissioner_notified_at <= due:
            return ClockState(
                "notified",
                f"Told the Commissioner {breach.commissioner_notified_at:%d %b %Y %H:%M}, within 72 hours",
                False,
            )
        late = duration_words(breach.commissioner_notified_at - due)
        return ClockState(
            "notified_late",
            f"Told the Commissioner {late} after the 72 hours: {breach.commissioner_delay_reason}",
            False,
        )
    if breach.commissioner_not_notified_reason:
        return ClockState("not_notified", f"Not notified: {breach.commissioner_not_notified_reason}", False)
    if not breach.commissioner_notification_required:
        return ClockState("not_required", "Not notifiable: rated unlikely to result in a risk (record why)", True)
    if now <= due:
        return ClockState(
            "running",
            f"{duration_words(due - now)} left to tell the Commissioner (by {timezone.localtime(due):%d %b %Y %H:%M})",
            True,
        )
    return ClockState(
        "overdue",
        f"Overdue by {duration_words(now - due)}: tell the Commissioner now, with the reasons for the delay",
        True,
    )


def breach_subjects_state(breach: Breach) -> str:
    if breach.subjects_notified_at:
        return f"Told {breach.subjects_notified_at:%d %b %Y}: {breach.subjects_notified_how}"
    if breach.subjects_not_notified_reason:
        return f"Not told: {breach.subjects_not_notified_reason}"
    if breach.subjects_notification_required:
        return "High risk: the people affected must be told without undue delay"
    return "Not required (risk not high)"
