"""Planning a deployment: its fields, times and threshold, the agreements it draws on, and its watchlist review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, ValidationFailed
from governance.organisations.models import Organisation, User
from governance.references import next_free_reference, save_with_next_reference
from recognition.deployments.access import (
    can_plan_deployment,
    deployment_check,
)
from recognition.deployments.authorisation import (
    deployment_authorisations_void_changed,
    deployment_notice_require,
)
from recognition.deployments.errors import FieldProblem
from recognition.deployments.models import (
    Deployment,
    WatchlistReview,
)
from recognition.deployments.services.common import deployment_locked_unended, text_required
from recognition.deployments.watchlists import (
    deployment_watchlist_images,
    deployment_watchlist_review,
)

DEPLOYMENT_FIELDS: tuple[str, ...] = (
    "name",
    "site",
    "purpose",
    "starts_at",
    "ends_at",
    "watchlist_justification",
    "location_justification",
    "match_threshold",
    "threshold_justification",
    "public_notice",
    "public_notice_given_on",
)


def deployment_window_problems(*, starts_at: datetime | None, ends_at: datetime | None) -> list[FieldProblem]:
    """The order of a deployment's times (the database constraint deployment_window_ordered backs
    it): one rule for the form's field errors and the service's refusal."""
    if starts_at and ends_at and ends_at <= starts_at:
        return [FieldProblem("ends_at", "ends_before_start", "The deployment must end after it starts.")]
    return []


def default_match_threshold() -> float:
    """The live backend's default operating threshold (read from configuration: no model is loaded)."""
    from recognition.engine.engine import config_for
    from recognition.selectors import live_backend_choice

    return float(config_for(live_backend_choice()).match_threshold)


def _next_reference() -> str:
    return next_free_reference(Deployment.objects.all(), f"LFR-{timezone.localdate().year}-")


def _check_threshold(deployment: Deployment) -> None:
    """A threshold below the engine default needs a written justification (NPL 2023: more false
    alerts, falling disproportionately on Black subjects, below 0.6 on NeoFace's scale). Whatever
    the threshold, each supplying force's Authorising Officer authorises the one it saw
    (``authorisation.deployment_authorised_terms``): the operator names no approver."""
    default = default_match_threshold()
    if deployment.match_threshold < default - 1e-9:
        errors: dict[str, list[str]] = {}
        text_required(
            deployment.threshold_justification,
            "threshold_justification",
            "Explain why a threshold below the default is necessary, citing the engine's own evidence.",
            errors,
        )
        if errors:
            raise ValidationFailed(
                f"A threshold below the engine's default {default:.2f} raises more false alerts (the NPL's 2023 "
                "test found them falling disproportionately on Black subjects below 0.6); it needs a recorded "
                "justification, which the Authorising Officer then authorises.",
                code="threshold_justification_required",
                details=errors,
            )


def _usable_agreements(*, operator: Organisation, agreements: list[Agreement]) -> None:
    if not agreements:
        raise ValidationFailed("Choose at least one agreement for the watchlist.", code="no_agreement")
    for agreement in agreements:
        if agreement.receiving_organisation_id != operator.pk:
            raise ValidationFailed(
                f"{agreement.reference} does not share images with {operator}.", code="agreement_not_for_operator"
            )
        if not agreement.is_sharing:
            raise ValidationFailed(
                f"{agreement.reference} is {agreement.get_status_display().lower()}; only active "
                "agreements can supply a watchlist.",
                code="agreement_not_active",
            )


