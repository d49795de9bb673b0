"""The ``alert`` provider: alerts found by subject reference and by face, compiled, and erased on request."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.subject_access.compile import HUMAN_REVIEW_FACT
from governance.subject_access.registry import (
    Candidate,
    ItemRef,
    Picture,
    StaffMention,
    SubjectItem,
    SubjectQuery,
)
from recognition.deployments.access import alert_check, alerts_visible_to, can_answer_subject_request_on_alert
from recognition.deployments.models import Alert, AlertStatus, ReviewDecision
from recognition.deployments.subject_access.common import (
    COMPILE_JUSTIFICATION,
    SEARCH_JUSTIFICATION,
    backend_threshold,
    local_text,
    stored_vector,
)
from recognition.deployments.subject_access.probe_index import probe_ids_above, probe_index_clear_alert


def _alert_crop(actor: Any, alert: Alert, justification: str) -> bytes | None:
    """The alert's crop for a DPO answering the request, audited as a ``consultation`` of the alert (the same
    event a reviewer's view writes); None when erased or the actor may not see images."""
    crops = _alert_crops(actor, [alert], justification)
    return crops.get(alert.pk)


def _alert_crops(actor: Any, alerts: list[Alert], justification: str) -> dict[int, bytes]:
    """The crops of these alerts that the actor may see, decrypted, with one ``consultation`` event naming them
    all (a search shows every candidate's crop at once; one event per crop would make a search of a subject with
    a hundred alerts write a hundred events)."""
    shown = [a for a in alerts if not a.erased_at and a.probe_crop and can_answer_subject_request_on_alert(actor, a)]
    if not shown:
        return {}
    pks = sorted(a.pk for a in shown)
    target = (
        shown[0]
        if len(shown) == 1
        else ("deployments.alert", f"{pks[0]}..{pks[-1]}", f"{len(pks)} alerts' probe crops")
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="alert.probe_viewed",
            actor=actor,
            target=target,
            justification=justification,
            details={"alerts": pks} if len(shown) > 1 else {},
            organisations={i for a in shown for i in (a.supplying_organisation_id, a.deployment.operator_id)},
        )
    return {a.pk: encryption.decrypt(bytes(a.probe_crop)) for a in shown}


def _alert_title(alert: Alert) -> str:
    return f"Alert #{alert.pk} at {alert.deployment.site} ({alert.deployment.reference}), {local_text(alert.first_seen_at)}"


def _alert_candidate(alert: Alert, *, found_by: str, score: float | None, crop: bytes | None) -> Candidate:
    return Candidate(
        ref=ItemRef("alert", str(alert.pk)),
        title=_alert_title(alert),
        found_by=found_by,
        summary=(
            f"Camera {alert.camera.name} ({alert.camera.location}); {alert.sightings} sighting(s); "
            f"{alert.status_label}; watchlist subject {alert.subject_reference or '(erased)'}"
        ),
        score=score,
        crop_jpeg=crop,
    )


def alerts_search(actor: Any, query: SubjectQuery) -> list[Candidate]:
    """Alerts visible to the actor on a watchlist image of one of the subject references, and alerts whose stored
    probe matches the requester's face at the backend's threshold (scores shown), each with its crop where the
    actor may see it (one audited consultation for the crops shown)."""
    found: dict[int, tuple[Alert, str, float | None]] = {}
    visible = alerts_visible_to(actor).filter(erased_at__isnull=True)
    references = [r.strip() for r in query.subject_references if r and r.strip()]
    if references:
        for alert in visible.filter(subject_reference__in=references):
            found[alert.pk] = (alert, "subject reference", None)
    face = query.face
    threshold = backend_threshold(face.backend) if face is not None else None
    if face is not None and threshold is not None:
        probe = np.asarray(face.embedding, dtype=np.float32).reshape(-1)
        proposed = probe_ids_above(face.backend, probe, threshold)
        # The matrix proposes; the access layer and the stored embedding decide.
        for alert in visible.filter(pk__in=proposed, probe_backend=face.backend).exclude(probe_embedding=b""):
            score = float(stored_vector(alert.probe_embedding) @ probe)
            if score >= threshold:
                found[alert.pk] = (alert, found[alert.pk][1] if alert.pk in found else "face", score)
    crops = _alert_crops(actor, [alert for alert, _, _ in found.values()], query.justification or SEARCH_JUSTIFICATION)
    candidates = [
        _alert_candidate(alert, found_by=found_by, score=score, crop=crops.get(alert.pk))
        for alert, found_by, score in found.values()
    ]
    return sorted(candidates, key=lambda c: (-(c.score if c.score is not None else 2.0), int(c.ref.key)))


