"""Recognition's clocks in governance's notification registry (``governance.notifications.registry``;
governance never imports this module: ``RecognitionConfig.ready`` does): outcomes the police have not
reported within the chase period, deployments awaiting an Authorising Officer's decision, post-deployment
reviews due, and watchlist reviews a supplying force owes before go-live. Each reads through the access
layer and the rule its home panel uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse

from governance.notifications.registry import Clock, Notice, clock_register
from governance.organisations.roles import Role
from recognition.deployments import access, selectors
from recognition.deployments.models import DeploymentStatus


def outcomes_overdue(actor: Any, now: datetime) -> Iterator[Notice]:
    """Disclosures with no outcome after ``OVERSIGHT_OUTCOME_CHASE_DAYS``: the operator's DPO
    (``disclosures_awaiting_outcome``) and the supplying side that reports it (``can_report_outcome``)."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None:
        return
    if organisation.is_police:
        cutoff = now - timedelta(days=settings.OVERSIGHT_OUTCOME_CHASE_DAYS)
        waiting = access.disclosures_received_by(actor).filter(outcome="", disclosed_at__lte=cutoff)
        rows = [(d, reverse("disclosure-list")) for d in waiting if access.can_report_outcome(actor, d)]
    elif access.can_read_disclosures(actor):
        waiting = selectors.disclosures_awaiting_outcome(user=actor)
        rows = [(d, reverse("alert-detail", args=[d.alert_id])) for d in waiting]
    else:
        return
    for disclosure, url in rows:
        yield Notice(
            f"disclosure-outcome:{disclosure.pk}",
            "overdue",
            f"Outcome overdue: disclosure of {disclosure.disclosed_at:%d %b %Y} has no outcome after "
            f"{settings.OVERSIGHT_OUTCOME_CHASE_DAYS} days",
            url,
        )


def authorisations_waiting(actor: Any, now: datetime) -> Iterator[Notice]:
    from recognition.deployments.authorisation import deployments_awaiting_authorisation

    for deployment in deployments_awaiting_authorisation(actor):
        yield Notice(
            f"deployment-authorisation:{deployment.pk}",
            "awaiting",
            f"Deployment {deployment.reference} awaits your force's authorisation",
            reverse("deployment-authorisation", args=[deployment.pk]),
        )


def post_deployment_reviews(actor: Any, now: datetime) -> Iterator[Notice]:
    from recognition.deployments.authorisation import post_deployment_reviews_awaited

    for row in post_deployment_reviews_awaited(actor):
        deployment = row["deployment"]
        stage = "overdue" if row.get("overdue") else "due"
        yield Notice(
            f"post-deployment-review:{deployment.pk}",
            stage,
            f"Post-deployment review of {deployment.reference} {'is overdue' if stage == 'overdue' else 'is due'}",
            reverse("deployment-post-review", args=[deployment.pk]),
        )


def watchlist_reviews_waiting(actor: Any, now: datetime) -> Iterator[Notice]:
    """A supplying force's DPO: deployments not ended whose watchlist holds its entries and has no current
    review by it (``deployment_watchlist_summary``'s ``review_current``), once per latest review."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not organisation.is_police:
        return
    from recognition.deployments.watchlists import deployment_watchlist_summary

    force = organisation.force
    candidates = access.deployments_visible_to(actor).filter(
        status__in=[DeploymentStatus.PLANNED, DeploymentStatus.PAUSED]
    )
    for deployment in candidates:
        if not access.can_review_deployment_watchlist(actor, deployment):
            continue
        for row in deployment_watchlist_summary(deployment, force_ids={force.pk}):
            if row["entries"] and not row["review_current"]:
                yield Notice(
                    f"watchlist-review:{deployment.pk}",
                    f"awaiting:{row['review'].pk if row['review'] else 0}",
                    f"Deployment {deployment.reference}: review your force's watchlist entries before go-live",
                    reverse("deployment-watchlist-review", args=[deployment.pk]),
                )


DPO = frozenset({Role.DPO.value})
OUTCOMES = frozenset({Role.DPO.value, Role.FORCE_SUBMITTER.value})
AUTHORISING_OFFICERS = frozenset({Role.AUTHORISING_OFFICER.value})

for clock in (
    Clock("outcome-overdue", "Outcomes overdue", OUTCOMES, outcomes_overdue),
    Clock(
        "deployment-authorisation", "Deployments awaiting authorisation", AUTHORISING_OFFICERS, authorisations_waiting
    ),
    Clock("post-deployment-review", "Post-deployment reviews due", AUTHORISING_OFFICERS, post_deployment_reviews),
    Clock("watchlist-review", "Watchlist reviews before go-live", DPO, watchlist_reviews_waiting),
):
    clock_register(clock)
