"""Recognition's part in subject requests (issue 12), registered with ``governance.subject_access.registry``.

- **Face reader**: the requester's photo goes through the engine exactly as a watchlist image does at
  enrolment (``decode_image`` with the watchlist pixel limit, the live engine's detector and its downscaling, the
  enrolment face rule ``choose_face``, template-style embedding). Exactly one usable face gives a ``FaceProbe``;
  none, several or one too small is a ``ValueError`` in plain words.
- **Face redactor**: every face the engine's detector finds, except the subject's (``keep_box``), is pixelated
  and then blurred (irreversible: the pixels are averaged away before the blur, so no deconvolution brings the
  face back).
- **Providers**:
  - ``alert`` (section "Alerts"): found by subject reference and by face (the probe kept with each alert, see
    ``Alert.probe_embedding``); compiled with deployment, camera, times, score, sightings, the crop, review
    decisions, disclosures and outcomes; erased now through the retention erase code (``alerts_erase_batch``)
    with a deletion certificate.
  - ``face-template`` (section "Face templates"): the biometric template derived from a watchlist image, found by
    subject reference and by face. A face match on a template also yields the watchlist image itself as a
    ``watchlist-image`` candidate, which governance's own provider compiles. Templates are erased with their image
    (governance's ``watchlist_image_erase`` runs recognition's image handler), so this provider has no ``erase``.

Face search compares only embeddings of the same backend (detector + embedder + weights), at that backend's match
threshold; candidates below it are not returned. Every search is audited by governance; reading a crop for the
confirming screen is a ``consultation`` of that alert (or that watchlist image), as for a reviewer.

Searching 100,000 stored alerts: decrypting every Fernet token on every search takes seconds (BENCHMARKS.md,
"Subject access: face search and compilation"), so each process keeps a bounded, decrypted matrix of the probes
(``ProbeIndex``), refreshed incrementally from ``Alert.probe_changed_at`` (set whenever a probe is written or
erased) with an overlap window, so a probe written by a transaction that committed late is still seen. The matrix
only proposes: every candidate above the threshold is re-read through the access layer (visible to the actor, not
erased, same backend) and re-scored from its own freshly decrypted embedding, so a stale cache can never return an
alert that is gone, erased or not the actor's to see.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.access import can_image, images_visible_to
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict
from governance.presentation import when_text
from governance.subject_access.compile import HUMAN_REVIEW_FACT
from governance.subject_access.registry import (
    Candidate,
    FaceProbe,
    ItemRef,
    Picture,
    StaffMention,
    SubjectDataProvider,
    SubjectItem,
    SubjectQuery,
    face_reader_register,
    face_redactor_register,
    subject_data_provider_register,
)
from recognition.deployments.access import alert_check, alerts_visible_to, can_answer_subject_request_on_alert
from recognition.deployments.models import Alert, AlertStatus, ReviewDecision
from recognition.models import FaceTemplate

SEARCH_JUSTIFICATION = "Subject access request: a candidate shown to the DPO to confirm or dismiss."
COMPILE_JUSTIFICATION = "Subject access request: the item compiled into the response to the data subject."
# How far back each refresh of the probe matrix looks again (see the module docstring): far longer than any
# transaction that writes a probe.
PROBE_REFRESH_OVERLAP = timedelta(minutes=5)


def _local(value: datetime | None) -> str:
    return when_text(value) if value else "—"  # the one date format, zone stated


# --- the engine ----------------------------------------------------------------------------------


def _backend_threshold(backend: str) -> float | None:
    """The match threshold of the backend that made ``backend``'s embeddings (None: no configured backend)."""
    from recognition.engine.config import DETECTORS, EMBEDDERS
    from recognition.engine.engine import backend_id, config_for
    from recognition.selectors import live_backend_choice

    choices = [live_backend_choice(), None] + [f"{d}+{e}" for d in DETECTORS for e in EMBEDDERS]
    for choice in choices:
        config = config_for(choice)
        try:
            if backend_id(config) == backend:
                return float(config.match_threshold)
        except OSError:  # a custom FaceNet checkpoint that is not on this machine
            continue
    return None


