"""The face reader (the requester's photo read as enrolment reads a watchlist image) and the face redactor."""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
from django.conf import settings

from governance.subject_access.registry import FaceProbe


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
