"""Deployments, cameras, watchlist reviews, alerts, two-person review, disclosures and outcomes.

Every function here is an entry point: it checks who may act (``recognition.deployments.access``),
opens its own transaction, checks the rule, changes state and writes its s.62 audit event in that
same transaction.

Who may do what (roles in ``governance.organisations.roles``; scope in the access module):
- the operator's DPO plans a deployment, adds cameras, records the watchlist review, takes it live,
  pauses and ends it, and discloses confirmed alerts;
- reviewers of the operator and police reviewers of the side that supplied the matched image
  review an alert; another supplier of the same deployment never sees it;
- the supplying unit or its force reports the outcome of a disclosure;
- regulators read everything, change nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from governance import encryption
from governance.access import is_police_reviewer
from governance.agreements.models import Agreement
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.organisations.models import Organisation, User
from governance.references import next_free_reference, save_with_next_reference
from governance.watchlist.models import WatchlistImage
from governance.watchlist.selectors import image_matchable_q
from recognition.deployments import rules
from recognition.deployments.access import (
    alert_check,
    camera_check,
    can_plan_deployment,
    deployment_check,
    disclosure_for,
    disclosure_recipients,
)
from recognition.deployments.authorisation import (
    deployment_authorisation_require,
    deployment_authorisations_void_changed,
    deployment_notice_require,
)
from recognition.deployments.models import (
    Alert,
    AlertImageShown,
    AlertReview,
    AlertStatus,
    Camera,
    Deployment,
    DeploymentStatus,
    Disclosure,
    DisclosureChannel,
    EthnicGroup,
    FaceScanCounter,
    FrameDropCounter,
    FrameDropReason,
    FrameOutcome,
    Outcome,
    RejectionReason,
    ReviewDecision,
    ReviewImage,
    WatchlistReview,
)
from recognition.deployments.watchlists import (
    deployment_watchlist_apply_reviews,
    deployment_watchlist_check_reviewed,
    deployment_watchlist_images,
    deployment_watchlist_review,
)

MIN_TEXT_CHARS = 10

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


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message: str


def deployment_window_problems(*, starts_at: datetime | None, ends_at: datetime | None) -> list[FieldProblem]:
    """The order of a deployment's times (the database constraint deployment_window_ordered backs
    it): one rule for the form's field errors and the service's refusal."""
    if starts_at and ends_at and ends_at <= starts_at:
        return [FieldProblem("ends_at", "ends_before_start", "The deployment must end after it starts.")]
    return []


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def default_match_threshold() -> float:
    """The live backend's default operating threshold (read from configuration: no model is loaded)."""
    from recognition.engine.engine import config_for
    from recognition.selectors import live_backend_choice

    return float(config_for(live_backend_choice()).match_threshold)


def _next_reference() -> str:
    return next_free_reference(Deployment.objects.all(), f"LFR-{timezone.localdate().year}-")


def _text_required(value: str, field: str, message: str, errors: dict[str, list[str]]) -> None:
    if len((value or "").strip()) < MIN_TEXT_CHARS:
        errors.setdefault(field, []).append(message)