def face_read(photo: bytes) -> FaceProbe:
    """The requester's photo → their face as the live engine reads a watchlist image at enrolment.

    Raises ``ValueError`` (plain words) for an unreadable image, no face, several faces or one too small."""
    from recognition.engine import ImageRejected, decode_image
    from recognition.enrolment import choose_face
    from recognition.selectors import live_engine

    try:
        picture = decode_image(photo, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
    except ImageRejected as rejected:
        raise ValueError(rejected.message) from None
    engine = live_engine()
    faces = engine.detect([picture])[0]
    choice = choose_face(faces)
    if choice.face is None:
        if choice.reason == "multiple_faces":
            raise ValueError(
                f"{len(faces)} faces were found in the photo; send a photo of the requester alone, so that only "
                "their face is searched."
            )
        raise ValueError(choice.message)
    embedding = engine.embed_faces([picture], [[choice.face]])[0][0].embedding
    box = tuple(round(float(v)) for v in choice.face.box)
    return FaceProbe(embedding=np.asarray(embedding, dtype=np.float32).reshape(-1), backend=engine.backend, box=box)


def _iou(a, b) -> float:
    from recognition.enrolment import _iou as iou

    return iou(a, b)


# Redaction looks for smaller faces than matching does: a face too small for the engine to recognise reliably
# (below the detector's minimum for matching) may still be recognisable to a person reading the response.
REDACTION_MIN_FACE_PX = 8
_redaction_detectors: dict[int, Any] = {}
_redaction_lock = threading.Lock()


def _redaction_detector(engine):
    """The engine's own detector, with YuNet's minimum face size lowered to ``REDACTION_MIN_FACE_PX`` (the same
    checked model bytes and score threshold; MTCNN's minimum shapes its image pyramid, so it is used as it is)."""
    from recognition.engine.yunet import YuNetDetector

    detector = engine.detector
    if not isinstance(detector, YuNetDetector):
        return detector
    with _redaction_lock:
        redaction = _redaction_detectors.get(id(detector))
        if redaction is None:
            redaction = YuNetDetector(
                model=detector.model_bytes,
                min_face_size=min(REDACTION_MIN_FACE_PX, detector.min_face_size),
                score_threshold=detector.score_threshold,
                max_side=detector.max_side,
            )
            _redaction_detectors.clear()
            _redaction_detectors[id(detector)] = redaction
    return redaction


def face_redact(jpeg: bytes, keep_box: tuple[int, int, int, int] | None) -> bytes:
    """Blur every face the engine's detector finds in ``jpeg`` (down to ``REDACTION_MIN_FACE_PX``) except the
    subject's: the detected face overlapping ``keep_box`` best, at IoU >= 0.3 (none is kept when ``keep_box`` is
    None). Each face, with a margin, is pixelated to about 6 blocks across, then Gaussian-blurred (averaged pixels
    cannot be recovered); the result is a new JPEG."""
    from PIL import ImageFilter

    from recognition.engine import decode_image
    from recognition.enrolment import MIN_BOX_IOU
    from recognition.selectors import live_engine

    picture = decode_image(jpeg, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
    faces = _redaction_detector(live_engine()).detect([picture])[0]
    kept = None
    if keep_box is not None and faces:
        best = max(faces, key=lambda f: _iou(f.box, keep_box))
        if _iou(best.box, keep_box) >= MIN_BOX_IOU:
            kept = best
    width, height = picture.size
    for face in faces:
        if face is kept:
            continue
        x1, y1, x2, y2 = face.box
        dx, dy = (x2 - x1) * 0.25, (y2 - y1) * 0.25
        region = (
            max(0, int(x1 - dx)),
            max(0, int(y1 - dy)),
            min(width, int(x2 + dx) + 1),
            min(height, int(y2 + dy) + 1),
        )
        if region[2] - region[0] < 2 or region[3] - region[1] < 2:
            continue
        patch = picture.crop(region)
        side = max(patch.size)
        blocks = (max(1, round(6 * patch.size[0] / side)), max(1, round(6 * patch.size[1] / side)))
        patch = patch.resize(blocks, resample=3).resize(patch.size, resample=0)  # box-average, then nearest
        patch = patch.filter(ImageFilter.GaussianBlur(radius=max(2.0, side / 8)))
        picture.paste(patch, region[:2])
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)
    return out.getvalue()


# --- the probe matrix: alerts' embeddings, decrypted once per process -------------------------------


class ProbeIndex:
    """The decrypted probes of one backend's stored alerts in this process: ids and a float32 matrix.

    Bounded by ``OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES`` (above it, a search decrypts in chunks and keeps
    nothing). ``refresh`` reads only the probes written or erased since the last one (with an overlap)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.lock = threading.Lock()
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.size = 0
        self.position: dict[int, int] = {}
        self.valid = np.zeros(0, dtype=bool)
        self.since: datetime | None = None

    def _put(self, pk: int, vector: np.ndarray | None) -> None:
        row = self.position.get(pk)
        if vector is None:
            if row is not None:
                self.valid[row] = False
            return
        if row is None:
            if self.size == len(self.ids):
                capacity = max(1024, 2 * len(self.ids))
                self.ids = np.resize(self.ids, capacity)
                self.valid = np.concatenate([self.valid, np.zeros(capacity - len(self.valid), dtype=bool)])
                grown = np.zeros((capacity, len(vector)), dtype=np.float32)
                if self.size:
                    grown[: self.size] = self.matrix[: self.size]
                self.matrix = grown
            row = self.size
            self.size += 1
            self.position[pk] = row
            self.ids[row] = pk
        self.matrix[row] = vector
        self.valid[row] = True

    def refresh(self) -> None:
        started = timezone.now()
        rows = Alert.objects.filter(probe_backend=self.backend)
        if self.since is None:
            rows = rows.filter(erased_at__isnull=True).exclude(probe_embedding=b"")
        else:
            rows = rows.filter(probe_changed_at__gte=self.since - PROBE_REFRESH_OVERLAP)
        for pk, token, erased_at in rows.values_list("pk", "probe_embedding", "erased_at").iterator(chunk_size=5000):
            token = bytes(token)
            vector = None if (erased_at or not token) else np.frombuffer(encryption.decrypt(token), dtype=np.float32)
            self._put(pk, vector)
        self.since = started

    def search(self, probe: np.ndarray, threshold: float) -> list[int]:
        if not self.size:
            return []
        scores = self.matrix[: self.size] @ probe
        hits = np.flatnonzero((scores >= threshold) & self.valid[: self.size])
        return [int(i) for i in self.ids[hits]]


_indexes: dict[str, ProbeIndex] = {}
_indexes_lock = threading.Lock()


def probe_index_clear() -> None:
    with _indexes_lock:
        _indexes.clear()


def _probe_ids_above(backend: str, probe: np.ndarray, threshold: float) -> list[int]:
    """Ids of alerts of ``backend`` whose stored probe scores at least ``threshold`` (every organisation's: the
    caller narrows them through the access layer)."""
    stored = _stored_probes(backend)
    index = _probe_index(backend, stored)
    if index is None:
        return _probe_ids_streamed(stored, probe, threshold)
    with index.lock:
        index.refresh()
        if index.size > int(settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES):
            # Grew past the bound: give the memory back, search without keeping.
            with _indexes_lock:
                _indexes.pop(backend, None)
            return _probe_ids_streamed(stored, probe, threshold)
        return index.search(probe, threshold)


def _stored_probes(backend: str):
    return Alert.objects.filter(probe_backend=backend, erased_at__isnull=True).exclude(probe_embedding=b"")


def _probe_index(backend: str, stored) -> ProbeIndex | None:
    """This process's probe matrix for ``backend`` (made, empty, when there is none), or None when more probes are
    stored than it may hold (searches then stream)."""
    with _indexes_lock:
        index = _indexes.get(backend)
    if index is None:
        if stored.count() > int(settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES):
            return None
        with _indexes_lock:
            if backend not in _indexes:
                _indexes.clear()  # one backend at a time: the live one
            index = _indexes.setdefault(backend, ProbeIndex(backend))
    return index


def probe_index_warm() -> str:
    """Decrypt the live backend's stored probes into this process's matrix now (a web process's warm-up,
    ``governance.serving``), so that the first face search of a subject access request does not pay for it
    (2.2 s for 100,000 alerts, BENCHMARKS.md "Subject search"). Later searches read only what changed since."""
    from recognition.selectors import live_backend

    backend = live_backend()
    index = _probe_index(backend, _stored_probes(backend))
    if index is None:
        return "over the bound: searches stream"
    with index.lock:
        index.refresh()
    return f"probes held: {index.size}"


def _probe_ids_streamed(stored, probe: np.ndarray, threshold: float) -> list[int]:
    hits: list[int] = []
    batch_ids: list[int] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            scores = np.stack(batch) @ probe
            hits.extend(pk for pk, score in zip(batch_ids, scores, strict=True) if score >= threshold)
            batch_ids.clear()
            batch.clear()

    for pk, token in stored.values_list("pk", "probe_embedding").iterator(chunk_size=5000):
        batch_ids.append(pk)
        batch.append(np.frombuffer(encryption.decrypt(bytes(token)), dtype=np.float32))
        if len(batch) >= 5000:
            flush()
    flush()
    return hits


def _vector(token: bytes) -> np.ndarray:
    return np.frombuffer(encryption.decrypt(bytes(token)), dtype=np.float32)


# --- alerts ----------------------------------------------------------------------------------------


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
    return f"Alert #{alert.pk} at {alert.deployment.site} ({alert.deployment.reference}), {_local(alert.first_seen_at)}"


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
    threshold = _backend_threshold(face.backend) if face is not None else None
    if face is not None and threshold is not None:
        probe = np.asarray(face.embedding, dtype=np.float32).reshape(-1)
        proposed = _probe_ids_above(face.backend, probe, threshold)
        # The matrix proposes; the access layer and the stored embedding decide.
        for alert in visible.filter(pk__in=proposed, probe_backend=face.backend).exclude(probe_embedding=b""):
            score = float(_vector(alert.probe_embedding) @ probe)
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
        sentences.append(f"{_reviewer_role(review)}, {decision} on {_local(review.decided_at)} {_shown_words(review)}.")
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
        ("First seen", _local(alert.first_seen_at)),
        ("Last seen", _local(alert.last_seen_at)),
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
        facts.append((f"Review {number}", f"{decision}, {_local(review.decided_at)}, by {_reviewer_role(review)}"))
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
                f"To {to} by {disclosure.get_channel_display()}, {_local(disclosure.disclosed_at)}",
            )
        )
        staff.append(StaffMention(name=disclosure.disclosed_by_name, role="Data protection officer"))
        if disclosure.outcome:
            facts.append(
                (
                    "Police outcome",
                    f"{disclosure.get_outcome_display()}, reported {_local(disclosure.outcome_reported_at)}"
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
                caption=f"Camera crop of the best sighting ({camera.name}, {_local(alert.last_seen_at)})",
                subject_box=_picture_box(crop),
            )
        )
    supplier = alert.supplying_organisation
    force = supplier.parent if supplier.parent_id else supplier
    if alert.erased_at:
        retention = f"The crop, face embedding and score were erased on {_local(alert.erased_at)}; this record stays."
    else:
        retention = (
            f"The crop, face embedding and score are erased on {_local(alert.retention_due_at)} (the agreement's "
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
        alert = Alert.objects.select_for_update(of=("self",)).select_related("deployment").get(pk=alert.pk)
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


def probe_index_clear_alert(pk: int):
    """After commit: this process's probe matrix forgets the alert at once (others see it erased on refresh)."""

    def forget() -> None:
        with _indexes_lock:
            indexes = list(_indexes.values())
        for index in indexes:
            with index.lock:
                index._put(pk, None)

    return forget


# --- face templates (and, by face, the watchlist images they came from) ---------------------------------


def _template_crop(actor: Any, template: FaceTemplate, justification: str = "") -> bytes | None:
    """The enrolled face of the image for the supplying side (who may see the image's bytes): read through
    governance's audited ``watchlist_image_read_bytes``; None for anyone else."""
    from PIL import Image

    from governance.watchlist.services import watchlist_image_read_bytes
    from recognition.deployments.services import _face_with_margin

    image = template.image
    if not can_image(actor, image, "bytes"):
        return None
    try:
        data, _content_type = watchlist_image_read_bytes(
            actor=actor, image=image, justification=justification or SEARCH_JUSTIFICATION
        )
    except Exception:  # noqa: BLE001 - erased since the search began: no crop, the candidate still shows
        return None
    with Image.open(io.BytesIO(data)) as picture:
        picture = picture.convert("RGB")
        picture = picture.crop(_face_with_margin(template.face_box, picture.size))
        picture.thumbnail((240, 240))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _templates_visible_to(actor: Any):
    return FaceTemplate.objects.filter(image__in=images_visible_to(actor).values("pk")).select_related(
        "image", "image__agreement", "image__supplying_organisation"
    )


def _template_candidate(template: FaceTemplate, *, found_by: str, score: float | None) -> Candidate:
    image = template.image
    return Candidate(
        ref=ItemRef("face-template", str(template.pk)),
        title=f"Face template of watchlist image #{image.pk} ({image.subject_reference})",
        found_by=found_by,
        summary=f"Derived at enrolment on {_local(template.created_at)} by {template.backend}",
        score=score,
    )


def templates_search(actor: Any, query: SubjectQuery) -> list[Candidate]:
    """Templates of the subject's watchlist images (by subject reference), and by face: every enrolled template of
    the same backend visible to the actor at or above the backend's threshold, as the watchlist image
    (``watchlist-image``, compiled by governance) and as the template derived from it."""
    candidates: list[Candidate] = []
    templates = _templates_visible_to(actor)
    references = [r.strip() for r in query.subject_references if r and r.strip()]
    if references:
        for template in templates.filter(image__subject_reference__in=references).order_by("image_id", "pk"):
            candidates.append(_template_candidate(template, found_by="subject reference", score=None))
    face = query.face
    threshold = _backend_threshold(face.backend) if face is not None else None
    if face is None or threshold is None:
        return candidates
    probe = np.asarray(face.embedding, dtype=np.float32).reshape(-1)
    hits: list[tuple[float, FaceTemplate]] = []
    for template in templates.filter(backend=face.backend).order_by("pk").iterator(chunk_size=2000):
        score = float(_vector(template.ciphertext) @ probe)
        if score >= threshold:
            hits.append((score, template))
    hits.sort(key=lambda pair: -pair[0])
    for score, template in hits:
        image = template.image
        candidates.append(
            Candidate(
                ref=ItemRef("watchlist-image", str(image.pk)),
                title=f"Watchlist image #{image.pk}: {image.subject_reference} ({image.agreement.reference})",
                found_by="face",
                summary=(
                    f"Supplied by {image.supplying_organisation.name}; {image.custody_category}; "
                    f"status {image.get_status_display().lower()}"
                ),
                score=score,
                crop_jpeg=_template_crop(actor, template, query.justification),
            )
        )
        if not any(c.ref.kind == "face-template" and c.ref.key == str(template.pk) for c in candidates):
            candidates.append(_template_candidate(template, found_by="face", score=score))
    return candidates


def template_compile(actor: Any, ref: ItemRef) -> SubjectItem | None:
    try:
        template = _templates_visible_to(actor).get(pk=int(ref.key))
    except (FaceTemplate.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    image = template.image
    supplier = image.supplying_organisation
    return SubjectItem(
        ref=ItemRef("face-template", str(template.pk)),
        section="Face templates",
        title=f"Face template of watchlist image #{image.pk} ({image.subject_reference})",
        facts=[
            (
                "Derived from",
                f"Watchlist image #{image.pk} ({image.subject_reference}), agreement {image.agreement.reference}",
            ),
            ("What it is", "A list of numbers the face engine computed from the face in the image; not an image."),
            ("Made by", template.backend),
            ("Made on", _local(template.created_at)),
            ("Face in the image", "box " + ", ".join(f"{v:.0f}" for v in template.face_box)),
            ("Detector confidence", f"{template.detection_probability:.3f}"),
        ],
        source=f"Computed by the operator's face engine from the image {supplier.name} supplied.",
        recipients=[],
        retention="Erased with the watchlist image it was derived from (withdrawal, retention, or erasure request).",
        purposes=["Comparing faces seen by the live cameras with the watchlist."],
        audit_targets=[("governance.watchlistimage", str(image.pk)), ("recognition.facetemplate", str(template.pk))],
        controller_id=image.supplying_force_id or supplier.parent_id or supplier.pk,
        related=[ItemRef("watchlist-image", str(image.pk))],
    )


face_reader_register(face_read)
face_redactor_register(face_redact)
subject_data_provider_register(
    SubjectDataProvider(
        kind="alert",
        title="Alerts",
        section="Alerts",
        search=alerts_search,
        compile=alert_compile,
        supplied_by=alert_supplied_by,
        visible=lambda actor, ref: (
            ref.key.isascii() and ref.key.isdigit() and alerts_visible_to(actor).filter(pk=int(ref.key[:18])).exists()
        ),
        erase=alert_erase,
    )
)
subject_data_provider_register(
    SubjectDataProvider(
        kind="face-template",
        title="Face templates",
        section="Face templates",
        search=templates_search,
        compile=template_compile,
        visible=lambda actor, ref: (
            ref.key.isascii()
            and ref.key.isdigit()
            and _templates_visible_to(actor).filter(pk=int(ref.key[:18])).exists()
        ),
    )
)
