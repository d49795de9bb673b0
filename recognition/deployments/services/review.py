"""Two-person review of an alert (``recognition.deployments.rules``) and the images shown to each reviewer."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.access import is_police_reviewer
from governance.agreements.models import Agreement
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments import rules
from recognition.deployments.access import alert_check
from recognition.deployments.models import (
    Alert,
    AlertImageShown,
    AlertReview,
    AlertStatus,
    RejectionReason,
    ReviewDecision,
    ReviewImage,
)
from recognition.deployments.services.common import actor_name


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
        alert = lock_rows(Alert.objects).select_related("agreement", "deployment").get(pk=alert.pk)
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
        confirmations: list[rules.Confirmation] = []
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
            confirmations = rules.confirmations_with(earlier=earlier, reviewer_id=actor.pk, as_police_reviewer=police)
            verdict = rules.two_person_rule(
                police_reviewer_required=alert.agreement.police_reviewer_required, confirmations=confirmations
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
            reviewer_name=actor_name(actor),
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
            confirmers = sorted({c.reviewer_id for c in confirmations})
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
        picture = picture.crop(face_with_margin(box, picture.size))
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


def face_with_margin(box, size: tuple[int, int], margin: float = 0.4) -> tuple[int, int, int, int]:
    """The enrolled face box grown by ``margin`` of its size on each side (hair, chin), inside the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return (max(0, int(x1 - dx)), max(0, int(y1 - dy)), min(size[0], int(x2 + dx)), min(size[1], int(y2 + dy)))