def _picture_box(jpeg: bytes) -> tuple[int, int, int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        width, height = image.size
    return (0, 0, width, height)


def _reviewer_role(review) -> str:
    role = "Police reviewer" if review.as_police_reviewer else "Reviewer"
    return f"{role}, {review.reviewer_organisation}" if review.reviewer_organisation else role


def _shown_words(review) -> str:
    crop, reference = review.crop_shown_at is not None, review.reference_shown_at is not None
    if crop and reference:
        return "after being shown the camera crop beside the enrolled watchlist image"
    if crop:
        return "after being shown the camera crop but not the enrolled watchlist image"
    if reference:
        return "after being shown the enrolled watchlist image but not the camera crop"
    return "with no record of being shown either image"


def alert_review_account(alert: Alert, reviews: list) -> str:
    """What human review this alert had, in plain words, derived from its records: each reviewer's role,
    decision, when, and what the review page had shown them; then where that left the alert. The
    subject access response repeats it (``HUMAN_REVIEW_FACT``): a person is told what happened to their
    alert, not what the rules say should happen (UK GDPR Art. 22; DPA 2018 ss.49-50)."""
    if not reviews:
        if alert.status == AlertStatus.PENDING and not alert.erased_at:
            return (
                "No one has reviewed this alert yet. It is not confirmed, and nothing about it is disclosed to the "
                "police or acted on unless two reviewers confirm it."
            )
        return "No one reviewed this alert. It was never confirmed, and nothing about it was disclosed to the police."
    sentences = []
    for review in reviews:
        if review.decision == ReviewDecision.CONFIRM:
            decision = "confirmed that the face was the person on the watchlist"
        else:
            decision = f"rejected the match ({review.get_reason_display().lower()})"
        sentences.append(
            f"{_reviewer_role(review)}, {decision} on {local_text(review.decided_at)} {_shown_words(review)}."
        )
    confirmers = [r for r in reviews if r.decision == ReviewDecision.CONFIRM]
    disclosed = alert.disclosures.exists()
    if alert.status == AlertStatus.CONFIRMED:
        police = any(r.as_police_reviewer for r in confirmers)
        outcome = f"The alert was confirmed by {len(confirmers)} different reviewers" + (
            ", one of them a police reviewer." if police else "."
        )
        if not disclosed:
            outcome += " It has not been disclosed to the police."
    elif alert.status == AlertStatus.FALSE_ALERT:
        outcome = "The alert was closed without being confirmed; nothing about it was disclosed to the police."
    else:
        outcome = (
            "The alert is waiting for a second reviewer: it is not confirmed, and nothing about it is disclosed to "
            "the police or acted on unless it is."
        )
    return " ".join([*sentences, outcome])


def alert_supplied_by(actor: Any, ref: ItemRef) -> int | None:
    """The force that supplied the matched image (``SubjectItem.supplied_by_force_id``), without compiling
    the alert: no crop is decrypted and no consultation recorded for what no page shows (issue 22)."""
    if not (ref.key.isascii() and ref.key.isdigit()):
        return None
    row = (
        alerts_visible_to(actor)
        .filter(pk=int(ref.key[:18]))
        .values_list("supplying_organisation_id", "supplying_organisation__parent_id")
        .first()
    )
    return (row[1] or row[0]) if row else None


def alert_compile(actor: Any, ref: ItemRef) -> SubjectItem | None:
    """One alert as it goes into the response, read through the access layer (None: gone or not visible)."""
    try:
        alert = (
            alerts_visible_to(actor)
            .select_related("supplying_organisation__parent", "deployment__operator")
            .get(pk=int(ref.key))
        )
    except (Alert.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    deployment, camera = alert.deployment, alert.camera
    reviews = list(alert.reviews.select_related("reviewer").order_by("decided_at", "pk"))
    disclosures = list(alert.disclosures.select_related("recipient_organisation").order_by("disclosed_at", "pk"))
    facts: list[tuple[str, str]] = [
        ("Deployment", f"{deployment.reference} — {deployment.name}"),
        ("Site", deployment.site),
        ("Camera", f"{camera.name}: {camera.location} (facing {camera.direction})"),
        ("First seen", local_text(alert.first_seen_at)),
        ("Last seen", local_text(alert.last_seen_at)),
        ("Sightings", str(alert.sightings)),
        (
            "Similarity score",
            f"{alert.score:.3f} (threshold {alert.threshold:.2f})" if alert.score is not None else "Erased",
        ),
        ("Watchlist entry matched", alert.subject_reference or "Erased with the alert's data"),
        ("Agreement", alert.agreement.reference),
        ("Status", alert.status_label),
        (HUMAN_REVIEW_FACT, alert_review_account(alert, reviews)),
    ]
    staff: list[StaffMention] = []
    for number, review in enumerate(reviews, start=1):
        decision = review.get_decision_display()
        if review.reason:
            decision += f" ({review.get_reason_display().lower()})"
        facts.append((f"Review {number}", f"{decision}, {local_text(review.decided_at)}, by {_reviewer_role(review)}"))
        staff.append(
            StaffMention(
                name=review.reviewer_name,
                role=_reviewer_role(review),
                organisation_id=review.reviewer.organisation_id if review.reviewer else None,
            )
        )
    recipients: list[str] = []
    for disclosure in disclosures:
        to = disclosure.recipient_organisation.name
        if disclosure.recipient:
            to += f" ({disclosure.recipient})"
        recipients.append(to)
        facts.append(
            (
                "Disclosed",
                f"To {to} by {disclosure.get_channel_display()}, {local_text(disclosure.disclosed_at)}",
            )
        )
        staff.append(StaffMention(name=disclosure.disclosed_by_name, role="Data protection officer"))
        if disclosure.outcome:
            facts.append(
                (
                    "Police outcome",
                    f"{disclosure.get_outcome_display()}, reported {local_text(disclosure.outcome_reported_at)}"
                    + (f": {disclosure.outcome_notes}" if disclosure.outcome_notes else ""),
                )
            )
            if disclosure.outcome_reported_by_name:
                staff.append(
                    StaffMention(
                        name=disclosure.outcome_reported_by_name,
                        role=f"Officer, {disclosure.recipient_organisation.name}",
                        organisation_id=disclosure.recipient_organisation_id,
                    )
                )
    pictures: list[Picture] = []
    crop = _alert_crop(actor, alert, COMPILE_JUSTIFICATION)
    if crop is not None:
        pictures.append(
            Picture(
                jpeg=crop,
                caption=f"Camera crop of the best sighting ({camera.name}, {local_text(alert.last_seen_at)})",
                subject_box=_picture_box(crop),
            )
        )
    supplier = alert.supplying_organisation
    force = supplier.parent if supplier.parent_id else supplier
    if alert.erased_at:
        retention = (
            f"The crop, face embedding and score were erased on {local_text(alert.erased_at)}; this record stays."
        )
    else:
        retention = (
            f"The crop, face embedding and score are erased on {local_text(alert.retention_due_at)} (the agreement's "
            "match-retention period); the record that the alert happened stays."
        )
    audit_targets = [("deployments.alert", str(alert.pk))]
    audit_targets += [("deployments.alertreview", str(r.pk)) for r in reviews]
    audit_targets += [("deployments.disclosure", str(d.pk)) for d in disclosures]
    return SubjectItem(
        ref=ItemRef("alert", str(alert.pk)),
        section="Alerts",
        title=_alert_title(alert),
        facts=facts,
        pictures=pictures,
        staff=staff,
        source=(
            f"Live facial recognition by {deployment.operator.name}; the watchlist image matched was supplied by "
            f"{supplier.name} under agreement {alert.agreement.reference}."
        ),
        recipients=recipients,
        retention=retention,
        purposes=[deployment.purpose],
        audit_targets=audit_targets,
        controller_id=force.pk,
        related=[ItemRef("watchlist-image", str(alert.watchlist_image_id))] if alert.watchlist_image_id else [],
        recipient_organisation_ids=tuple({d.recipient_organisation_id for d in disclosures}),
        supplied_by_force_id=force.pk,
    )


def alert_erase(actor: Any, ref: ItemRef, reason: str) -> list[Any]:
    """Erase the alert's personal data now (crop, face embedding, score, link to the image) through the
    retention erase code, with a deletion certificate and an ``erasure`` event naming the actor and the reason.

    Inside the caller's transaction (a savepoint). Refuses: not a DPO of the operator or supplying side (403), a
    legal hold in force on the alert, its agreement or its image (409, ``legal_hold``). Idempotent: an alert
    already erased yields no certificate."""
    from governance.retention.models import LegalHold
    from recognition.deployments.retention import _alert_hold_keys, alerts_erase_batch

    alert = alerts_visible_to(actor).filter(pk=int(ref.key)).first() if ref.key.isdigit() else None
    if alert is None:
        from governance.errors import NotFound

        raise NotFound("No such alert.")
    alert_check(actor, alert, to="subject_access")
    with transaction.atomic():
        alert = lock_rows(Alert.objects).select_related("deployment").get(pk=alert.pk)
        if alert.erased_at:
            return []
        held = set(LegalHold.objects.in_force(timezone.now()).values_list("scope", "target_id"))
        if any(key in held for key in _alert_hold_keys(alert)):
            raise StateConflict(
                "A legal hold is in force on this alert (or its agreement or image): it cannot be erased until "
                "the hold is released.",
                code="legal_hold",
            )
        certificates = alerts_erase_batch(
            [alert],
            None,
            reason=reason,
            rule="subject_request.erasure",
            actor=actor,
            justification=reason,
        )
    transaction.on_commit(probe_index_clear_alert(alert.pk))
    return certificates
