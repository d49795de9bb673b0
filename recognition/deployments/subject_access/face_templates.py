"""The ``face-template`` provider: templates (and, by face, the watchlist images they came from)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from governance.access import can_image, images_visible_to
from governance.subject_access.registry import (
    Candidate,
    ItemRef,
    SubjectItem,
    SubjectQuery,
)
from recognition.deployments.subject_access.common import (
    SEARCH_JUSTIFICATION,
    backend_threshold,
    local_text,
    stored_vector,
)
from recognition.models import FaceTemplate


def _template_crop(actor: Any, template: FaceTemplate, justification: str = "") -> bytes | None:
    """The enrolled face of the image for the supplying side (who may see the image's bytes): read through
    governance's audited ``watchlist_image_read_bytes``; None for anyone else."""
    from PIL import Image

    from governance.watchlist.services import watchlist_image_read_bytes
    from recognition.deployments.services.review import face_with_margin

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
        picture = picture.crop(face_with_margin(template.face_box, picture.size))
        picture.thumbnail((240, 240))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def templates_visible_to(actor: Any):
    return FaceTemplate.objects.filter(image__in=images_visible_to(actor).values("pk")).select_related(
        "image", "image__agreement", "image__supplying_organisation"
    )


def _template_candidate(template: FaceTemplate, *, found_by: str, score: float | None) -> Candidate:
    image = template.image
    return Candidate(
        ref=ItemRef("face-template", str(template.pk)),
        title=f"Face template of watchlist image #{image.pk} ({image.subject_reference})",
        found_by=found_by,
        summary=f"Derived at enrolment on {local_text(template.created_at)} by {template.backend}",
        score=score,
    )


def templates_search(actor: Any, query: SubjectQuery) -> list[Candidate]:
    """Templates of the subject's watchlist images (by subject reference), and by face: every enrolled template of
    the same backend visible to the actor at or above the backend's threshold, as the watchlist image
    (``watchlist-image``, compiled by governance) and as the template derived from it."""
    candidates: list[Candidate] = []
    templates = templates_visible_to(actor)
    references = [r.strip() for r in query.subject_references if r and r.strip()]
    if references:
        for template in templates.filter(image__subject_reference__in=references).order_by("image_id", "pk"):
            candidates.append(_template_candidate(template, found_by="subject reference", score=None))
    face = query.face
    threshold = backend_threshold(face.backend) if face is not None else None
    if face is None or threshold is None:
        return candidates
    probe = np.asarray(face.embedding, dtype=np.float32).reshape(-1)
    hits: list[tuple[float, FaceTemplate]] = []
    for template in templates.filter(backend=face.backend).order_by("pk").iterator(chunk_size=2000):
        score = float(stored_vector(template.ciphertext) @ probe)
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
        template = templates_visible_to(actor).get(pk=int(ref.key))
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
            ("Made on", local_text(template.created_at)),
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
