"""Each deployment's watchlist, composed and reviewed by the force that supplied its images.

College of Policing APP on live facial recognition: a watchlist is specific to the operation, no
larger than it needs, holds the most recent suitable image of each person, and is reviewed by the
police before each deployment. So:

- **Composition** (``deployment_watchlist_compose`` / ``deployment_watchlist_remove``): the supplying
  force — its DPO, or the submitter of the force or unit whose images they are — chooses which of its
  images under the deployment's agreements form the deployment's watchlist. The gallery a deployment
  matches is exactly its composed entries that may be matched (``deployment_watchlist_images``, built on
  ``governance``'s ``image_matchable_q``).
- **Review** (``deployment_watchlist_review``): each supplying force's DPO reviews its own entries
  before each go-live (``deployment_watchlist_check_reviewed``, called by ``deployment_go_live``). Any
  change to a force's entries after its review voids that review. While live, matching follows each
  force's review in force (``deployment_matched_image_ids``): an image added since joins only through a
  new review; one removed, withdrawn or restricted drops out at once.
- **Erasure after the end**: ``recognition.deployments.watchlist_retention``.

Access: ``recognition.deployments.access`` (``can_compose_deployment_watchlist``,
``can_review_deployment_watchlist``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from governance.watchlist.models import ImageStatus, WatchlistImage
from governance.watchlist.selectors import image_matchable_q, watchlist_images_matchable
from recognition.deployments.access import composable_images_q, watchlist_deployment_check
from recognition.deployments.models import Deployment, DeploymentStatus, WatchlistReview
from recognition.deployments.services.common import deployment_locked_unended
from recognition.deployments.watchlist_models import DeploymentWatchlistEntry

MIN_NOTES_CHARS = 10


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


# --- reads -----------------------------------------------------------------------------------------


def deployment_watchlist_entries(deployment: Deployment) -> QuerySet[DeploymentWatchlistEntry]:
    """The deployment's current entries (not removed), whatever their image's state."""
    return DeploymentWatchlistEntry.objects.filter(deployment=deployment, removed_at__isnull=True)


def deployment_watchlist_images(deployment: Deployment, *, force_id: int | None = None) -> QuerySet[WatchlistImage]:
    """The one rule for what a deployment may match: its composed entries whose image may be matched
    (``image_matchable_q``: enrolled, not restricted) under the version of its agreements sharing now.
    ``force_id``: only that supplying force's entries (what its review covers)."""
    entries = deployment_watchlist_entries(deployment)
    if force_id is not None:
        entries = entries.filter(force_id=force_id)
    return (
        watchlist_images_matchable(deployment.agreements.all()).filter(pk__in=entries.values("image_id")).order_by("pk")
    )


def deployment_watchlist_forces(deployment: Deployment) -> QuerySet[Organisation]:
    """The forces with entries on the deployment's watchlist: each must review its own before go-live."""
    return Organisation.objects.filter(pk__in=deployment_watchlist_entries(deployment).values("force_id")).order_by(
        "name"
    )


def deployment_watchlist_candidates(actor: User, deployment: Deployment) -> QuerySet[WatchlistImage]:
    """The images the actor may put on this deployment's watchlist now: theirs (``composable_images_q``),
    under its agreements, matchable, the most recent of their subject, not already on it."""
    on_it = deployment_watchlist_entries(deployment).values("image_id")
    return (
        watchlist_images_matchable(deployment.agreements.all())
        .filter(composable_images_q(actor))
        .exclude(pk__in=on_it)
        .select_related("supplying_organisation")
        .order_by("subject_reference", "-image_taken_on", "pk")
    )


def deployment_watchlist_summary(deployment: Deployment, *, force_ids: set[int] | None = None) -> list[dict]:
    """Per supplying force (only ``force_ids`` where given): entries, how many may be matched now, and its
    latest review (counts only)."""
    rows = []
    forces = deployment_watchlist_forces(deployment)
    if force_ids is not None:
        forces = forces.filter(pk__in=force_ids)
    for force in forces:
        entries = deployment_watchlist_entries(deployment).filter(force=force)
        review = _latest_review(deployment, force)
        rows.append(
            {
                "force": force,
                "entries": entries.count(),
                "matchable": deployment_watchlist_images(deployment, force_id=force.pk).count(),
                "review": review,
                "review_current": review is not None and _review_problem(deployment, force, review) is None,
            }
        )
    return rows


