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
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from amqp.exceptions import AMQPError, MessageNacked
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db import connection as db_connection
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
from recognition.deployments.frame_ledger import frame_ledger_accept, frame_ledger_unaccept
from recognition.deployments.models import Camera, Deployment, DeploymentStatus, FrameDropReason
from recognition.deployments.services.alerts import Sighting, alert_record_sighting
from recognition.deployments.services.frames import PROCESSED, counters_add, frame_outcome_count
from recognition.deployments.services.planning import matched_watchlist

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
    """Cheap checks before anything is queued: size, format sniffed from the bytes, then from the header alone (no
    pixel decoded, issue 26) the pixel count against the frame limit and the format's decode budget
    (``OVERSIGHT_IMAGE_DECODE_PIXELS``, ``OVERSIGHT_IMAGE_DECODE_MAX_BYTES``: codes ``too_many_pixels``,
    ``decode_budget_exceeded``, as at the other image doors), and the JPEG scan count (scan bombs). The worker
    decodes it fully (``decode_image``)."""
    from governance.imagetypes import (
        HeaderUnreadable,
        decode_budget_problem,
        image_header,
        jpeg_scan_count,
        sniff_format,
    )

    if not data:
        raise FrameRefused("The frame is empty.", code="empty_frame")
    if len(data) > settings.OVERSIGHT_FRAME_MAX_BYTES:
        raise FrameTooLarge(f"A frame may be at most {settings.OVERSIGHT_FRAME_MAX_BYTES // 1024} KiB.")
    kind = sniff_format(data)
    if kind not in ACCEPTED_FRAME_FORMATS:
        raise FrameUnsupported("Frames must be JPEG or PNG.")
    try:
        _kind, width, height, bytes_per_pixel = image_header(data)
    except HeaderUnreadable:
        raise FrameRefused("The frame's header cannot be read.", code="not_an_image") from None
    if width * height > settings.OVERSIGHT_FRAME_MAX_PIXELS:
        raise FrameRefused(
            f"The frame has {width * height:,} pixels; the limit is {settings.OVERSIGHT_FRAME_MAX_PIXELS:,}.",
            code="too_many_pixels",
        )
    problem = decode_budget_problem(
        kind,
        width,
        height,
        bytes_per_pixel,
        pixels=settings.OVERSIGHT_IMAGE_DECODE_PIXELS,
        memory=settings.OVERSIGHT_IMAGE_DECODE_MAX_BYTES,
    )
    if problem:
        raise FrameRefused(problem[1], code=problem[0])
    if kind == "JPEG" and jpeg_scan_count(data) > settings.OVERSIGHT_JPEG_MAX_SCANS:
        # Each progressive scan is a decoding pass over the whole frame: refused before a worker spends seconds on it.
        raise FrameRefused(
            f"The frame has more than {settings.OVERSIGHT_JPEG_MAX_SCANS} JPEG scans.", code="too_many_scans"
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
    """Accept one frame for matching, or turn it away.

    Turned away (not accepted, counted at the door): bad frame (400/413/415, not counted); the
    camera's deployment not live or outside its window (409, ``frames_refused``); too many frames of
    this camera already in flight (429, ``frames_shed`` — live video has a newer frame coming, so
    dropping beats queueing without bound); frame store or broker down (503, ``frames_shed``);
    PostgreSQL down (503 from the API's handler, nothing can be counted). Accepted (202): counted in
    ``frames_accepted`` *before* the task is queued, so no worker outcome can precede it; every
    accepted frame then ends in exactly one counted outcome (``frame_process``).
    No transaction: nothing is written except counters. The bytes go to the frame store, the task
    message carries only their random key.
    """
    try:
        _check_frame(data)
    except RedisError as error:
        # The cache (the live backend's choice, read for the detector's minimum face size) is down: the frame is
        # turned away for a reason of ours, counted shed like any other 503 of the door.
        counters_add(camera_id=camera.pk, at=timezone.now(), frames_shed=1)
        logger.warning("Frame for camera %s dropped: cache unavailable (%s)", camera.pk, type(error).__name__)
        raise MatchingUnavailable("The matching service is unavailable; the frame was dropped.") from None
    now = timezone.now()
    deployment = Deployment.objects.only("status", "starts_at", "ends_at").get(pk=camera.deployment_id)
    if not _deployment_running(deployment, now):
        counters_add(camera_id=camera.pk, at=now, frames_refused=1)
        raise DeploymentNotLive("The camera's deployment is not live: frames are refused.")
    key, in_flight = _frame_admit(camera_id=camera.pk, data=data, now=now)
    del data
    _frame_accept(camera_id=camera.pk, key=key, now=now)
    try:
        _frame_dispatch(key=key, camera_id=camera.pk, received_at=now)
    except FramesShed:
        _frame_unaccept(camera_id=camera.pk, key=key, now=now)
        raise
    except BROKER_ERRORS as error:
        # Not confirmed (refused, nacked, no confirm in time, no connection): the frame is turned away, not lost.
        _frame_unaccept(camera_id=camera.pk, key=key, now=now)
        logger.warning("Frame for camera %s dropped: broker unavailable (%s)", camera.pk, type(error).__name__)
        raise MatchingUnavailable("The matching service is unavailable; the frame was dropped.") from None
    return FrameReceipt(camera_id=camera.pk, received_at=now, in_flight=in_flight)


# What a publish that the broker did not confirm raises: kombu's connection errors, a socket error or timeout (no
# confirm within CELERY_BROKER_CONFIRM_TIMEOUT), RabbitMQ's nack (``MessageNacked``) or a channel error.
BROKER_ERRORS = (KombuOperationalError, OSError, AMQPError, MessageNacked)


def _frame_admit(*, camera_id: int, data: bytes, now: datetime) -> tuple[str, int]:
    """Take an in-flight slot and put the bytes in the frame store; shed (429) or 503 otherwise."""
    key = frames.frame_key_new()
    try:
        in_flight = frames.inflight_acquire(camera_id, key)
        if in_flight > settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA:
            frames.inflight_release(camera_id, key)
            counters_add(camera_id=camera_id, at=now, frames_shed=1)
            raise FramesShed("Too many frames from this camera are waiting; this one was dropped.")
        frames.frame_put(data, key)
    except (RedisError, OSError) as error:
        # The frame store is down: nothing was queued, so the camera is told to retry (503), not 500.
        counters_add(camera_id=camera_id, at=now, frames_shed=1)
        logger.warning("Frame for camera %s dropped: frame store unavailable (%s)", camera_id, type(error).__name__)
        raise MatchingUnavailable("The matching service is unavailable; the frame was dropped.") from None
    return key, in_flight


def _frame_accept(*, camera_id: int, key: str, now: datetime) -> None:
    """Count the frame accepted and record it in the frame ledger (``frame_ledger.py``). PostgreSQL down: the
    frame is withdrawn and the error answers 503."""
    try:
        frame_ledger_accept(camera_id=camera_id, key=key, received_at=now)
    except DatabaseError:
        with contextlib.suppress(RedisError, OSError):
            frames.frame_discard(key)
            frames.inflight_release(camera_id, key)
        raise


def _frame_unaccept(*, camera_id: int, key: str, now: datetime) -> None:
    """The task could not be queued after the frame was counted accepted: withdraw the bytes (a
    task published after all then counts nothing) and move the count from accepted to shed in one
    statement, so the camera's 503 is a frame turned away, not one lost."""
    with contextlib.suppress(RedisError, OSError):  # the broker's Redis may be the frame store
        frames.frame_withdraw(key)
        frames.inflight_release(camera_id, key)
    frame_ledger_unaccept(camera_id=camera_id, key=key, received_at=now)


def _frame_dispatch(*, key: str, camera_id: int, received_at: datetime) -> None:
    """Hand the accepted frame to whoever matches it: the embedded frame worker when ``manage.py
    serve`` runs one (``embedded.py``: the request does not wait), else the ``process_frame`` task (a
    broker's workers, or run in this thread where there is neither). The embedded worker's queue
    full: ``FramesShed`` (the caller moves the count from accepted to shed: 429)."""
    from recognition.deployments import embedded
    from recognition.deployments.tasks import process_frame

    worker = embedded.worker()
    if worker is not None:
        if not worker.submit(key, camera_id, received_at.isoformat()):
            raise FramesShed("The matching queue is full; this frame was dropped.")
        return

    # argsrepr: the worker log, events and monitoring show a placeholder, not even the key.
    # RabbitMQ: with publisher confirms (settings), this returns only once the broker has the message.
    process_frame.apply_async(
        args=[key, camera_id, received_at.isoformat()],
        argsrepr=f"(<frame>, camera={camera_id})",
        kwargsrepr="{}",
        ignore_result=True,
        confirm_timeout=settings.CELERY_BROKER_CONFIRM_TIMEOUT,
    )


def _crop_jpeg(engine, picture, face) -> bytes:
    from PIL import Image

    crop = engine.crops([picture], [[face.face]])[0]
    out = io.BytesIO()
    Image.fromarray(crop).save(out, format="JPEG", quality=90)
    return out.getvalue()


class FrameOutcomePending(Exception):
    """The frame's outcome cannot be counted now (PostgreSQL or the frame store unreachable through
    the in-process retries): the task retries later with ``pending`` — the outcome to count, or
    None to claim the frame again."""

    def __init__(self, pending: dict | None, reason: str) -> None:
        super().__init__(reason)
        self.pending = pending
        self.reason = reason


TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
_DB_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)  # about 8 s in all, then the task retries (tasks.py)


