"""Frame in, the door's half (ARCHITECTURE.md flow 2): camera gateway or ``ingest_video`` → ``frame_submit`` (cheap
checks, the frame store, the frame ledger) → ``dispatch.frame_dispatch`` → ``process_frame`` task →
``matching.frame_process`` (engine → gallery → counters or alert).

Non-match data never persists: the door keeps a frame's bytes only in the frame store, under a random key, until the
worker claims them (``matching.py``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from amqp.exceptions import AMQPError, MessageNacked
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from recognition.deployments import frames
from recognition.deployments.dispatch import frame_dispatch
from recognition.deployments.errors import (
    DeploymentNotLive,
    FrameRefused,
    FramesShed,
    FrameTooLarge,
    FrameUnsupported,
    MatchingUnavailable,
)
from recognition.deployments.frame_ledger import frame_ledger_accept, frame_ledger_unaccept
from recognition.deployments.matching import deployment_running
from recognition.deployments.models import Camera, Deployment
from recognition.deployments.services.frames import counters_add

logger = logging.getLogger(__name__)

ACCEPTED_FRAME_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True)
class FrameReceipt:
    camera_id: int
    received_at: datetime
    in_flight: int


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
    if not deployment_running(deployment, now):
        counters_add(camera_id=camera.pk, at=now, frames_refused=1)
        raise DeploymentNotLive("The camera's deployment is not live: frames are refused.")
    key, in_flight = _frame_admit(camera_id=camera.pk, data=data, now=now)
    del data
    _frame_accept(camera_id=camera.pk, key=key, now=now)
    try:
        frame_dispatch(key=key, camera_id=camera.pk, received_at=now)
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