def deployment_plan(*, actor: User, agreements: list[Agreement], fields: dict[str, Any]) -> Deployment:
    """The operator proposes a deployment (site, times, purpose, threshold, justifications); each
    supplying force's Authorising Officer then authorises it (``recognition.deployments.authorisation``).
    Refuses: not a DPO of an operator, missing written justifications, a public notice after the
    start, inactive or foreign agreements, an unjustified threshold other than the default."""
    if not can_plan_deployment(actor):
        raise PermissionRefused("Only an operator's data protection officer can plan a deployment.")
    unknown = set(fields) - set(DEPLOYMENT_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown deployment fields.", details=sorted(unknown))
    fields = dict(fields)
    if fields.get("match_threshold") in (None, ""):
        fields["match_threshold"] = default_match_threshold()
    deployment = Deployment(**fields, operator=actor.organisation, created_by=actor)
    errors: dict[str, list[str]] = {}
    text_required(
        deployment.watchlist_justification,
        "watchlist_justification",
        "State who is on the watchlist and why (Bridges v South Wales Police).",
        errors,
    )
    text_required(
        deployment.location_justification,
        "location_justification",
        "State why cameras are used at this place and time.",
        errors,
    )
    text_required(deployment.public_notice, "public_notice", "Record the public notice and signage.", errors)
    if errors:
        raise ValidationFailed(
            "The deployment's written justifications are incomplete.", code="justification_required", details=errors
        )
    problems = deployment_window_problems(starts_at=deployment.starts_at, ends_at=deployment.ends_at)
    if problems:
        raise ValidationFailed(
            problems[0].message, code=problems[0].code, details={p.field: [p.message] for p in problems}
        )
    deployment_notice_require(deployment)  # APP: the public is told before the start
    _usable_agreements(operator=actor.organisation, agreements=agreements)
    _check_threshold(deployment)
    with transaction.atomic():
        deployment.reference = _next_reference()
        try:
            deployment.full_clean(exclude=["reference"])
        except ValidationError as error:
            raise ValidationFailed("The deployment is not valid.", details=error.message_dict) from error
        # The next free reference, safe against another deployment planned at the same moment.
        save_with_next_reference(
            deployment,
            next_reference=_next_reference,
            taken=lambda reference: Deployment.objects.filter(reference=reference).exists(),
        )
        deployment.agreements.set(agreements)
        audit_record(
            action=AuditAction.COLLECTION,
            event="deployment.planned",
            actor=actor,
            target=deployment,
            justification=deployment.watchlist_justification,
            details={
                "reference": deployment.reference,
                "agreements": [a.reference for a in agreements],
                "threshold": deployment.match_threshold,
                "site": deployment.site,
                "public_notice_given_on": deployment.public_notice_given_on.isoformat(),
                "window": [deployment.starts_at.isoformat(), deployment.ends_at.isoformat()],
            },
        )
    return deployment


def deployment_set_threshold(
    *, actor: User, deployment: Deployment, threshold: float, justification: str = ""
) -> Deployment:
    """Change the operating threshold (other than the default only with a justification). The
    threshold is part of what the Authorising Officers authorised: a change voids their
    authorisations (go-live then needs new ones)."""
    deployment_check(actor, deployment, to="operate")
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        before = deployment.match_threshold
        deployment.match_threshold = float(threshold)
        deployment.threshold_justification = justification
        if not 0 < deployment.match_threshold <= 1:
            raise ValidationFailed("The threshold is a cosine similarity between 0 and 1.", code="invalid_threshold")
        _check_threshold(deployment)
        deployment.save(update_fields=["match_threshold", "threshold_justification"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.threshold_changed",
            actor=actor,
            target=deployment,
            justification=justification,
            details={"from": before, "to": deployment.match_threshold},
        )
        deployment_authorisations_void_changed(
            actor=actor, deployment=deployment, change=f"threshold {before:.2f} → {deployment.match_threshold:.2f}"
        )
    return deployment


def watchlist_images_for(deployment: Deployment):
    """The images a watchlist review of this deployment covers now: its composed, matchable entries
    (``recognition.deployments.watchlists.deployment_watchlist_images``)."""
    return deployment_watchlist_images(deployment)


def matched_watchlist(deployment: Deployment) -> tuple[int | None, list[int]]:
    """What live matching searches: the watchlist review in force and the ids of the agreements
    sharing now. The watchlist reviewed is the watchlist matched — the gallery holds each supplying
    force's reviewed entries (``deployment_matched_image_ids``); one removed, withdrawn or no longer
    shared drops out at once."""
    agreement_ids = list(deployment.agreements.sharing_versions().values_list("pk", flat=True))
    return deployment.matched_review_id, agreement_ids


def watchlist_review_record(*, actor: User, deployment: Deployment, notes: str) -> WatchlistReview:
    """Record the pre-deployment watchlist review: by the supplying force, of its own entries
    (``recognition.deployments.watchlists.deployment_watchlist_review``); the operator is refused."""
    return deployment_watchlist_review(actor=actor, deployment=deployment, notes=notes)