def _with_database(step):
    """Run a database step, retrying transient errors (a restart, a failover) a bounded number of
    times on a fresh connection; then give up with ``FrameOutcomePending``."""
    for delay in (*_DB_RETRY_DELAYS, None):
        try:
            return step()
        except TRANSIENT_DATABASE_ERRORS:
            if delay is None:
                break
            with contextlib.suppress(Exception):
                db_connection.close()
            time.sleep(delay)
    raise FrameOutcomePending({"outcome": FrameDropReason.DATABASE_UNAVAILABLE}, FrameDropReason.DATABASE_UNAVAILABLE)


def frame_outcome_settle(*, frame_key: str, camera_id: int, received_at: str, pending: dict) -> str:
    """Count an outcome a previous try could not (``FrameOutcomePending``)."""
    outcome = pending["outcome"]
    _with_database(
        lambda: frame_outcome_count(
            frame_key=frame_key,
            camera_id=camera_id,
            received_at=datetime.fromisoformat(received_at),
            outcome=outcome,
            faces_scanned=int(pending.get("faces_scanned", 0)),
            alerts_raised=int(pending.get("alerts_raised", 0)),
        )
    )
    with contextlib.suppress(RedisError, OSError):  # counted: the claim marker has done its job
        frames.frame_done(camera_id, frame_key)
    return outcome


