"""Enrolment: watchlist image → one face template, and the template's erasure on withdrawal.

Flow (ARCHITECTURE.md, "Image in"): the upload commits → ``image_received`` enqueues
``recognition.tasks.enrol_watchlist_image`` after commit → ``watchlist_image_enrol`` has governance check the upload
first (``watchlist_image_process_upload``: full decode and metadata-free re-encode, or a rejection with the decode's
code; issue 26, off the web request), then decrypts the clean bytes, detects faces, picks the one to enrol, embeds it and stores the template encrypted → every
worker's galleries are told to reload (``recognition.gallery_cache.gallery_version_bump``).

Face choice (why an image can be rejected):
- no face detected → ``no_face``;
- a face box given with the upload → the detected face overlapping it best (IoU ≥ 0.3), else
  ``face_box_empty``;
- otherwise the largest face, unless another face of usable size competes with it (shorter side at
  least ``OVERSIGHT_ENROLMENT_COMPETING_FACE_RATIO`` of the largest's) → ``multiple_faces``: enrolling
  the wrong person of a group photo would put a bystander on a watchlist;
- the chosen face's shorter side below ``OVERSIGHT_ENROLMENT_MIN_FACE_PX`` → ``face_too_small``
  (small faces give unreliable templates and more false alerts).

Idempotent: the image must still be ``received`` and a template is unique per image; the slow
engine work happens outside any transaction and the result is committed under a row lock.

Queuing on upload and erasing templates on withdrawal: ``recognition.image_handler``; the galleries: reads in
``recognition.selectors``, this process's cache in ``recognition.gallery_cache``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.locks import lock_rows
from governance.watchlist.models import ImageStatus, RejectionReason, WatchlistImage
from governance.watchlist.services import (
    watchlist_image_bytes_for_processing,
    watchlist_image_process_upload,
    watchlist_image_record_enrolment,
    watchlist_image_record_rejection,
)
from recognition.gallery_cache import galleries_after_commit
from recognition.models import FaceTemplate

logger = logging.getLogger(__name__)

MIN_BOX_IOU = 0.3


@dataclass(frozen=True)
class FaceChoice:
    face: object | None
    reason: str = ""
    message: str = ""


def _side(box) -> float:
    return min(box[2] - box[0], box[3] - box[1])


def _iou(a, b) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def choose_face(faces, face_box=None) -> FaceChoice:
    """Pick the face to enrol, or say why none can be (reason codes of ``RejectionReason``)."""
    min_px = settings.OVERSIGHT_ENROLMENT_MIN_FACE_PX
    if not faces:
        return FaceChoice(None, RejectionReason.NO_FACE, "No face was found in the image.")
    if face_box is not None:
        scored = sorted(((f, _iou(f.box, face_box)) for f in faces), key=lambda pair: pair[1], reverse=True)
        face, overlap = scored[0]
        if overlap < MIN_BOX_IOU:
            return FaceChoice(None, RejectionReason.FACE_BOX_EMPTY, "No detected face lies inside the given face box.")
    else:
        ordered = sorted(faces, key=lambda f: _side(f.box), reverse=True)
        face = ordered[0]
        largest = _side(face.box)
        ratio = settings.OVERSIGHT_ENROLMENT_COMPETING_FACE_RATIO
        competing = [f for f in ordered[1:] if _side(f.box) >= min_px and _side(f.box) >= ratio * largest]
        if competing and largest >= min_px:
            return FaceChoice(
                None,
                RejectionReason.MULTIPLE_FACES,
                f"{len(competing) + 1} faces of usable size were found; upload again with a face box naming the person.",
            )
    if _side(face.box) < min_px:
        return FaceChoice(
            None,
            RejectionReason.FACE_TOO_SMALL,
            f"The face is {_side(face.box):.0f} pixels across; at least {min_px} are needed for a reliable template.",
        )
    return FaceChoice(face)


def _engine_label(engine) -> str:
    return (
        f"{getattr(engine, 'weights_kind', '?')}/{getattr(engine, 'precision', '?')}/{getattr(engine, 'device', '?')}"
    )


def _template_fields(engine, face, embedding) -> dict:
    """The stored form of one template: encrypted vector, the face it came from, and the backend that made it."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    return {
        "ciphertext": encryption.encrypt(vector.tobytes()),
        "key_id": encryption.key_fingerprint(),
        "face_box": [round(float(v), 1) for v in face.box],
        "detection_probability": float(face.probability),
        "engine": _engine_label(engine),
        "backend": engine.backend,
        "created_at": timezone.now(),
    }


