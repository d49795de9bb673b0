"""Live-matching tasks.

``process_frame``'s arguments are a random frame-store key, a camera id and a timestamp — never the
frame: the bytes wait in Redis under that key for seconds at most and are deleted when read
(``recognition.deployments.frames``). ``ignore_result=True``: nothing goes to a result backend.
Submitters pass ``argsrepr`` so logs and events show a placeholder.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="recognition.deployments.tasks.process_frame",
    ignore_result=True,
    acks_late=True,
    # A frame is worth seconds: no retries (a redelivered message finds its bytes gone anyway).
    max_retries=0,
    soft_time_limit=60,
    time_limit=90,
)
def process_frame(frame_key: str, camera_id: int, received_at: str) -> None:
    """Match one frame (see ``recognition.deployments.ingest.frame_process``). Idempotent."""
    from recognition.deployments.ingest import frame_process

    frame_process(frame_key=frame_key, camera_id=int(camera_id), received_at=received_at)


@shared_task(name="recognition.deployments.tasks.deployments_end_due", acks_late=True, ignore_result=True)
def deployments_end_due() -> int:
    """Beat: end deployments whose window has closed (frames are refused from then on regardless)."""
    from recognition.deployments.services import deployments_end_due as end_due

    return end_due()