def _missing_reason(claim_state: str, received: datetime) -> str:
    if claim_state == "taken":
        return FrameDropReason.WORKER_LOST  # an earlier delivery claimed the bytes and never counted
    if timezone.now() - received >= timedelta(seconds=settings.OVERSIGHT_FRAME_TTL_SECONDS):
        return FrameDropReason.EXPIRED
    return FrameDropReason.BYTES_LOST


def frame_process(*, frame_key: str, camera_id: int, received_at: str) -> str:
    """Claim the frame's bytes (deleting them), detect and embed every face, search the deployment's
    gallery, raise or attach alerts for faces at or above the threshold; count the frame's one
    outcome (``frame_outcome_count``, exactly once per frame key).

    A redelivered task finds the bytes claimed and counts ``worker_lost`` — unless the first
    delivery counted already (the ledger), in which case it counts nothing. Re-checks the
    deployment (still live, inside its window) and the agreements (only active ones supply the
    gallery). Transient database errors are retried here, then by the task with the outcome
    pending. The in-flight slot is released whatever happens. Returns a short outcome word (no
    biometric data).
    """
    received = datetime.fromisoformat(received_at)

    def count(outcome: str, **figures: int) -> str:
        try:
            _with_database(
                lambda: frame_outcome_count(
                    frame_key=frame_key, camera_id=camera_id, received_at=received, outcome=outcome, **figures
                )
            )
        except FrameOutcomePending as pending:
            pending.pending = {"outcome": outcome, **figures}  # the outcome is known: count it later
            raise
        return outcome

    def run() -> str:
        try:
            claim = frames.frame_claim(frame_key)
        except (RedisError, OSError):
            raise FrameOutcomePending(None, FrameDropReason.FRAME_STORE_UNAVAILABLE) from None
        if claim.state == "withdrawn":
            return "withdrawn"  # the door could not queue it and counted it shed
        if claim.data is None:
            return count(_missing_reason(claim.state, received))
        try:
            figures = _frame_match(claim.data, camera_id=camera_id, received=received)
        except FrameOutcomePending:
            raise
        except TRANSIENT_DATABASE_ERRORS:  # outside a retried step (e.g. reading the live backend)
            raise FrameOutcomePending(
                {"outcome": FrameDropReason.DATABASE_UNAVAILABLE}, FrameDropReason.DATABASE_UNAVAILABLE
            ) from None
        except RedisError as error:
            # The cache (live backend, gallery version) went away mid-frame: an outage, not a bug. The bytes are
            # claimed, so the frame cannot be matched later: it is counted under the transient reason.
            logger.warning("Frame for camera %s: cache unavailable (%s)", camera_id, type(error).__name__)
            return count(FrameDropReason.CACHE_UNAVAILABLE)
        except Exception:  # noqa: BLE001 - a bug must still leave the frame counted (and logged)
            logger.exception("Frame for camera %s: matching failed", camera_id)
            return count(FrameDropReason.FAILED)
        finally:
            claim = None
        if figures is None:
            return "no_camera"  # cannot happen while counters protect the camera; nothing to count against
        return count(figures.pop("outcome"), **figures)

    try:
        outcome = run()
    except BaseException:
        # Interrupted (a time limit, a shutdown) or deferred: leave the claim marker, so that a
        # redelivery knows the frame was lost with this try; release the slot (it expires anyway).
        with contextlib.suppress(RedisError, OSError):
            frames.inflight_release(camera_id, frame_key)
        raise
    with contextlib.suppress(RedisError, OSError):  # the marker and the slot expire on their own
        frames.frame_done(camera_id, frame_key)
    return outcome


