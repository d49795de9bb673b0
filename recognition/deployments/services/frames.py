"""Frame outcomes counted exactly once, in the camera's hourly counters (the only trace of faces that did not match)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from recognition.deployments.models import (
    FaceScanCounter,
    FrameDropCounter,
    FrameDropReason,
    FrameOutcome,
)


def counters_add(*, camera_id: int, at: datetime | None = None, **increments: int) -> None:
    """Add to the camera's hourly counters (the only trace of faces that did not match)."""
    increments = {k: v for k, v in increments.items() if v}
    if not increments:
        return
    hour = _hour(at or timezone.now())
    FaceScanCounter.objects.get_or_create(camera_id=camera_id, hour=hour)
    FaceScanCounter.objects.filter(camera_id=camera_id, hour=hour).update(
        **{name: F(name) + value for name, value in increments.items()}
    )


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


PROCESSED = "processed"


def frame_outcome_count(
    *,
    frame_key: str,
    camera_id: int,
    received_at: datetime,
    outcome: str,
    faces_scanned: int = 0,
    alerts_raised: int = 0,
    key_digest: str = "",
) -> bool:
    """Count an accepted frame's one outcome — ``"processed"`` or a ``FrameDropReason`` — in the
    hour it was received. Exactly once: the ``FrameOutcome`` ledger row (the key's digest) is
    written in the same transaction as the counters, so a redelivered or retried task counts
    nothing (returns False). ``key_digest``: the sweep of lost frames knows only the digest."""
    if outcome != PROCESSED and outcome not in FrameDropReason.values:
        raise ValueError(f"unknown frame outcome {outcome!r}")
    digest = key_digest or hashlib.sha256(frame_key.encode()).hexdigest()
    with transaction.atomic():
        _, created = FrameOutcome.objects.get_or_create(
            key_digest=digest, defaults={"outcome": outcome, "counted_at": timezone.now()}
        )
        if not created:
            return False
        if outcome == PROCESSED:
            counters_add(
                camera_id=camera_id,
                at=received_at,
                frames_processed=1,
                faces_scanned=faces_scanned,
                alerts_raised=alerts_raised,
            )
        else:
            counters_add(camera_id=camera_id, at=received_at, frames_dropped=1, alerts_raised=alerts_raised)
            hour = _hour(received_at)
            FrameDropCounter.objects.get_or_create(camera_id=camera_id, hour=hour, reason=outcome)
            FrameDropCounter.objects.filter(camera_id=camera_id, hour=hour, reason=outcome).update(
                frames=F("frames") + 1
            )
    return True


def frame_outcomes_prune(*, now: datetime | None = None) -> int:
    """Forget ledger rows older than ``OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS`` (beat, hourly)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS)
    deleted, _ = FrameOutcome.objects.filter(counted_at__lt=cutoff).delete()
    return deleted
