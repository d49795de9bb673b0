"""The live review desk (issue 25): the queue's thumbnails, time waiting against each deployment's
service level, and the operator DPO's setting of that service level.

Thumbnails follow the review page's rules, unchanged: a reviewer sees the camera crop of an alert they
may review (``access.alert_check(to="crop")``) and the enrolled watchlist face only where
``can_see_watchlist_thumbnail`` allows (the supplying side always; the operator's reviewers where the
agreement says so). Each thumbnail is made from the encrypted image when it is requested, never stored,
recorded in ``AlertImageShown`` and audited as a ``consultation`` in the same transaction, like the review
page's images. A thumbnail is recorded as a *queue thumbnail*: it is not the side-by-side comparison that
meaningful human involvement needs (``rules.shown_to`` reads only the review page's full images), so a
confirmation still needs the alert page.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.agreements.models import Agreement
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.access import alert_check, can_operate_deployment
from recognition.deployments.models import Alert, AlertImageShown, Deployment, ReviewImage
from recognition.deployments.services.planning import deployment_plan
from recognition.deployments.services.review import face_with_margin

# Longest side of a queue thumbnail: enough to tell two faces apart at a glance, not a copy of the image.
QUEUE_THUMBNAIL_PX = 96
SERVICE_LEVEL_FIELD = Deployment._meta.get_field("review_service_level_minutes")
SERVICE_LEVEL_DEFAULT = SERVICE_LEVEL_FIELD.default
SERVICE_LEVEL_MIN, SERVICE_LEVEL_MAX = 1, 240  # the field's validators
QUEUE_IMAGES = {"crop": ReviewImage.CROP_THUMBNAIL, "reference": ReviewImage.REFERENCE_THUMBNAIL}
QUEUE_JUSTIFICATION = "Review queue thumbnail (two-person review of the alert)."


# --- time waiting against the service level ---------------------------------------------------------


def waiting_minutes(first_seen_at: datetime, now: datetime) -> int:
    return max(0, int((now - first_seen_at).total_seconds() // 60))


def is_overdue(first_seen_at: datetime, now: datetime, service_level_minutes: int) -> bool:
    """An alert is overdue once it has waited its deployment's full service level without being closed."""
    return (now - first_seen_at).total_seconds() >= service_level_minutes * 60


def waiting_text(first_seen_at: datetime, now: datetime, service_level_minutes: int) -> str:
    """ "waiting 3 min — service level 5 min" (static/js/review-queue.js words it the same way as it ticks)."""
    minutes = waiting_minutes(first_seen_at, now)
    waited = "waiting under a minute" if minutes < 1 else f"waiting {minutes} min"
    text = f"{waited} — service level {service_level_minutes} min"
    return text + " (overdue)" if is_overdue(first_seen_at, now, service_level_minutes) else text


# --- the operator DPO sets the service level ---------------------------------------------------------


def _service_level_checked(minutes: Any) -> int:
    try:
        value = int(str(minutes).strip())
    except (TypeError, ValueError):
        value = 0
    if not SERVICE_LEVEL_MIN <= value <= SERVICE_LEVEL_MAX:
        raise ValidationFailed(
            f"The review service level is a whole number of minutes from {SERVICE_LEVEL_MIN} to {SERVICE_LEVEL_MAX}.",
            code="service_level_invalid",
            details={"review_service_level_minutes": [f"From {SERVICE_LEVEL_MIN} to {SERVICE_LEVEL_MAX} minutes."]},
        )
    return value