def _latest_review(deployment: Deployment, force: Organisation) -> WatchlistReview | None:
    return deployment.watchlist_reviews.filter(force=force).order_by("-reviewed_at", "-pk").first()


def deployment_matched_image_ids(deployment_id: int) -> list[int]:
    """What live matching searches: for each supplying force, the images of its review in force (the
    latest one applied at go-live or while live), still on the watchlist. The watchlist reviewed is the
    watchlist matched; the gallery applies ``image_matchable_q`` on top."""
    reviews = WatchlistReview.objects.filter(deployment_id=deployment_id, applied_at__isnull=False).order_by(
        "-applied_at", "-pk"
    )
    in_force: dict[int | None, list[int]] = {}
    for force_id, image_ids in reviews.values_list("force_id", "image_ids"):
        in_force.setdefault(force_id, list(image_ids))
    reviewed = {pk for ids in in_force.values() for pk in ids}
    active = set(
        DeploymentWatchlistEntry.objects.filter(
            deployment_id=deployment_id, removed_at__isnull=True, image_id__in=reviewed
        ).values_list("image_id", flat=True)
    )
    return sorted(active)


# --- composition -----------------------------------------------------------------------------------


def _refuse_unsuitable(actor: User, deployment: Deployment, image: WatchlistImage) -> None:
    """Why this image may not join the deployment's watchlist (a coded refusal), if it may not."""
    if not WatchlistImage.objects.filter(composable_images_q(actor), pk=image.pk).exists():
        raise StateConflict(
            f"Image #{image.pk} is not one of your force's own images.", code="watchlist_image_not_yours"
        )
    if not deployment.agreements.sharing_versions().filter(pk=image.agreement_id).exists():
        raise StateConflict(
            f"Image #{image.pk} is not held under an agreement this deployment uses.",
            code="watchlist_image_not_under_agreement",
        )
    if image.status == ImageStatus.WITHDRAWN:
        raise StateConflict(f"Image #{image.pk} was withdrawn.", code="watchlist_image_withdrawn")
    if image.status == ImageStatus.ERASED:
        raise StateConflict(
            f"Image #{image.pk} was erased at the operator; supply the image afresh for this deployment.",
            code="watchlist_image_erased",
        )
    if image.restricted_at is not None:
        raise StateConflict(
            f"Image #{image.pk} is restricted at the subject's request and may not be matched.",
            code="watchlist_image_restricted",
        )
    if not WatchlistImage.objects.filter(image_matchable_q(), pk=image.pk).exists():
        raise StateConflict(
            f"Image #{image.pk} is not enrolled ({image.get_status_display().lower()}).",
            code="watchlist_image_not_enrolled",
        )
    newer = (
        watchlist_images_matchable(deployment.agreements.all())
        .filter(
            supplying_force_id=image.supplying_force_id,
            subject_reference=image.subject_reference,
            image_taken_on__gt=image.image_taken_on,
        )
        .order_by("-image_taken_on")
        .first()
    )
    if newer is not None:
        raise StateConflict(
            f"A more recent suitable image of {image.subject_reference} exists (#{newer.pk}, taken "
            f"{newer.image_taken_on:%d %b %Y}); the watchlist holds the most recent suitable image (APP).",
            code="watchlist_image_not_most_recent",
            details={"newer_image": newer.pk},
        )


def _void_reviews(deployment: Deployment, force_id: int, now) -> list[int]:
    """A change to a force's entries voids its reviews not yet used: the next go-live needs a new one."""
    voided = list(
        lock_rows(
            deployment.watchlist_reviews.filter(
                force_id=force_id, voided_at__isnull=True, used_for_go_live_at__isnull=True
            )
        ).values_list("pk", flat=True)
    )
    WatchlistReview.objects.filter(pk__in=voided).update(voided_at=now)
    return voided


