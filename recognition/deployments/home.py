"""Recognition's panels on governance's role homes, and the review queue's count in the navigation
(``governance.home.registry``; governance never imports this module: ``RecognitionConfig.ready``
does). Every read goes through ``recognition.deployments.access`` / the scoped selectors.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from governance.home.registry import HomePanel, NavCount, home_panel_register, nav_count_register
from governance.organisations.roles import Role
from recognition.deployments import access, selectors
from recognition.deployments.models import AlertReview, AlertStatus, Disclosure


def _waiting_for(actor: Any):
    """Pending alerts the actor may review and has not yet decided (the queue's "awaiting you")."""
    mine = AlertReview.objects.filter(alert_id=OuterRef("pk"), reviewer_id=actor.pk)
    return (
        access.alerts_reviewable_by(actor)
        .filter(status=AlertStatus.PENDING, erased_at__isnull=True)
        .exclude(Exists(mine))
    )


def alerts_waiting_count(actor: Any) -> int:
    if not access.can_review_alerts(actor):
        return 0
    return _waiting_for(actor).count()


def alerts_waiting(actor: Any) -> dict | None:
    if not access.can_review_alerts(actor):
        return None
    rows = [row for row in selectors.review_queue(user=actor) if row["my_decision"] is None]
    return {"rows": rows[:10], "count": len(rows)}


def disclosures_awaiting_our_outcome(actor: Any) -> dict | None:
    """Police side: disclosures of alerts on images we supplied, whose outcome we have not reported."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not organisation.is_police:
        return None
    if not access.can_report_outcomes(actor):
        return None
    waiting = [
        d
        for d in access.disclosures_received_by(actor).filter(outcome="").order_by("disclosed_at")
        if access.can_report_outcome(actor, d)
    ]
    return {"rows": waiting[:10], "count": len(waiting), "chase_days": settings.OVERSIGHT_OUTCOME_CHASE_DAYS}


def operator_outcomes_overdue(actor: Any) -> dict | None:
    """Operator side: disclosures the police have not answered within the chase period."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or organisation.is_police or not access.can_read_disclosures(actor):
        return None
    overdue = selectors.disclosures_awaiting_outcome(user=actor)
    return {
        "overdue": list(overdue[:10]),
        "count": overdue.count(),
        "days": settings.OVERSIGHT_OUTCOME_CHASE_DAYS,
    }


def alerts_to_disclose(actor: Any) -> dict | None:
    """Operator's DPO: alerts confirmed by two reviewers and not yet disclosed to the supplying force."""
    if not access.can_disclose_alerts(actor):
        return None
    disclosed = Disclosure.objects.filter(alert_id=OuterRef("pk"))
    alerts = (
        access.alerts_visible_to(actor)
        .filter(status=AlertStatus.CONFIRMED, deployment__operator_id=actor.organisation_id, erased_at__isnull=True)
        .exclude(Exists(disclosed))
        .order_by("first_seen_at")
    )
    return {"alerts": list(alerts[:10]), "count": alerts.count()}


def deployments_to_authorise(actor: Any) -> dict | None:
    """Authorising Officer: proposals of deployments its force supplies with no decision in force."""
    from recognition.deployments.authorisation import deployments_awaiting_authorisation, is_ao

    if not is_ao(actor):
        return None
    waiting = list(deployments_awaiting_authorisation(actor))
    return {"deployments": waiting[:10], "count": len(waiting)}


def post_deployment_reviews_due(actor: Any) -> dict | None:
    """Authorising Officer: ended deployments its force authorised and has not reviewed (chased until done)."""
    from recognition.deployments.authorisation import is_ao, post_deployment_reviews_awaited

    if not is_ao(actor):
        return None
    rows = post_deployment_reviews_awaited(actor)
    return {"rows": rows[:10], "count": len(rows), "days": settings.OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS}


REVIEWERS = frozenset({Role.REVIEWER.value, Role.POLICE_REVIEWER.value})
AUTHORISING_OFFICERS = frozenset({Role.AUTHORISING_OFFICER.value})
DPO = frozenset({Role.DPO.value})
POLICE_OUTCOME = frozenset({Role.DPO.value, Role.FORCE_SUBMITTER.value})

for panel in (
    HomePanel(
        "deployments-to-authorise",
        "Deployments awaiting your authorisation",
        AUTHORISING_OFFICERS,
        deployments_to_authorise,
        "deployments/home_deployments_to_authorise.html",
        3,
    ),
    HomePanel(
        "post-deployment-reviews-due",
        "Post-deployment reviews due",
        AUTHORISING_OFFICERS,
        post_deployment_reviews_due,
        "deployments/home_post_reviews_due.html",
        4,
    ),
    HomePanel(
        "alerts-waiting", "Alerts waiting for you", REVIEWERS, alerts_waiting, "deployments/home_alerts_waiting.html", 5
    ),
    HomePanel(
        "disclosures-awaiting-outcome",
        "Disclosures awaiting our outcome",
        POLICE_OUTCOME,
        disclosures_awaiting_our_outcome,
        "deployments/home_disclosures_awaiting.html",
        15,
    ),
    HomePanel(
        "alerts-to-disclose",
        "Confirmed alerts to disclose",
        DPO,
        alerts_to_disclose,
        "deployments/home_alerts_to_disclose.html",
        20,
    ),
    HomePanel(
        "overdue-outcomes",
        "Outcomes overdue",
        DPO,
        operator_outcomes_overdue,
        "deployments/home_outcomes_overdue.html",
        30,
    ),
):
    home_panel_register(panel)

nav_count_register(NavCount("review-queue", alerts_waiting_count, label="waiting for you"))