def deployment_review_service_level_set(*, actor: User, deployment: Deployment, minutes: Any) -> Deployment:
    """The operator's DPO sets how long an alert may wait for review at this deployment. Audited
    (``alteration``) in the same transaction; setting the value it already has changes and records nothing."""
    if not can_operate_deployment(actor, deployment):
        raise PermissionRefused("Only the operator's data protection officer sets the review service level.")
    value = _service_level_checked(minutes)
    with transaction.atomic():
        deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
        before = deployment.review_service_level_minutes
        if before == value:
            return deployment
        deployment.review_service_level_minutes = value
        deployment.save(update_fields=["review_service_level_minutes"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.review_service_level_set",
            actor=actor,
            target=deployment,
            details={"minutes": value, "before": before},
        )
    return deployment


def deployment_plan_with_service_level(
    *, actor: User, agreements: list[Agreement], fields: dict[str, Any], service_level_minutes: Any = None
) -> Deployment:
    """``deployment_plan`` and, where the form gave one other than the default, the review service
    level, in one transaction (a refused service level plans nothing)."""
    minutes = SERVICE_LEVEL_DEFAULT if service_level_minutes in (None, "") else service_level_minutes
    minutes = _service_level_checked(minutes)
    with transaction.atomic():
        deployment = deployment_plan(actor=actor, agreements=agreements, fields=fields)
        return deployment_review_service_level_set(actor=actor, deployment=deployment, minutes=minutes)


# --- queue thumbnails --------------------------------------------------------------------------------


def _small_jpeg(picture) -> bytes:
    picture.thumbnail((QUEUE_THUMBNAIL_PX, QUEUE_THUMBNAIL_PX))
    out = BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


def _crop_picture(alert: Alert):
    from recognition.engine import ImageRejected, decode_image

    if alert.erased_at or not alert.probe_crop:
        raise StateConflict("The alert's image was erased when its retention period ended.", code="alert_erased")
    try:
        return decode_image(encryption.decrypt(bytes(alert.probe_crop)), max_pixels=settings.OVERSIGHT_FRAME_MAX_PIXELS)
    except ImageRejected as exc:
        raise StateConflict("The alert's image could not be read.", code="alert_image_unreadable") from exc


def _reference_picture(alert: Alert):
    """The enrolled face of the matched watchlist image (with the review page's margin), decoded in memory."""
    from governance.watchlist.services import watchlist_image_bytes_for_processing
    from recognition.engine import ImageRejected, decode_image
    from recognition.models import FaceTemplate

    data = watchlist_image_bytes_for_processing(image_id=alert.watchlist_image_id) if alert.watchlist_image_id else None
    if data is None:
        raise StateConflict(
            "The watchlist image was erased; only its provenance remains.", code="watchlist_image_erased"
        )
    try:
        picture = decode_image(data, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
    except ImageRejected as exc:
        raise StateConflict("The watchlist image could not be read.", code="watchlist_image_unreadable") from exc
    box = FaceTemplate.objects.filter(image_id=alert.watchlist_image_id).values_list("face_box", flat=True).first()
    return picture.crop(face_with_margin(box, picture.size)) if box else picture


def alert_queue_thumbnail(*, actor: User, alert: Alert, image: str) -> bytes:
    """A small JPEG of the alert's camera crop (``image="crop"``) or of the enrolled face it matched
    (``"reference"``) for the review queue, made on each request and never stored.

    Permission: as the review page's image of the same kind (``alert_check`` to ``crop`` or ``thumbnail``).
    Transaction: the ``AlertImageShown`` record (a queue thumbnail) and the ``consultation`` event are
    written together, after the thumbnail was made (an unreadable or erased image records nothing)."""
    if image not in QUEUE_IMAGES:
        raise ValidationFailed("Choose the crop or the reference thumbnail.", code="image_kind_invalid")
    if image == "reference":
        alert.agreement = Agreement.objects.get(pk=alert.agreement_id)  # its current terms
    alert_check(actor, alert, to="crop" if image == "crop" else "thumbnail")
    data = _small_jpeg(_crop_picture(alert) if image == "crop" else _reference_picture(alert))
    with transaction.atomic():
        AlertImageShown.objects.create(
            alert_id=alert.pk, reviewer=actor, image=QUEUE_IMAGES[image], shown_at=timezone.now()
        )
        audit_record(
            action=AuditAction.CONSULTATION,
            event="alert.probe_viewed" if image == "crop" else "watchlist_image.viewed_for_review",
            actor=actor,
            target=alert if image == "crop" else alert.watchlist_image,
            justification=QUEUE_JUSTIFICATION,
            details={"alert": alert.pk, "thumbnail": True},
        )
    return data