def _check_threshold(deployment: Deployment) -> None:
    """A threshold below the engine default needs a written justification (NPL 2023: more false
    alerts, falling disproportionately on Black subjects, below 0.6 on NeoFace's scale). Whatever
    the threshold, each supplying force's Authorising Officer authorises the one it saw
    (``authorisation.deployment_authorised_terms``): the operator names no approver."""
    default = default_match_threshold()
    if deployment.match_threshold < default - 1e-9:
        errors: dict[str, list[str]] = {}
        _text_required(
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


# --- deployments ---------------------------------------------------------------------------------


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
    _text_required(
        deployment.watchlist_justification,
        "watchlist_justification",
        "State who is on the watchlist and why (Bridges v South Wales Police).",
        errors,
    )
    _text_required(
        deployment.location_justification,
        "location_justification",
        "State why cameras are used at this place and time.",
        errors,
    )
    _text_required(deployment.public_notice, "public_notice", "Record the public notice and signage.", errors)
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
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if deployment.status == DeploymentStatus.ENDED:
            raise StateConflict("The deployment has ended.", code="deployment_ended")
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


def camera_add(*, actor: User, deployment: Deployment, name: str, location: str, direction: str) -> Camera:
    deployment_check(actor, deployment, to="operate")
    with transaction.atomic():
        camera = Camera(deployment=deployment, name=name, location=location, direction=direction)
        try:
            camera.full_clean()
        except ValidationError as error:
            raise ValidationFailed("The camera is not valid.", details=error.message_dict) from error
        camera.save()
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.added",
            actor=actor,
            target=deployment,
            details={"camera": camera.pk, "name": name, "location": location, "direction": direction},
        )
        deployment_authorisations_void_changed(actor=actor, deployment=deployment, change=f"camera {name} added")
    return camera


