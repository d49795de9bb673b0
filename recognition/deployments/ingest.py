"""Frame in (ARCHITECTURE.md flow 2): camera gateway or ``ingest_video`` → ``frame_submit`` →
``process_frame`` task → ``frame_process`` (engine → gallery → counters or alert).

Non-match data never persists. In ``frame_process`` the decoded picture, the detected faces and
their embeddings are local variables of one function call: nothing below threshold is written to
the database, a file, the cache or a log. What remains is a number in ``FaceScanCounter``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from recognition.deployments import frames
from recognition.deployments.errors import (
    DeploymentNotLive,
    FrameRefused,
    FramesShed,
    FrameTooLarge,
    FrameUnsupported,
    MatchingUnavailable,
)
from recognition.deployments.models import Camera, Deployment, DeploymentStatus
from recognition.deployments.services import Sighting, alert_record_sighting, counters_add, matched_watchlist

logger = logging.getLogger(__name__)

ACCEPTED_FRAME_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True)
class FrameReceipt:
    camera_id: int
    received_at: datetime
    in_flight: int


def _deployment_running(deployment: Deployment, now: datetime) -> bool:
    return deployment.status == DeploymentStatus.LIVE and deployment.starts_at <= now < deployment.ends_at


def _check_frame(data: bytes) -> None:
    """Cheap checks before anything is queued: size, format sniffed from the bytes, pixel count
    from the header (decompression bombs). The worker decodes it fully (``decode_image``)."""
    from PIL import Image

    from governance.imagetypes import sniff_format

    if not data:
        raise FrameRefused("The frame is empty.", code="empty_frame")
    if len(data) > settings.OVERSIGHT_FRAME_MAX_BYTES:
        raise FrameTooLarge(f"A frame may be at most {settings.OVERSIGHT_FRAME_MAX_BYTES // 1024} KiB.")
    kind = sniff_format(data)
    if kind not in ACCEPTED_FRAME_FORMATS:
        raise FrameUnsupported("Frames must be JPEG or PNG.")
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - Pillow raises many types for bad headers
        raise FrameRefused("The frame's header cannot be read.", code="not_an_image") from None
    if width * height > settings.OVERSIGHT_FRAME_MAX_PIXELS:
        raise FrameRefused(
            f"The frame has {width * height:,} pixels; the limit is {settings.OVERSIGHT_FRAME_MAX_PIXELS:,}.",
            code="too_many_pixels",
        )
    smallest = _min_frame_side()
    if min(width, height) < smallest:
        raise FrameRefused(
            f"The frame is {width}x{height} pixels; the detector needs at least {smallest} pixels on "
            "each side (its minimum face size).",
            code="frame_too_small",
        )


def _min_frame_side() -> int:
    """The live detector's minimum face size: no face it looks for fits in a frame with a shorter side (no model
    is loaded to know it)."""
    from recognition.engine.engine import config_for
    from recognition.selectors import live_backend_choice

    return int(config_for(live_backend_choice()).min_face_size)


def frame_submit(*, camera: Camera, data: bytes) -> FrameReceipt:
    """Accept one frame for matching, or refuse it.

    Refusals: bad frame (400/413/415); the camera's deployment not live or outside its window (409,
    counted as refused); too many frames of this camera already in flight (429, counted as shed —
    live video has a newer frame coming, so dropping beats queueing without bound); broker down (503).
    No transaction: nothing is written except counters. The bytes go to the frame store, the task
    message carries only their random key.
    """
    _check_frame(data)
    now = timezone.now()
    deployment = Deployment.objects.only("status", "starts_at", "ends_at").get(pk=camera.deployment_id)
    if not _deployment_running(deployment, now):
        counters_add(camera_id=camera.pk, at=now, frames_refused=1)
        raise DeploymentNotLive("The camera's deployment is not live: frames are refused.")
    key = frames.frame_key_new()
    try:
        in_flight = frames.inflight_acquire(camera.pk, key)
        if in_flight > settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA:
            frames.inflight_release(camera.pk, key)
            counters_add(camera_id=camera.pk, at=now, frames_shed=1)
            raise FramesShed("Too many frames from this camera are waiting; this one was dropped.")
        frames.frame_put(data, key)
    except (RedisError, OSError) as error:
        # The frame store is down: nothing was queued, so the camera is told to retry (503), not 500.
        counters_add(camera_id=camera.pk, at=now, frames_shed=1)
        logger.warning("Frame for camera %s dropped: frame store unavailable (%s)", camera.pk, type(error).__name__)
        raise MatchingUnavailable("The matching service is unavailable; the frame was dropped.") from None
    del data
    try:
        _dispatch(key=key, camera_id=camera.pk, received_at=now)
    except (KombuOperationalError, OSError) as error:
        with contextlib.suppress(RedisError, OSError):  # the broker's Redis may be the frame store
            frames.frame_discard(key)
            frames.inflight_release(camera.pk, key)
        counters_add(camera_id=camera.pk, at=now, frames_shed=1)
        logger.warning("Frame for camera %s dropped: broker unavailable (%s)", camera.pk, type(error).__name__)
        raise MatchingUnavailable("The matching service is unavailable; the frame was dropped.") from None
    return FrameReceipt(camera_id=camera.pk, received_at=now, in_flight=in_flight)


def _dispatch(*, key: str, camera_id: int, received_at: datetime) -> None:
    """Hand a stored frame to whoever matches it: the embedded frame worker when ``manage.py serve`` runs one
    (``embedded.py``; the request does not wait), else the ``process_frame`` task (a broker's workers, or run in
    this thread where there is neither). The embedded worker's queue full: the frame is shed (429, counted)."""
    from recognition.deployments import embedded
    from recognition.deployments.tasks import process_frame

    worker = embedded.worker()
    if worker is not None:
        if not worker.submit(key, camera_id, received_at.isoformat()):
            frames.frame_discard(key)
            frames.inflight_release(camera_id, key)
            counters_add(camera_id=camera_id, at=received_at, frames_shed=1)
            raise FramesShed("The matching queue is full; this frame was dropped.")
        return
    # argsrepr: the worker log, events and monitoring show a placeholder, not even the key.
    process_frame.apply_async(
        args=[key, camera_id, received_at.isoformat()],
        argsrepr=f"(<frame>, camera={camera_id})",
        kwargsrepr="{}",
        ignore_result=True,
    )


