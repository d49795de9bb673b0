"""Frame dispatch: the one place an accepted frame is handed to whoever matches it. The door
(``ingest.frame_submit``) calls it; the embedded frame worker (``embedded.py``) and the ``process_frame`` task
(``tasks.py``) run the frame and never call back here.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from recognition.deployments import embedded
from recognition.deployments.errors import FramesShed
from recognition.deployments.tasks import process_frame


def frame_dispatch(*, key: str, camera_id: int, received_at: datetime) -> None:
    """Hand the accepted frame to whoever matches it: the embedded frame worker when ``manage.py
    serve`` runs one (``embedded.py``: the request does not wait), else the ``process_frame`` task (a
    broker's workers, or run in this thread where there is neither). The embedded worker's queue
    full: ``FramesShed`` (the caller moves the count from accepted to shed: 429)."""
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