def watchlist_image_enrol(*, image_id: int) -> str:
    """Enrol one image; returns the outcome ("enrolled", "rejected:<code>", or "skipped:<why>").

    Transaction: none during engine work; one ``atomic`` with the image row locked to commit the
    template and status (audit ``combination``) or the rejection (audit ``alteration``). Safe to run
    twice, concurrently or after a worker died mid-way.
    """
    from recognition.engine import ImageRejected, decode_image
    from recognition.selectors import live_engine

    checked = watchlist_image_process_upload(image_id=image_id)
    if checked.startswith("rejected:"):
        return checked
    image = WatchlistImage.objects.select_related("agreement").filter(pk=image_id).first()
    if image is None:
        return "skipped:missing"
    if image.awaiting_check:
        return "skipped:checking"
    if image.status != ImageStatus.RECEIVED or FaceTemplate.objects.filter(image_id=image_id).exists():
        return f"skipped:{image.status}"
    choice: FaceChoice
    embedding = None
    engine = None
    if not image.agreement.is_sharing:
        choice = FaceChoice(None, RejectionReason.AGREEMENT_NOT_ACTIVE, "The agreement is no longer active.")
    else:
        data = watchlist_image_bytes_for_processing(image_id=image_id)
        if data is None:
            return "skipped:no_bytes"
        try:
            picture = decode_image(data, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
        except ImageRejected as rejected:
            choice = FaceChoice(None, RejectionReason.UNREADABLE, rejected.message)
        else:
            engine = live_engine()
            choice = choose_face(engine.detect([picture])[0], image.face_box)
            if choice.face is not None:
                embedding = engine.embed_faces([picture], [[choice.face]])[0][0].embedding
        del data
    with transaction.atomic():
        image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image_id)
        if image.status != ImageStatus.RECEIVED or FaceTemplate.objects.filter(image_id=image_id).exists():
            return f"skipped:{image.status}"
        if choice.face is None:
            watchlist_image_record_rejection(image=image, reason=choice.reason, message=choice.message)
            return f"rejected:{choice.reason}"
        fields = _template_fields(engine, choice.face, embedding)
        template = FaceTemplate.objects.create(image=image, agreement=image.agreement, **fields)
        watchlist_image_record_enrolment(
            image=image,
            template=template,
            details={
                "face_side_px": round(_side(choice.face.box)),
                "face_box_given": image.face_box is not None,
                "backend": engine.backend,
            },
        )
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        transaction.on_commit(
            galleries_after_commit(add={image.agreement_id: [(image.pk, vector)]}, backend=engine.backend)
        )
    return "enrolled"


def template_reenrol(*, image_id: int, engine) -> str:
    """Make the template of an enrolled image under ``engine``'s backend, beside its live one (model change).

    The face is the one enrolled before: the detection overlapping the live template's face box best (IoU >= 0.3),
    so a group photo never swaps the enrolled person for a bystander. Returns "reenrolled", "present" (already done:
    idempotent), "skipped:<why>" or "no_face:<code>" (the new backend does not find that face; nothing is written).

    Transaction: none during engine work; one ``atomic`` with the image row locked to write the template and its
    audit event (``combination``: a new biometric template derived from the image). No gallery is told: templates
    of a backend that is not live are in no gallery until the switch-over (``recognition.switchover``).
    """
    from recognition.engine import ImageRejected, decode_image

    image = WatchlistImage.objects.filter(pk=image_id).first()
    if image is None or image.status != ImageStatus.ENROLLED:
        return "skipped:not_enrolled"
    if FaceTemplate.objects.filter(image_id=image_id, backend=engine.backend).exists():
        return "present"
    live = FaceTemplate.objects.filter(image_id=image_id).exclude(backend=engine.backend).order_by("-pk").first()
    data = watchlist_image_bytes_for_processing(image_id=image_id)
    if data is None:
        return "skipped:no_bytes"
    try:
        picture = decode_image(data, max_pixels=settings.OVERSIGHT_WATCHLIST_MAX_PIXELS)
    except ImageRejected:
        return f"no_face:{RejectionReason.UNREADABLE}"
    finally:
        del data
    face_box = live.face_box if live is not None else image.face_box
    choice = choose_face(engine.detect([picture])[0], face_box)
    if choice.face is None:
        return f"no_face:{choice.reason}"
    embedding = engine.embed_faces([picture], [[choice.face]])[0][0].embedding
    del picture
    with transaction.atomic():
        image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image_id)
        if image.status != ImageStatus.ENROLLED:
            return "skipped:not_enrolled"
        if FaceTemplate.objects.filter(image_id=image_id, backend=engine.backend).exists():
            return "present"
        template = FaceTemplate.objects.create(
            image=image, agreement=image.agreement, **_template_fields(engine, choice.face, embedding)
        )
        audit_record(
            action=AuditAction.COMBINATION,
            event="face_template.reenrolled",
            actor=None,
            target=image,
            details={
                "template": f"{template._meta.label_lower}:{template.pk}",
                "backend": engine.backend,
                "agreement": image.agreement.reference,
                "face_side_px": round(_side(choice.face.box)),
            },
        )
    return "reenrolled"
