"""Governance's own clocks (``governance.notifications.registry``): subject request deadlines, the breach
clocks (72 hours to the Commissioner, the agreement's hours to the other party), review dates of agreements
and DPIAs, and what a regulator has received and not yet acknowledged. Each reads its records through the
access layer and asks the record's own rule where its clock stands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from governance.access import can_draft_agreement
from governance.notifications.registry import Clock, Notice, clock_register
from governance.organisations.roles import Role

DPO = frozenset({Role.DPO.value})
REGULATOR = frozenset({Role.REGULATOR.value})


def subject_request_deadlines(actor: Any, now: datetime) -> Iterator[Notice]:
    """A week before the deadline (and on the day) and once it has passed (``subject_request_deadline``). The
    stage names the due date, so an extended or restarted deadline is reminded afresh."""
    from governance.subject_access.access import can_answer_subject_requests

    if not can_answer_subject_requests(actor):
        return
    from governance.subject_access.models import CLOSED_STATUSES
    from governance.subject_access.selectors import subject_request_deadline, subject_requests_visible_to

    today = timezone.localdate(now)
    for request in subject_requests_visible_to(actor).exclude(status__in=CLOSED_STATUSES):
        deadline = subject_request_deadline(request, today=today)
        if deadline.code not in ("due_soon", "overdue"):
            continue
        yield Notice(
            f"subject-request:{request.pk}",
            f"{deadline.code}:{request.due_on:%Y-%m-%d}",
            f"Subject request {request.reference}: {deadline.text} (due {request.due_on:%d %b %Y})",
            reverse("subject-request-detail", args=[request.pk]),
        )


def _breaches_recorded_by(actor: Any):
    from governance.breaches.access import breaches_visible_to, can_change_breach

    return [b for b in breaches_visible_to(actor).prefetch_related("parties") if can_change_breach(actor, b)]


def breach_commissioner_clocks(actor: Any, now: datetime) -> Iterator[Notice]:
    """Art. 33(1) / s.67(1): 72 hours from discovery (``breach_commissioner_clock``): when it starts running
    and when it has run out."""
    from governance.breaches.rules import breach_commissioner_clock

    for breach in _breaches_recorded_by(actor):
        state = breach_commissioner_clock(breach, at=now)
        if state.code in ("running", "overdue"):
            yield Notice(
                f"breach:{breach.pk}",
                state.code,
                f"Breach {breach.reference}: {state.text}",
                reverse("breach-detail", args=[breach.pk]),
            )


def breach_party_clocks(actor: Any, now: datetime) -> Iterator[Notice]:
    """The other party to the agreement is told within the agreement's hours (``breach_party_clock``)."""
    from governance.breaches.rules import breach_party_clock

    for breach in _breaches_recorded_by(actor):
        for party in breach.parties.all():
            state = breach_party_clock(party, at=now)
            if state.code in ("running", "overdue"):
                yield Notice(
                    f"breach-party:{party.pk}",
                    state.code,
                    f"Breach {breach.reference}: {state.text}",
                    reverse("breach-detail", args=[breach.pk]),
                )


def agreement_reviews(actor: Any, now: datetime) -> Iterator[Notice]:
    """Live agreements past their review date (the dashboard's ``review_due``), once per review date."""
    if not can_draft_agreement(actor):
        return
    from governance.agreements.selectors import dashboard_figures

    for agreement in dashboard_figures(user=actor)["review_due"]:
        yield Notice(
            f"agreement-review:{agreement.pk}",
            f"review:{agreement.review_on:%Y-%m-%d}",
            f"Agreement {agreement.reference} v{agreement.version} was due for review on "
            f"{agreement.review_on:%d %b %Y}",
            reverse("agreement-detail", args=[agreement.pk]),
        )


def dpia_reviews(actor: Any, now: datetime) -> Iterator[Notice]:
    """DPIAs due for review, overdue or flagged (``dpia_review_warning``), to the controller's DPO."""
    from governance.dpia.access import can_write_dpias
    from governance.dpia.selectors import dpia_warnings_visible_to

    if not can_write_dpias(actor):
        return

    for dpia, warning in dpia_warnings_visible_to(actor):
        if dpia.controller_id != actor.organisation_id:
            continue
        stage = "flagged" if dpia.flagged_for_review_at else f"review:{dpia.review_on:%Y-%m-%d}"
        yield Notice(f"dpia-review:{dpia.pk}", stage, warning, reverse("dpia-detail", args=[dpia.pk]))


def regulator_received(actor: Any, now: datetime) -> Iterator[Notice]:
    """Agreements and breaches notified to the regulator, until it acknowledges them."""
    from governance.notifications.selectors import received_unacknowledged

    for received, record in received_unacknowledged(actor):
        yield Notice(
            f"received:{received.kind}:{record.pk}",
            "received",
            f"{received.noun.capitalize()} notified to you: {record.reference} (acknowledge it or ask a question)",
            received.url(record),
        )


for clock in (
    Clock("subject-request-deadline", "Subject request deadlines", DPO, subject_request_deadlines),
    Clock("breach-commissioner", "Breach: 72 hours to tell the Commissioner", DPO, breach_commissioner_clocks),
    Clock("breach-party", "Breach: the other party told within the agreement's hours", DPO, breach_party_clocks),
    Clock("agreement-review", "Agreement review dates", DPO, agreement_reviews),
    Clock("dpia-review", "DPIA review dates", DPO, dpia_reviews),
    Clock("regulator-received", "Notifications received by the regulator", REGULATOR, regulator_received),
):
    clock_register(clock)