def deployment_watchlist_compose(
    *, actor: User, deployment: Deployment, images: list[WatchlistImage]
) -> list[DeploymentWatchlistEntry]:
    """Put these images on the deployment's watchlist (all or none). Refuses (coded): an actor who is not
    of the supplying force, an ended deployment, an image not the actor's force's own, not under the
    deployment's agreements, withdrawn, erased, restricted or not enrolled, or an older image of a subject
    whose more recent suitable image exists. Voids the force's unused reviews. One audit event."""
    watchlist_deployment_check(actor, deployment, to="compose")
    if not images:
        raise ValidationFailed("Choose at least one image.", code="no_images_chosen")
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        locked = list(lock_rows(WatchlistImage.objects).filter(pk__in=[i.pk for i in images]).order_by("pk"))
        already = set(deployment_watchlist_entries(deployment).values_list("image_id", flat=True))
        for image in locked:
            _refuse_unsuitable(actor, deployment, image)
        now = timezone.now()
        entries = [
            DeploymentWatchlistEntry.objects.create(
                deployment=deployment,
                image=image,
                force_id=image.supplying_force_id,
                added_by=actor,
                added_by_name=_name(actor),
                added_at=now,
            )
            for image in locked
            if image.pk not in already
        ]
        if not entries:
            return []
        forces = sorted({e.force_id for e in entries})
        voided = [pk for force_id in forces for pk in _void_reviews(deployment, force_id, now)]
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.watchlist_composed",
            actor=actor,
            target=deployment,
            details={
                "added": [e.image_id for e in entries],
                "forces": forces,
                "reviews_voided": voided,
                "entries_now": deployment_watchlist_entries(deployment).count(),
            },
            organisations=forces,
        )
    return entries


def deployment_watchlist_remove(
    *, actor: User, deployment: Deployment, images: list[WatchlistImage], reason: str
) -> int:
    """Take these images off the deployment's watchlist (the entries stay, marked removed). While live,
    they stop matching at once. Voids the force's unused reviews. One audit event."""
    watchlist_deployment_check(actor, deployment, to="compose")
    if len((reason or "").strip()) < MIN_NOTES_CHARS:
        raise ValidationFailed(
            "Say why the images come off the watchlist.",
            code="removal_reason_required",
            details={"reason": ["Say why the images come off the watchlist."]},
        )
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        entries = list(
            lock_rows(deployment_watchlist_entries(deployment))
            .filter(image_id__in=[i.pk for i in images])
            .filter(image_id__in=WatchlistImage.objects.filter(composable_images_q(actor)).values("pk"))
        )
        if len(entries) != len({i.pk for i in images}):
            raise StateConflict(
                "Some of these images are not on the watchlist, or not your force's own.",
                code="watchlist_entry_not_found",
            )
        now = timezone.now()
        for entry in entries:
            entry.removed_at = now
            entry.removed_by = actor
            entry.removed_by_name = _name(actor)
            entry.removal_reason = reason.strip()
            entry.save(update_fields=["removed_at", "removed_by", "removed_by_name", "removal_reason"])
        forces = sorted({e.force_id for e in entries})
        voided = [pk for force_id in forces for pk in _void_reviews(deployment, force_id, now)]
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.watchlist_entries_removed",
            actor=actor,
            target=deployment,
            justification=reason.strip(),
            details={"removed": [e.image_id for e in entries], "forces": forces, "reviews_voided": voided},
            organisations=forces,
        )
        if deployment.status == DeploymentStatus.LIVE:
            transaction.on_commit(_galleries_rebuild)
    return len(entries)


def _galleries_rebuild() -> None:
    from recognition.gallery_cache import galleries_invalidate

    galleries_invalidate()


# --- review ----------------------------------------------------------------------------------------


