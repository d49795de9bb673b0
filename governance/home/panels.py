"""Governance's own home panels (recognition registers its panels itself, ``recognition.deployments.home``).

Every read goes through the access layer: ``agreements_visible_to`` and ``can_agreement`` for the
agreements, ``holds_visible_to`` for holds, ``retention_status`` (each rule's ``visible``) for what
retention must erase, ``images_visible_to`` for a force's images, and the DPIA, policy and breach
access functions for the registers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from governance.access import (
    agreements_visible_to,
    can_agreement,
    can_draft_agreement,
    can_read_agreements,
    can_read_holds,
    can_read_watchlist,
    can_view_retention,
    holds_visible_to,
    images_visible_to,
    is_regulator,
)
from governance.agreements.models import AgreementStatus
from governance.home.registry import HomePanel, home_panel_register
from governance.organisations.roles import Role

DPO = frozenset({Role.DPO.value})
REGULATOR = frozenset({Role.REGULATOR.value})
FORCE_SIDE = frozenset({Role.DPO.value, Role.FORCE_SUBMITTER.value})


def agreements_awaiting(actor: Any) -> dict | None:
    """Submitted agreements this DPO's organisation must act on: the operator countersigns, the
    supplying force approves (its prerequisites listed on the agreement's page)."""
    if not can_read_agreements(actor):
        return None
    rows = []
    for agreement in agreements_visible_to(actor).filter(status=AgreementStatus.SUBMITTED).order_by("submitted_at"):
        if agreement.countersigned_at is None and can_agreement(actor, agreement, "countersign"):
            rows.append((agreement, "countersign for the operator"))
        elif can_agreement(actor, agreement, "approve"):
            rows.append((agreement, "approve (force level)"))
    return {"rows": rows, "count": len(rows)}


def subject_requests_open(actor: Any) -> dict | None:
    """Open subject requests with their legal deadline, overdue first (``subject_requests_visible_to``)."""
    from governance.subject_access.access import can_read_subject_requests

    if not can_read_subject_requests(actor):
        return None
    from governance.subject_access.selectors import subject_requests_needing_attention

    rows = subject_requests_needing_attention(user=actor)
    rows.sort(key=lambda row: (row[1].days is None, row[1].days if row[1].days is not None else 0))
    overdue = sum(1 for _, deadline in rows if deadline.code == "overdue")
    return {"rows": rows, "overdue": overdue, "count": len(rows)}


def legal_holds(actor: Any) -> dict | None:
    if not can_read_holds(actor):
        return None
    holds = holds_visible_to(actor).in_force().order_by("placed_at")
    return {"holds": list(holds[:10]), "count": holds.count()}


def retention_due(actor: Any) -> dict | None:
    if not can_view_retention(actor):
        return None
    from governance.retention.selectors import retention_status

    status = retention_status(user=actor)
    rules = [r for r in status["rules"] if r.due_now or r.overdue or r.due_soon]
    return {"rules": rules, "count": sum(r.due_now for r in rules), "reason": status["overdue_reason"]}


def review_dates(actor: Any) -> dict | None:
    if not can_draft_agreement(actor):
        return None
    from governance.agreements.selectors import dashboard_figures
    from governance.dpia.access import can_read_dpias
    from governance.dpia.selectors import dpia_warnings_visible_to

    figures = dashboard_figures(user=actor)
    review_due = list(figures["review_due"])
    expiring = list(figures["expiring"])
    dpias = dpia_warnings_visible_to(actor) if can_read_dpias(actor) else []
    return {
        "review_due": review_due,
        "expiring": expiring,
        "horizon_days": figures["horizon_days"],
        "dpias": dpias,
        "count": len(review_due) + len(dpias),
    }


def our_images(actor: Any) -> dict | None:
    """A force's (or unit's) watchlist images and where each stands."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not organisation.is_police or not can_read_watchlist(actor):
        return None
    from governance.watchlist.models import ImageStatus

    images = images_visible_to(actor)
    supplied = images.filter(recorded_retrospectively=False)
    counts = {row["status"]: row["n"] for row in supplied.order_by().values("status").annotate(n=Count("pk"))}
    # What waits for the force: images the engine rejected (to be replaced or resubmitted). Images
    # recorded retrospectively (the historical register) were never sent for enrolment: counted on
    # their own, never as "awaiting enrolment".
    return {
        "by_status": [(label, code, counts.get(code, 0)) for code, label in ImageStatus.choices],
        "historical": images.filter(recorded_retrospectively=True).count(),
        "recent": list(images.filter(recorded_retrospectively=False).order_by("-received_at", "-pk")[:8]),
        "count": counts.get(ImageStatus.REJECTED) or None,
    }


def registers(actor: Any) -> dict | None:
    if not is_regulator(actor):
        return None
    from governance.breaches.access import breaches_visible_to
    from governance.dpia.access import dpias_visible_to
    from governance.dpia.policy_access import policies_visible_to

    agreements = agreements_visible_to(actor)
    counts = {row["status"]: row["n"] for row in agreements.order_by().values("status").annotate(n=Count("pk"))}
    return {
        "agreements": [(AgreementStatus(s).label, s, counts.get(s, 0)) for s in AgreementStatus.values],
        "agreement_total": sum(counts.values()),
        "dpias": dpias_visible_to(actor).count(),
        "policies": policies_visible_to(actor).count(),
        "breaches": breaches_visible_to(actor).count(),
    }


def reports(actor: Any) -> dict | None:
    from governance.reports.access import can_read_reports

    if not is_regulator(actor) or not can_read_reports(actor):
        return None
    return {}


def notifications_received(actor: Any) -> dict | None:
    """What has been notified to the actor's organisation as regulator: agreements (before
    approval) and personal data breaches."""
    if not is_regulator(actor):
        return None
    from governance.breaches.access import breaches_visible_to

    agreements = (
        agreements_visible_to(actor)
        .filter(regulator_id=actor.organisation_id, regulator_notified_on__isnull=False)
        .order_by("-regulator_notified_on")[:10]
    )
    breaches = breaches_visible_to(actor).filter(commissioner_notified_at__isnull=False)
    # What waits for the regulator: each notification until it is acknowledged (governance.notifications).
    from governance.notifications.selectors import received_unacknowledged

    waiting = {(received.kind, record.pk) for received, record in received_unacknowledged(actor)}
    return {
        "agreements": list(agreements),
        "breaches": list(breaches.order_by("-commissioner_notified_at")[:10]),
        "unacknowledged": {f"{kind}:{pk}" for kind, pk in waiting},
        "count": len(waiting),
    }


for panel in (
    HomePanel(
        "agreements-awaiting",
        "Agreements waiting for you",
        DPO,
        agreements_awaiting,
        "home/agreements_awaiting.html",
        10,
    ),
    HomePanel("subject-requests", "Subject requests", DPO, subject_requests_open, "home/subject_requests.html", 20),
    HomePanel("legal-holds", "Legal holds in force", DPO, legal_holds, "home/legal_holds.html", 40),
    HomePanel("retention-due", "Retention due", DPO, retention_due, "home/retention_due.html", 50),
    HomePanel("review-dates", "Review dates", DPO, review_dates, "home/review_dates.html", 60),
    HomePanel("our-images", "Our watchlist images", FORCE_SIDE, our_images, "home/our_images.html", 30),
    HomePanel("registers", "Registers", REGULATOR, registers, "home/registers.html", 10),
    HomePanel(
        "notifications", "Notifications received", REGULATOR, notifications_received, "home/notifications.html", 20
    ),
    HomePanel("reports", "Reports", REGULATOR, reports, "home/reports.html", 30),
):
    home_panel_register(panel)