def camera_issue_ingest_key(*, actor: User, camera: Camera) -> str:
    """Issue the camera gateway's key, or rotate it (the old key stops working at once); returns the
    secret once, keeps its digest. The operator's DPO or an administrator of the operator
    (``camera_check``)."""
    camera_check(actor, camera)
    secret = "cam_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        camera = Camera.objects.select_for_update().get(pk=camera.pk)
        rotated_from = camera.ingest_key_prefix
        camera.ingest_key_prefix = secret[:12]
        camera.ingest_key_digest = hashlib.sha256(secret.encode()).hexdigest()
        camera.save(update_fields=["ingest_key_prefix", "ingest_key_digest"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.key_rotated" if rotated_from else "camera.key_issued",
            actor=actor,
            target=camera.deployment,
            details={"camera": camera.pk, "key_prefix": camera.ingest_key_prefix, "replaced": rotated_from or None},
        )
    return secret


def camera_revoke_ingest_key(*, actor: User, camera: Camera, reason: str) -> Camera:
    """Withdraw the camera gateway's key: its frames are refused (401) from the next request."""
    camera_check(actor, camera)
    if not reason.strip():
        raise ValidationFailed("Say why the key is revoked.", code="reason_required")
    with transaction.atomic():
        camera = Camera.objects.select_for_update().select_related("deployment").get(pk=camera.pk)
        if not camera.ingest_key_prefix:
            raise StateConflict("This camera has no key.", code="no_key")
        prefix = camera.ingest_key_prefix
        camera.ingest_key_prefix = ""
        camera.ingest_key_digest = ""
        camera.save(update_fields=["ingest_key_prefix", "ingest_key_digest"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.key_revoked",
            actor=actor,
            target=camera.deployment,
            justification=reason.strip(),
            details={"camera": camera.pk, "key_prefix": prefix},
        )
    return camera


def camera_for_ingest_key(secret: str) -> Camera | None:
    if not secret.startswith("cam_"):
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    camera = Camera.objects.select_related("deployment").filter(ingest_key_prefix=secret[:12]).first()
    if camera is None or not secrets.compare_digest(camera.ingest_key_digest, digest):
        return None
    return camera


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
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
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
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
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
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
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
    from recognition.selectors import gallery_cache_clear, gallery_version_bump

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


# --- counters ------------------------------------------------------------------------------------


def counters_add(*, camera_id: int, at: datetime | None = None, **increments: int) -> None:
    """Add to the camera's hourly counters (the only trace of faces that did not match)."""
    increments = {k: v for k, v in increments.items() if v}
    if not increments:
        return
    hour = _hour(at or timezone.now())
    FaceScanCounter.objects.get_or_create(camera_id=camera_id, hour=hour)
    FaceScanCounter.objects.filter(camera_id=camera_id, hour=hour).update(
        **{name: F(name) + value for name, value in increments.items()}
    )


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


PROCESSED = "processed"


def frame_outcome_count(
    *,
    frame_key: str,
    camera_id: int,
    received_at: datetime,
    outcome: str,
    faces_scanned: int = 0,
    alerts_raised: int = 0,
    key_digest: str = "",
) -> bool:
    """Count an accepted frame's one outcome — ``"processed"`` or a ``FrameDropReason`` — in the
    hour it was received. Exactly once: the ``FrameOutcome`` ledger row (the key's digest) is
    written in the same transaction as the counters, so a redelivered or retried task counts
    nothing (returns False). ``key_digest``: the sweep of lost frames knows only the digest."""
    if outcome != PROCESSED and outcome not in FrameDropReason.values:
        raise ValueError(f"unknown frame outcome {outcome!r}")
    digest = key_digest or hashlib.sha256(frame_key.encode()).hexdigest()
    with transaction.atomic():
        _, created = FrameOutcome.objects.get_or_create(
            key_digest=digest, defaults={"outcome": outcome, "counted_at": timezone.now()}
        )
        if not created:
            return False
        if outcome == PROCESSED:
            counters_add(
                camera_id=camera_id,
                at=received_at,
                frames_processed=1,
                faces_scanned=faces_scanned,
                alerts_raised=alerts_raised,
            )
        else:
            counters_add(camera_id=camera_id, at=received_at, frames_dropped=1, alerts_raised=alerts_raised)
            hour = _hour(received_at)
            FrameDropCounter.objects.get_or_create(camera_id=camera_id, hour=hour, reason=outcome)
            FrameDropCounter.objects.filter(camera_id=camera_id, hour=hour, reason=outcome).update(
                frames=F("frames") + 1
            )
    return True


def frame_outcomes_prune(*, now: datetime | None = None) -> int:
    """Forget ledger rows older than ``OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS`` (beat, hourly)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS)
    deleted, _ = FrameOutcome.objects.filter(counted_at__lt=cutoff).delete()
    return deleted


# --- alerts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    deployment_id: int
    camera_id: int
    image_id: int
    score: float
    threshold: float
    crop_jpeg: bytes
    seen_at: datetime
    # The probe's embedding (float32 vector) and ``FaceEngine.backend``: kept, encrypted, with the best
    # sighting so a subject access request can search the alerts by face (issue 12).
    embedding: Any = None
    backend: str = ""


def _probe_fields(sighting: Sighting) -> dict[str, Any]:
    """The stored probe of a sighting: crop and embedding encrypted under the same key, the backend, when."""
    import numpy as np

    embedding = b""
    if sighting.embedding is not None:
        vector = np.asarray(sighting.embedding, dtype=np.float32).reshape(-1)
        embedding = encryption.encrypt(vector.tobytes())
    return {
        "probe_crop": encryption.encrypt(sighting.crop_jpeg),
        "probe_key_id": encryption.key_fingerprint(),
        "probe_embedding": embedding,
        "probe_backend": sighting.backend if sighting.embedding is not None else "",
        "probe_changed_at": timezone.now(),
    }


def alert_record_sighting(*, sighting: Sighting) -> tuple[Alert | None, bool]:
    """Raise an alert, or attach the sighting to the open one for the same image and deployment
    (within ``OVERSIGHT_ALERT_DEDUP_MINUTES`` of its last sighting). Returns (alert, created).
    Only an alert still awaiting review is open: a sighting after the alert was rejected or confirmed
    raises a new alert, which goes to the review queue.

    Concurrency: ``open_key`` is unique, so when two workers see the same person at once, one
    insert wins and the other's fails; it retries and attaches. Audit: ``combination`` (a probe
    matched against the watchlist) when raised; attached sightings only update the alert.
    Returns (None, False) when the image may no longer be matched (``watchlist_images_matchable``: withdrawn,
    erased or restricted since the gallery was read): no alert is raised nor a sighting attached, and every
    worker's galleries are told to drop it (a gallery that still held it was stale).
    """
    if not deployment_watchlist_images(Deployment(pk=sighting.deployment_id)).filter(pk=sighting.image_id).exists():
        from recognition.selectors import galleries_invalidate

        transaction.on_commit(lambda: galleries_invalidate(remove=[sighting.image_id]))
        return None, False
    window = timedelta(minutes=settings.OVERSIGHT_ALERT_DEDUP_MINUTES)
    open_key = f"{sighting.deployment_id}:{sighting.image_id}"
    for _attempt in range(5):
        try:
            with transaction.atomic():
                alert = Alert.objects.select_for_update().filter(open_key=open_key).first()
                # A sighting joins an alert still awaiting review only: once reviewers closed it (rejected or
                # confirmed), a new sighting is a new event for people to review, never a silent addition.
                if (
                    alert is not None
                    and alert.status == AlertStatus.PENDING
                    and alert.last_seen_at >= sighting.seen_at - window
                ):
                    alert.sightings = F("sightings") + 1
                    alert.last_seen_at = max(alert.last_seen_at, sighting.seen_at)
                    fields = ["sightings", "last_seen_at"]
                    if sighting.score > alert.score:  # keep the best view for the reviewers (and for search)
                        alert.score = sighting.score
                        probe = _probe_fields(sighting)
                        for name, value in probe.items():
                            setattr(alert, name, value)
                        fields += ["score", *probe]
                    alert.save(update_fields=fields)
                    alert.refresh_from_db(fields=["sightings"])
                    return alert, False
                if alert is not None:
                    Alert.objects.filter(pk=alert.pk).update(open_key=None)
                image = (
                    WatchlistImage.objects.select_related("agreement")
                    .filter(image_matchable_q(), pk=sighting.image_id)
                    .first()
                )
                if image is None:
                    return None, False
                alert = Alert.objects.create(
                    deployment_id=sighting.deployment_id,
                    camera_id=sighting.camera_id,
                    watchlist_image=image,
                    supplying_organisation_id=image.supplying_organisation_id,
                    subject_reference=image.subject_reference,
                    agreement=image.agreement,
                    score=sighting.score,
                    threshold=sighting.threshold,
                    first_seen_at=sighting.seen_at,
                    last_seen_at=sighting.seen_at,
                    **_probe_fields(sighting),
                    retention_due_at=sighting.seen_at + timedelta(days=image.agreement.match_retention_days),
                    open_key=open_key,
                )
                audit_record(
                    action=AuditAction.COMBINATION,
                    event="alert.raised",
                    actor=None,
                    target=alert,
                    details={
                        "deployment": sighting.deployment_id,
                        "camera": sighting.camera_id,
                        "watchlist_image": image.pk,
                        "score": round(sighting.score, 4),
                        "threshold": sighting.threshold,
                        "retention_due_at": alert.retention_due_at.isoformat(),
                    },
                )
                return alert, True
        except IntegrityError:
            continue  # another worker opened it first: attach on the next pass
    raise StateConflict("Could not record the sighting after repeated conflicts.", code="alert_conflict")


def alert_review(*, actor: User, alert: Alert, decision: str, reason: str = "", notes: str = "") -> Alert:
    """One reviewer's independent decision.

    Rules: one decision per reviewer (the same person twice is refused); a rejection needs a reason
    and closes the alert as a false alert at once; a confirmation needs the reviewer to have been
    shown both the camera crop and the enrolled watchlist image (``rules.reviewer_shown_both``, from
    what the image endpoints recorded) and is refused otherwise (``reference_not_shown``); the alert
    is confirmed by ``rules.two_person_rule`` (two different reviewers, one of them a police reviewer
    where the agreement requires it: a confirmation that could not complete that rule is refused, so
    the second decision is left for a police reviewer). The review records what the reviewer was shown.
    Audited: ``alteration`` per decision, plus the closing event.
    """
    alert_check(actor, alert, to="review")
    if decision not in ReviewDecision.values:
        raise ValidationFailed("The decision is confirm or reject.", code="invalid_decision")
    if decision == ReviewDecision.REJECT and reason not in RejectionReason.values:
        raise ValidationFailed(
            "A rejection needs a reason: false alert, poor image or not the person.",
            code="rejection_reason_required",
            details={"reasons": RejectionReason.values},
        )
    if decision == ReviewDecision.CONFIRM:
        reason = ""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("agreement", "deployment").get(pk=alert.pk)
        if alert.erased_at:
            raise StateConflict("The alert's data was erased when its retention period ended.", code="alert_erased")
        if alert.status != AlertStatus.PENDING:
            raise StateConflict(f"The alert is already {alert.get_status_display().lower()}.", code="alert_closed")
        earlier = list(alert.reviews.all())
        if any(r.reviewer_id == actor.pk for r in earlier):
            raise StateConflict(
                "You have already reviewed this alert; a second reviewer must decide.", code="already_reviewed"
            )
        police = is_police_reviewer(actor)
        shown = rules.shown_to(alert=alert, reviewer=actor)
        verdict = rules.TwoPerson.WAITING
        if decision == ReviewDecision.CONFIRM:
            if not rules.reviewer_shown_both(shown):
                missing = [
                    label
                    for label, at in (
                        ("the camera crop", shown.crop_shown_at),
                        ("the enrolled watchlist image", shown.reference_shown_at),
                    )
                    if at is None
                ]
                raise PermissionRefused(
                    "You cannot confirm an alert without having been shown the enrolled watchlist image beside the "
                    f"camera crop: you have not been shown {' or '.join(missing)}. You may still reject it.",
                    code="reference_not_shown",
                    details={"not_shown": ["crop" if "crop" in m else "reference" for m in missing]},
                )
            verdict = rules.two_person_rule(
                police_reviewer_required=alert.agreement.police_reviewer_required,
                confirmations=[
                    rules.Confirmation(r.reviewer_id, r.as_police_reviewer)
                    for r in earlier
                    if r.decision == ReviewDecision.CONFIRM
                ]
                + [rules.Confirmation(actor.pk, police)],
            )
            if verdict is rules.TwoPerson.POLICE_REVIEWER_MISSING:
                raise PermissionRefused(
                    "The agreement requires a police reviewer to be one of the two confirmations.",
                    code="police_reviewer_required",
                )
        now = timezone.now()
        review = AlertReview.objects.create(
            alert=alert,
            reviewer=actor,
            reviewer_name=_name(actor),
            reviewer_organisation=str(actor.organisation or ""),
            as_police_reviewer=police,
            decision=decision,
            reason=reason,
            notes=notes.strip(),
            decided_at=now,
            crop_shown_at=shown.crop_shown_at,
            reference_shown_at=shown.reference_shown_at,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="alert.reviewed",
            actor=actor,
            target=alert,
            justification=notes.strip() or reason,
            details={
                "decision": decision,
                "reason": reason,
                "police_reviewer": police,
                "review": review.pk,
                "crop_shown": shown.crop_shown_at is not None,
                "reference_shown": shown.reference_shown_at is not None,
            },
        )
        if decision == ReviewDecision.REJECT:
            alert.status = AlertStatus.FALSE_ALERT
            alert.close_reason = reason
            alert.closed_at = now
            alert.save(update_fields=["status", "close_reason", "closed_at"])
            audit_record(
                action=AuditAction.ALTERATION,
                event="alert.closed_false",
                actor=actor,
                target=alert,
                justification=reason,
                details={"reason": reason},
            )
        elif verdict is rules.TwoPerson.CONFIRMED:
            alert.status = AlertStatus.CONFIRMED
            alert.closed_at = now
            alert.save(update_fields=["status", "closed_at"])
            confirmers = sorted({r.reviewer_id for r in earlier if r.decision == ReviewDecision.CONFIRM} | {actor.pk})
            audit_record(
                action=AuditAction.ALTERATION,
                event="alert.confirmed",
                actor=actor,
                target=alert,
                details={"reviewers": confirmers},
            )
    return alert


def _record_shown(*, actor: User, alert: Alert, image: str) -> None:
    """Record that ``image`` of ``alert`` was served to ``actor`` (inside the caller's transaction)."""
    AlertImageShown.objects.create(alert_id=alert.pk, reviewer=actor, image=image, shown_at=timezone.now())


def alert_probe_crop(*, actor: User, alert: Alert, justification: str = "Two-person review of the alert.") -> bytes:
    """Decrypt the probe crop for a reviewer: a ``consultation`` event with the justification, and the
    record that it was shown to this reviewer (``AlertImageShown``) in the same transaction."""
    alert_check(actor, alert, to="crop")
    if alert.erased_at or not alert.probe_crop:
        raise StateConflict("The alert's image was erased when its retention period ended.", code="alert_erased")
    with transaction.atomic():
        _record_shown(actor=actor, alert=alert, image=ReviewImage.CROP)
        audit_record(
            action=AuditAction.CONSULTATION,
            event="alert.probe_viewed",
            actor=actor,
            target=alert,
            justification=justification,
        )
    return encryption.decrypt(bytes(alert.probe_crop))


# Longest side of the watchlist thumbnail shown beside an alert: enough to compare faces, not a copy of the image.
WATCHLIST_THUMBNAIL_PX = 240


def alert_watchlist_thumbnail(
    *, actor: User, alert: Alert, justification: str = "Two-person review of the alert."
) -> bytes:
    """A small JPEG of the enrolled face of the watchlist image an alert matched, for a reviewer to
    compare with the camera crop.

    Made from the encrypted image on each view and never stored; cut to the face that was enrolled
    (a group photo shows the one face on the watchlist, not the bystanders). Who may see it:
    ``can_see_watchlist_thumbnail`` (the supplying side's reviewers; the operator's only where the
    agreement says so). Each view is a ``consultation`` of the watchlist image (DPA 2018 s.62), and is
    recorded as the reference shown to this reviewer for this alert (``AlertImageShown``)."""
    from io import BytesIO

    from governance.watchlist.services import watchlist_image_bytes_for_processing
    from recognition.engine import ImageRejected, decode_image
    from recognition.models import FaceTemplate

    image = alert.watchlist_image
    erased = StateConflict(
        "The watchlist image was erased; only its provenance remains.", code="watchlist_image_erased"
    )
    # The agreement's current terms (a caller's cached alert may predate an amendment).
    alert.agreement = Agreement.objects.get(pk=alert.agreement_id)
    alert_check(actor, alert, to="thumbnail")
    if image is None:
        raise erased
    data = watchlist_image_bytes_for_processing(image_id=image.pk)
    if data is None:
        raise erased
    try:
        picture = decode_image(data, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
    except ImageRejected as exc:  # accepted at upload, so only a damaged store gets here
        raise StateConflict("The watchlist image could not be read.", code="watchlist_image_unreadable") from exc
    finally:
        del data
    box = FaceTemplate.objects.filter(image_id=image.pk).values_list("face_box", flat=True).first()
    if box:
        picture = picture.crop(_face_with_margin(box, picture.size))
    picture.thumbnail((WATCHLIST_THUMBNAIL_PX, WATCHLIST_THUMBNAIL_PX))
    out = BytesIO()
    picture.save(out, format="JPEG", quality=85)
    with transaction.atomic():
        _record_shown(actor=actor, alert=alert, image=ReviewImage.REFERENCE)
        audit_record(
            action=AuditAction.CONSULTATION,
            event="watchlist_image.viewed_for_review",
            actor=actor,
            target=image,
            justification=justification,
            details={"alert": alert.pk, "agreement": alert.agreement.reference},
        )
    return out.getvalue()


def _face_with_margin(box, size: tuple[int, int], margin: float = 0.4) -> tuple[int, int, int, int]:
    """The enrolled face box grown by ``margin`` of its size on each side (hair, chin), inside the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return (max(0, int(x1 - dx)), max(0, int(y1 - dy)), min(size[0], int(x2 + dx)), min(size[1], int(y2 + dy)))


# --- disclosure and outcome ----------------------------------------------------------------------


def alert_disclose(
    *, actor: User, alert: Alert, recipient_organisation: Organisation, recipient: str, channel: str, justification: str
) -> Disclosure:
    """Disclose a confirmed alert to the force (or unit) that supplied the image: a s.62
    ``disclosure`` event naming the recipient, with the justification and channel."""
    alert_check(actor, alert, to="disclose")
    errors: dict[str, list[str]] = {}
    _text_required(justification, "justification", "Explain why the disclosure is necessary.", errors)
    if not recipient.strip():
        errors["recipient"] = ["Name who receives it (person, desk or secure mailbox)."]
    if channel not in DisclosureChannel.values:
        errors["channel"] = ["Unknown channel."]
    if errors:
        raise ValidationFailed("The disclosure is incomplete.", code="disclosure_incomplete", details=errors)
    with transaction.atomic():
        # Lock the alert row only: PostgreSQL refuses FOR UPDATE on the outer join to a unit's
        # (nullable) parent force.
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("agreement", "supplying_organisation__parent")
            .get(pk=alert.pk)
        )
        if alert.status != AlertStatus.CONFIRMED:
            raise StateConflict(
                "Only an alert confirmed by two reviewers can be disclosed.", code="alert_not_confirmed"
            )
        if recipient_organisation.pk not in {o.pk for o in disclosure_recipients(alert)}:
            raise ValidationFailed(
                f"This alert may only be disclosed to {alert.supplying_organisation}, which supplied "
                "the image, or its force.",
                code="recipient_not_supplier",
            )
        disclosure = Disclosure.objects.create(
            alert=alert,
            recipient_organisation=recipient_organisation,
            recipient=recipient.strip(),
            channel=channel,
            justification=justification.strip(),
            disclosed_by=actor,
            disclosed_by_name=_name(actor),
            disclosed_at=timezone.now(),
        )
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="alert.disclosed",
            actor=actor,
            target=alert,
            justification=justification.strip(),
            recipient=f"{recipient_organisation.name}: {recipient.strip()}",
            details={
                "disclosure": disclosure.pk,
                "channel": channel,
                "recipient_organisation": recipient_organisation.short_name,
            },
        )
    return disclosure


def disclosure_record_outcome(
    *, actor: User, disclosure: Disclosure, outcome: str, notes: str = "", ethnic_group: str = ""
) -> Disclosure:
    """The supplying unit or its force reports what it did. Once only; audited as an ``alteration``.
    ``ethnic_group``: optional, one of the ONS high-level groups (``EthnicGroup``), for the reports."""
    disclosure = disclosure_for(actor, disclosure.pk, to="report_outcome")
    if outcome not in Outcome.values:
        raise ValidationFailed("Unknown outcome.", code="invalid_outcome", details={"outcomes": Outcome.values})
    if ethnic_group not in EthnicGroup.values:
        raise ValidationFailed(
            "Unknown ethnic group.", code="invalid_ethnic_group", details={"groups": EthnicGroup.values}
        )
    if outcome == Outcome.OTHER and not notes.strip():
        raise ValidationFailed("Describe the outcome in the notes.", code="notes_required")
    with transaction.atomic():
        disclosure = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
        if disclosure.outcome:
            raise StateConflict("The outcome has already been reported.", code="outcome_already_reported")
        disclosure.outcome = outcome
        disclosure.outcome_notes = notes.strip()
        disclosure.outcome_ethnic_group = ethnic_group
        disclosure.outcome_reported_at = timezone.now()
        disclosure.outcome_reported_by = actor
        disclosure.outcome_reported_by_name = _name(actor)
        disclosure.save(
            update_fields=[
                "outcome",
                "outcome_notes",
                "outcome_ethnic_group",
                "outcome_reported_at",
                "outcome_reported_by",
                "outcome_reported_by_name",
            ]
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="disclosure.outcome_reported",
            actor=actor,
            target=disclosure.alert,
            justification=notes.strip(),
            details={"disclosure": disclosure.pk, "outcome": outcome},
        )
    return disclosure
