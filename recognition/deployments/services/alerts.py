"""A sighting of a watchlist face raises an alert, or joins the open one for the same image and deployment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.watchlist.models import WatchlistImage
from governance.watchlist.selectors import image_matchable_q
from recognition.deployments.models import (
    Alert,
    AlertStatus,
    Deployment,
)
from recognition.deployments.watchlists import deployment_watchlist_images


@dataclass(frozen=True)
class Sighting:
    deployment_id: int
    camera_id: int
    image_id: int
    score: float
    threshold: float
    crop_jpeg: bytes
    seen_at: datetime
    # The probe's embedding (float32 vector) and ``FaceEngine.backend``: kept, encrypted, with the best
    # sighting so a subject access request can search the alerts by face (issue 12).
    embedding: Any = None
    backend: str = ""


def _probe_fields(sighting: Sighting) -> dict[str, Any]:
    """The stored probe of a sighting: crop and embedding encrypted under the same key, the backend, when."""
    import numpy as np

    embedding = b""
    if sighting.embedding is not None:
        vector = np.asarray(sighting.embedding, dtype=np.float32).reshape(-1)
        embedding = encryption.encrypt(vector.tobytes())
    return {
        "probe_crop": encryption.encrypt(sighting.crop_jpeg),
        "probe_key_id": encryption.key_fingerprint(),
        "probe_embedding": embedding,
        "probe_backend": sighting.backend if sighting.embedding is not None else "",
        "probe_changed_at": timezone.now(),
    }


def alert_record_sighting(*, sighting: Sighting) -> tuple[Alert | None, bool]:
    """Raise an alert, or attach the sighting to the open one for the same image and deployment
    (within ``OVERSIGHT_ALERT_DEDUP_MINUTES`` of its last sighting). Returns (alert, created).
    Only an alert still awaiting review is open: a sighting after the alert was rejected or confirmed
    raises a new alert, which goes to the review queue.

    Concurrency: ``open_key`` is unique, so when two workers see the same person at once, one
    insert wins and the other's fails; it retries and attaches. Audit: ``combination`` (a probe
    matched against the watchlist) when raised; attached sightings only update the alert.
    Returns (None, False) when the image may no longer be matched (``watchlist_images_matchable``: withdrawn,
    erased or restricted since the gallery was read): no alert is raised nor a sighting attached, and every
    worker's galleries are told to drop it (a gallery that still held it was stale).
    """
    if not deployment_watchlist_images(Deployment(pk=sighting.deployment_id)).filter(pk=sighting.image_id).exists():
        from recognition.gallery_cache import galleries_invalidate

        transaction.on_commit(lambda: galleries_invalidate(remove=[sighting.image_id]))
        return None, False
    window = timedelta(minutes=settings.OVERSIGHT_ALERT_DEDUP_MINUTES)
    open_key = f"{sighting.deployment_id}:{sighting.image_id}"
    for _attempt in range(5):
        try:
            with transaction.atomic():
                alert = lock_rows(Alert.objects).filter(open_key=open_key).first()
                # A sighting joins an alert still awaiting review only: once reviewers closed it (rejected or
                # confirmed), a new sighting is a new event for people to review, never a silent addition.
                if (
                    alert is not None
                    and alert.status == AlertStatus.PENDING
                    and alert.last_seen_at >= sighting.seen_at - window
                ):
                    alert.sightings = F("sightings") + 1
                    alert.last_seen_at = max(alert.last_seen_at, sighting.seen_at)
                    fields = ["sightings", "last_seen_at"]
                    if sighting.score > alert.score:  # keep the best view for the reviewers (and for search)
                        alert.score = sighting.score
                        probe = _probe_fields(sighting)
                        for name, value in probe.items():
                            setattr(alert, name, value)
                        fields += ["score", *probe]
                    alert.save(update_fields=fields)
                    alert.refresh_from_db(fields=["sightings"])
                    return alert, False
                if alert is not None:
                    Alert.objects.filter(pk=alert.pk).update(open_key=None)
                image = (
                    WatchlistImage.objects.select_related("agreement")
                    .filter(image_matchable_q(), pk=sighting.image_id)
                    .first()
                )
                if image is None:
                    return None, False
                alert = Alert.objects.create(
                    deployment_id=sighting.deployment_id,
                    camera_id=sighting.camera_id,
                    watchlist_image=image,
                    supplying_organisation_id=image.supplying_organisation_id,
                    subject_reference=image.subject_reference,
                    agreement=image.agreement,
                    score=sighting.score,
                    threshold=sighting.threshold,
                    first_seen_at=sighting.seen_at,
                    last_seen_at=sighting.seen_at,
                    **_probe_fields(sighting),
                    retention_due_at=sighting.seen_at + timedelta(days=image.agreement.match_retention_days),
                    open_key=open_key,
                )
                audit_record(
                    action=AuditAction.COMBINATION,
                    event="alert.raised",
                    actor=None,
                    target=alert,
                    details={
                        "deployment": sighting.deployment_id,
                        "camera": sighting.camera_id,
                        "watchlist_image": image.pk,
                        "score": round(sighting.score, 4),
                        "threshold": sighting.threshold,
                        "retention_due_at": alert.retention_due_at.isoformat(),
                    },
                )
                return alert, True
        except IntegrityError:
            continue  # another worker opened it first: attach on the next pass
    raise StateConflict("Could not record the sighting after repeated conflicts.", code="alert_conflict")