def _frame_match(data: bytes, *, camera_id: int, received: datetime) -> dict | None:
    """Decode, detect, embed, search, alert. Returns the outcome and its figures; nothing else
    survives the call (the picture, faces and embeddings are locals)."""
    from recognition.engine import ImageRejected, decode_image
    from recognition.selectors import gallery_for_agreements, live_engine

    camera = _with_database(lambda: Camera.objects.select_related("deployment").filter(pk=camera_id).first())
    if camera is None:
        return None
    deployment = camera.deployment
    now = timezone.now()
    if not _deployment_running(deployment, now):
        return {"outcome": FrameDropReason.NOT_LIVE}
    if now - received > timedelta(seconds=settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS):
        return {"outcome": FrameDropReason.LATE}
    try:
        picture = decode_image(data, max_pixels=settings.OVERSIGHT_FRAME_MAX_PIXELS)
    except ImageRejected:
        return {"outcome": FrameDropReason.UNREADABLE}
    finally:
        del data
    engine = live_engine()  # taken once: this frame's probes and gallery are of one backend, even mid-switch
    faces = engine.analyse_live(picture)  # with other threads' frames in one pass where batching is on
    raised = 0
    if faces:
        review_id, agreement_ids = _with_database(lambda: matched_watchlist(deployment))
        gallery = (
            _with_database(lambda: gallery_for_agreements(agreement_ids, backend=engine.backend, review_id=review_id))
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
                sighting = Sighting(
                    deployment_id=deployment.pk,
                    camera_id=camera_id,
                    image_id=int(image_id),
                    score=float(score),
                    threshold=threshold,
                    crop_jpeg=_crop_jpeg(engine, picture, face),
                    seen_at=now,
                    embedding=face.embedding,
                    backend=engine.backend,
                )
                try:
                    _alert, created = _with_database(lambda s=sighting: alert_record_sighting(sighting=s))
                except FrameOutcomePending as pending:
                    pending.pending = {**pending.pending, "alerts_raised": raised}
                    raise
                raised += int(created)
    scanned = len(faces)
    del faces, picture
    return {"outcome": PROCESSED, "faces_scanned": scanned, "alerts_raised": raised}
