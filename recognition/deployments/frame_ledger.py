"""The frame ledger: every frame answered 202 is recorded, so that none stays without an outcome (issue 26).

A 202 means two things at once, in this order: the frame is counted ``frames_accepted`` and recorded here
(``FrameAccepted``: the SHA-256 of its random frame-store key, its camera and when it was received), in one
transaction; then its task is published, and the publish has been confirmed (RabbitMQ publisher confirms; on Redis
the publish returning). A publish that fails or is not confirmed withdraws both in one transaction
(``frame_ledger_unaccept``: the count moves from accepted to shed, the record goes) and the door answers 503.

A confirmed task can still be lost after the 202: a broker node killed before it wrote the message to disk, a
queue deleted by hand. Its frame would then stay accepted with no outcome for ever (``reconcile_frames`` failing,
``oversight_frames_outstanding`` never coming down). ``frames_settle_lost`` (beat, every minute; the embedded
scheduler under ``manage.py serve``) settles each recorded frame that has no ``FrameOutcome`` this long after it was
received (``OVERSIGHT_FRAME_LOST_AFTER_SECONDS``: longer than its bytes live and than any redelivery takes) as
dropped, reason ``task_lost``, through ``frame_outcome_count`` (exactly once: a task that turns up later counts
nothing). Records of frames whose outcome was counted are deleted by the same sweep.

Nothing here holds an image, a face or the frame-store key itself.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from recognition.deployments.models import FrameAccepted, FrameDropReason, FrameOutcome
from recognition.deployments.services.frames import counters_add, frame_outcome_count

logger = logging.getLogger(__name__)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def frame_ledger_accept(*, camera_id: int, key: str, received_at: datetime) -> None:
    """Count the frame accepted and record it, in one transaction."""
    with transaction.atomic():
        FrameAccepted.objects.create(key_digest=_digest(key), camera_id=camera_id, received_at=received_at)
        counters_add(camera_id=camera_id, at=received_at, frames_accepted=1)


def frame_ledger_unaccept(*, camera_id: int, key: str, received_at: datetime) -> None:
    """The task was not confirmed by the broker: the frame was turned away after all (counted shed, not accepted),
    and its record goes, in one transaction."""
    with transaction.atomic():
        FrameAccepted.objects.filter(key_digest=_digest(key)).delete()
        counters_add(camera_id=camera_id, at=received_at, frames_accepted=-1, frames_shed=1)


def frames_settle_lost(*, now: datetime | None = None) -> int:
    """Forget the records of frames whose outcome is counted; count each frame still without one after
    ``OVERSIGHT_FRAME_LOST_AFTER_SECONDS`` as dropped, ``task_lost``. Returns how many were settled as lost."""
    now = now or timezone.now()
    counted = FrameOutcome.objects.filter(key_digest=OuterRef("key_digest"))
    FrameAccepted.objects.filter(Exists(counted)).delete()
    cutoff = now - timedelta(seconds=settings.OVERSIGHT_FRAME_LOST_AFTER_SECONDS)
    lost = 0
    for record in FrameAccepted.objects.filter(received_at__lt=cutoff).order_by("received_at")[:10_000]:
        with transaction.atomic():
            lost += frame_outcome_count(
                frame_key="",
                key_digest=record.key_digest,
                camera_id=record.camera_id,
                received_at=record.received_at,
                outcome=FrameDropReason.TASK_LOST,
            )
            record.delete()
    if lost:
        logger.warning("%d accepted frame(s) had no outcome after their time-to-live: counted task_lost", lost)
    return lost