def _crop_jpeg(engine, picture, face) -> bytes:
    from PIL import Image

    crop = engine.crops([picture], [[face.face]])[0]
    out = io.BytesIO()
    Image.fromarray(crop).save(out, format="JPEG", quality=90)
    return out.getvalue()


def frame_process(*, frame_key: str, camera_id: int, received_at: str) -> str:
    """Take the frame's bytes (deleting them), detect and embed every face, search the deployment's
    gallery, raise or attach alerts for faces at or above the threshold, add to the counters.

    Idempotent: a redelivered task finds the bytes gone and does nothing. Re-checks the deployment
    (still live, inside its window) and the agreements (only active ones supply the gallery). The
    in-flight slot is released whatever happens. Returns a short outcome word (no biometric data).
    """
    from recognition.engine import ImageRejected, decode_image
    from recognition.selectors import gallery_for_agreements, live_engine

    try:
        data = frames.frame_take(frame_key)
        if data is None:
            counters_add(camera_id=camera_id, frames_shed=1)
            return "expired"
        camera = Camera.objects.select_related("deployment").filter(pk=camera_id).first()
        if camera is None:
            return "no_camera"
        deployment = camera.deployment
        now = timezone.now()
        if not _deployment_running(deployment, now):
            counters_add(camera_id=camera_id, at=now, frames_refused=1)
            return "not_live"
        if now - datetime.fromisoformat(received_at) > timedelta(seconds=settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS):
            counters_add(camera_id=camera_id, at=now, frames_shed=1)
            return "stale"
        try:
            picture = decode_image(data, max_pixels=settings.OVERSIGHT_FRAME_MAX_PIXELS)
        except ImageRejected:
            counters_add(camera_id=camera_id, at=now, frames_refused=1)
            return "unreadable"
        finally:
            del data
        engine = live_engine()  # taken once: this frame's probes and gallery are of one backend, even mid-switch
        faces = engine.analyse([picture], live=True)[0]
        raised = 0
        if faces:
            review_id, agreement_ids = matched_watchlist(deployment)
            gallery = (
                gallery_for_agreements(agreement_ids, backend=engine.backend, review_id=review_id)
                if agreement_ids and review_id
                else None
            )
            if gallery is not None and len(gallery):
                import numpy as np

                ids, scores = gallery.search(np.stack([f.embedding for f in faces]), k=1)
                threshold = float(deployment.match_threshold)
                for face, image_id, score in zip(faces, ids[:, 0], scores[:, 0], strict=True):
                    if image_id < 0 or float(score) < threshold:
                        continue  # below threshold: this face leaves nothing behind
                    alert, created = alert_record_sighting(
                        sighting=Sighting(
                            deployment_id=deployment.pk,
                            camera_id=camera_id,
                            image_id=int(image_id),
                            score=float(score),
                            threshold=threshold,
                            crop_jpeg=_crop_jpeg(engine, picture, face),
                            seen_at=now,
                        )
                    )
                    raised += int(created)
        counters_add(camera_id=camera_id, at=now, faces_scanned=len(faces), frames_processed=1, alerts_raised=raised)
        del faces, picture
        return "processed"
    finally:
        frames.inflight_release(camera_id, frame_key)
