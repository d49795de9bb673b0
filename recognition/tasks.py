"""Enrolment tasks. Arguments are primary keys; every task is idempotent (see ``recognition.enrolment``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


@shared_task(
    name="recognition.tasks.enrol_watchlist_image",
    acks_late=True,
    # Transient only (a dropped connection, a failover, a lock timeout). An IntegrityError or a bad
    # query fails the same way on every try: it must surface at once, not after five retries.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def enrol_watchlist_image(image_id: int) -> str:
    """Detect, embed and store the template of one watchlist image (or reject it with a reason).

    Retried only for transient database errors; a worker killed mid-task is redelivered
    (``acks_late`` + ``reject_on_worker_lost``) and the rerun finds the work done or redoes it once.
    """
    from recognition.enrolment import watchlist_image_enrol

    outcome = watchlist_image_enrol(image_id=int(image_id))
    logger.info("Watchlist image %s enrolment: %s", image_id, outcome)  # ids and outcome only, never biometrics
    return outcome


@shared_task(name="recognition.tasks.enrol_pending_images", acks_late=True)
def enrol_pending_images(limit: int = 200) -> int:
    """Re-enqueue images still ``received`` (e.g. the broker was down when they were uploaded, or the
    task was lost with a worker), those still waiting for their check (``checking``: the uploaded bytes kept in
    ``WatchlistImageUpload``, a single or a bulk upload's) as those waiting for enrolment. On the beat schedule (``enrol-pending-images``); at most ``limit``
    a run. Enqueuing an image whose own task is merely slow is harmless: enrolment is idempotent and
    locks the image row before it writes."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from governance.watchlist.models import ImageStatus, WatchlistImage

    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        WatchlistImage.objects.filter(
            Q(content__isnull=False) | Q(pending_upload__isnull=False),
            status=ImageStatus.RECEIVED,
            received_at__lt=stale,
            recorded_retrospectively=False,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for image_id in ids:
        enrol_watchlist_image.delay(image_id)
    return len(ids)