def _review_problem(deployment: Deployment, force: Organisation, review: WatchlistReview | None):
    """Why this force's review cannot take the deployment live (code, message), or None."""
    max_age = timedelta(hours=settings.OVERSIGHT_WATCHLIST_REVIEW_MAX_AGE_HOURS)
    if review is None or review.applied_at is not None:  # one made for this go-live, not one already in force
        return ("watchlist_review_required", f"{force} must review its watchlist entries before each go-live.")
    if review.voided_at is not None:
        return (
            "watchlist_changed_since_review",
            f"{force}'s watchlist entries changed after its review; it must review them again.",
        )
    if timezone.now() - review.reviewed_at > max_age:
        return (
            "watchlist_review_stale",
            f"{force}'s watchlist review is older than {max_age.total_seconds() / 3600:.0f} hours; "
            "it must review again.",
        )
    current = list(deployment_watchlist_images(deployment, force_id=force.pk).values_list("pk", flat=True))
    if current != list(review.image_ids):
        return (
            "watchlist_changed_since_review",
            f"{force}'s watchlist changed since it was reviewed (images withdrawn, restricted or no longer "
            "shared); it must review again.",
        )
    return None


def deployment_watchlist_review(*, actor: User, deployment: Deployment, notes: str) -> WatchlistReview:
    """Record the actor's force's pre-deployment review of its own entries (who, when, which images:
    counted here, not typed). While live, the review becomes what is matched for that force."""
    watchlist_deployment_check(actor, deployment, to="review")
    force = actor.organisation.force
    if len((notes or "").strip()) < MIN_NOTES_CHARS:
        raise ValidationFailed(
            "The watchlist review needs notes.",
            code="review_notes_required",
            details={"notes": ["Record what was checked (currency, necessity, categories)."]},
        )
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        image_ids = list(deployment_watchlist_images(deployment, force_id=force.pk).values_list("pk", flat=True))
        if not image_ids:
            raise StateConflict(
                f"{force} has no images on this deployment's watchlist to review; compose it first.",
                code="watchlist_empty",
            )
        now = timezone.now()
        applied = deployment.status == DeploymentStatus.LIVE
        review = WatchlistReview.objects.create(
            deployment=deployment,
            force=force,
            reviewed_by=actor,
            reviewed_by_name=_name(actor),
            reviewed_at=now,
            image_count=len(image_ids),
            image_ids=image_ids,
            notes=notes.strip(),
            applied_at=now if applied else None,
        )
        if applied:  # a review while live becomes the force's watchlist matched from now on
            deployment.matched_review = review
            deployment.save(update_fields=["matched_review"])
        audit_record(
            action=AuditAction.CONSULTATION,
            event="deployment.watchlist_reviewed",
            actor=actor,
            target=deployment,
            justification=notes.strip(),
            details={
                "review": review.pk,
                "force": force.pk,
                "image_count": len(image_ids),
                "image_ids": image_ids,
                "applied_to_live_matching": applied,
            },
            organisations=[force.pk],
        )
    return review


def deployment_watchlist_check_reviewed(deployment: Deployment) -> list[WatchlistReview]:
    """The go-live rule (inside ``deployment_go_live``'s transaction): the watchlist is not empty, and every
    force with entries on it has a current review of exactly its entries (made for this go-live, recent,
    not voided by a change since). Returns the reviews to apply; refuses with the first problem."""
    forces = list(deployment_watchlist_forces(deployment))
    if not forces or not deployment_watchlist_images(deployment).exists():
        raise StateConflict(
            "The deployment's watchlist is empty: the supplying force composes it before go-live.",
            code="watchlist_empty",
        )
    reviews = []
    for force in forces:
        review = _latest_review(deployment, force)
        problem = _review_problem(deployment, force, review)
        if problem is not None:
            code, message = problem
            raise StateConflict(message, code=code, details={"force": force.short_name})
        reviews.append(review)
    return reviews


def deployment_watchlist_apply_reviews(reviews: list[WatchlistReview], *, now) -> None:
    """At go-live (inside its transaction): the reviews become the ones in force for matching."""
    WatchlistReview.objects.filter(pk__in=[r.pk for r in reviews]).update(used_for_go_live_at=now, applied_at=now)
