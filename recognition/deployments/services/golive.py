"""Taking a deployment live (every gate checked in one transaction), pausing it and ending it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.access import deployment_check
from recognition.deployments.authorisation import (
    deployment_authorisation_require,
    deployment_notice_require,
)
from recognition.deployments.models import (
    Deployment,
    DeploymentStatus,
)
from recognition.deployments.services.planning import watchlist_images_for
from recognition.deployments.watchlists import (
    deployment_watchlist_apply_reviews,
    deployment_watchlist_check_reviewed,
)


def deployment_go_live(*, actor: User, deployment: Deployment) -> Deployment:
    """Go live. Refuses outside the window, without an active agreement, with a public notice after
    the start, without a current authorisation from every supplying force, without a fresh
    watchlist review (one made for this go-live, recent, and of exactly the images now enrolled), or
    without an approved, in-date DPIA covering the deployment and citing the running weights."""
    from governance.agreements.rules import operator_legal_basis_problems
    from governance.dpia.services import (
        dpia_require_for_deployment,
        dpias_flag_weights_changed,
    )

    deployment_check(actor, deployment, to="operate")
    # Other weights than the DPIA cites: flag it for review (its own transaction, so the flag stands
    # although this go-live is then refused below).
    dpias_flag_weights_changed()
    with transaction.atomic():
        deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
        now = timezone.now()
        if deployment.status not in {DeploymentStatus.PLANNED, DeploymentStatus.PAUSED}:
            raise StateConflict(f"The deployment is {deployment.get_status_display().lower()}.", code="invalid_state")
        if not deployment.starts_at <= now < deployment.ends_at:
            raise StateConflict(
                f"The deployment may only run between {timezone.localtime(deployment.starts_at):%d %b %Y %H:%M} and "
                f"{timezone.localtime(deployment.ends_at):%d %b %Y %H:%M}.",
                code="outside_window",
            )
        if not deployment.agreements.sharing_versions().exists():
            raise StateConflict("None of the deployment's agreements is active.", code="no_active_agreement")
        for agreement in deployment.agreements.sharing_versions():  # the operator's own legal basis (governance)
            if problems := operator_legal_basis_problems(agreement):
                raise StateConflict(" ".join(p.message for p in problems), code=problems[0].code)
        # Each supplying force's current review of its own entries (recognition.deployments.watchlists).
        reviews = deployment_watchlist_check_reviewed(deployment)
        current = list(watchlist_images_for(deployment).values_list("pk", flat=True))
        # DPIA gate (governance.dpia): approved, in date, citing the weights the engine runs.
        dpia_require_for_deployment(deployment_id=deployment.pk)
        # APP on LFR: notice before the start, and every supplying force's Authorising Officer has
        # authorised exactly what will run.
        deployment_notice_require(deployment)
        deployment_authorisation_require(deployment)
        deployment_watchlist_apply_reviews(reviews, now=now)
        deployment.status = DeploymentStatus.LIVE
        deployment.went_live_at = now
        deployment.matched_review = max(reviews, key=lambda r: (r.reviewed_at, r.pk))
        deployment.save(update_fields=["status", "went_live_at", "matched_review"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.went_live",
            actor=actor,
            target=deployment,
            details={
                "watchlist_review": deployment.matched_review_id,
                "watchlist_reviews": [r.pk for r in reviews],
                "image_count": len(current),
                "threshold": deployment.match_threshold,
            },
        )
    return deployment


def deployment_pause(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    deployment_check(actor, deployment, to="operate")
    with transaction.atomic():
        deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
        if deployment.status != DeploymentStatus.LIVE:
            raise StateConflict("Only a live deployment can be paused.", code="invalid_state")
        deployment.status = DeploymentStatus.PAUSED
        deployment.save(update_fields=["status"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.paused",
            actor=actor,
            target=deployment,
            justification=reason,
        )
    return deployment


def deployment_end(*, actor: User | None, deployment: Deployment, reason: str) -> Deployment:
    """End a deployment (``actor`` None: the schedule ended it at ``ends_at``). Idempotent."""
    if actor is not None:
        deployment_check(actor, deployment, to="operate")
    with transaction.atomic():
        deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
        if deployment.status == DeploymentStatus.ENDED:
            return deployment
        deployment.status = DeploymentStatus.ENDED
        deployment.ended_at = timezone.now()
        deployment.end_reason = reason
        deployment.save(update_fields=["status", "ended_at", "end_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.ended",
            actor=actor,
            target=deployment,
            justification=reason,
        )
        # Discard the deployment's gallery in every worker: a new gallery version makes each process
        # drop its cached galleries; only live deployments ever build one again.
        transaction.on_commit(_galleries_discard)
    return deployment


def _galleries_discard() -> None:
    from recognition.gallery_cache import gallery_cache_clear, gallery_version_bump

    gallery_version_bump()
    gallery_cache_clear()


def deployments_end_due(*, batch_size: int = 100) -> int:
    """Beat: end every deployment whose window has closed. Idempotent; commits per deployment."""
    due = list(
        Deployment.objects.exclude(status=DeploymentStatus.ENDED)
        .filter(ends_at__lte=timezone.now())
        .order_by("ends_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for pk in due:
        deployment_end(actor=None, deployment=Deployment(pk=pk), reason="The deployment's time window closed.")
    return len(due)
