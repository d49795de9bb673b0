"""Live-matching tasks.

``process_frame``'s arguments are a random frame-store key, a camera id and a timestamp — never the
frame: the bytes wait in Redis under that key for seconds at most and are deleted when read
(``recognition.deployments.frames``). ``ignore_result=True``: nothing goes to a result backend.
Submitters pass ``argsrepr`` so logs and events show a placeholder.
"""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


# Deferred counts: retried every few seconds, then each minute, for about this long in all.
FRAME_OUTCOME_RETRIES = 30


@shared_task(
    bind=True,
    name="recognition.deployments.tasks.process_frame",
    ignore_result=True,
    acks_late=True,
    # Retries carry the frame's pending outcome, never its bytes: a frame is worth seconds, so it is
    # never matched again after a failure, but its outcome is always counted (exactly once: the
    # FrameOutcome ledger).
    max_retries=FRAME_OUTCOME_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def process_frame(self, frame_key: str, camera_id: int, received_at: str, pending: dict | None = None) -> str:
    """Match one frame (``recognition.deployments.matching.frame_process``) or settle the outcome an
    earlier try could not count. Idempotent."""
    from recognition.deployments.matching import FrameOutcomePending, frame_outcome_settle, frame_process
    from recognition.deployments.models import FrameDropReason

    camera_id = int(camera_id)
    try:
        if pending:
            return frame_outcome_settle(
                frame_key=frame_key, camera_id=camera_id, received_at=received_at, pending=pending
            )
        return frame_process(frame_key=frame_key, camera_id=camera_id, received_at=received_at)
    except FrameOutcomePending as deferred:
        settle = deferred.pending
        if settle is None and self.request.retries >= 3:
            # The frame store stayed down: its bytes are as good as gone; count that.
            settle = {"outcome": FrameDropReason.FRAME_STORE_UNAVAILABLE}
        if self.request.is_eager:
            # Embedded default (tasks in-process): no broker to wait in, so one more in-process try.
            settle = settle or {"outcome": FrameDropReason.FRAME_STORE_UNAVAILABLE}
            try:
                return frame_outcome_settle(
                    frame_key=frame_key, camera_id=camera_id, received_at=received_at, pending=settle
                )
            except FrameOutcomePending:
                logger.error("Frame for camera %s: outcome %s could not be counted", camera_id, deferred.reason)
                return "uncounted"
        if self.request.retries >= self.max_retries:
            logger.error("Frame for camera %s: outcome %s could not be counted", camera_id, deferred.reason)
            raise
        logger.warning("Frame for camera %s: %s; its outcome is counted later", camera_id, deferred.reason)
        raise self.retry(
            kwargs={
                "frame_key": frame_key,
                "camera_id": camera_id,
                "received_at": received_at,
                "pending": settle,
            },
            args=[],
            countdown=min(60, 2 ** min(self.request.retries, 6)),
            argsrepr=f"(<frame>, camera={camera_id})",
            kwargsrepr="{}",
        ) from None


@shared_task(name="recognition.deployments.tasks.frame_outcomes_prune", acks_late=True, ignore_result=True)
def frame_outcomes_prune() -> int:
    """Beat, hourly: forget the per-frame ledger rows no redelivery can need any more."""
    from recognition.deployments.services.frames import frame_outcomes_prune as prune

    return prune()


@shared_task(name="recognition.deployments.tasks.deployments_end_due", acks_late=True, ignore_result=True)
def deployments_end_due() -> int:
    """Beat: end deployments whose window has closed (frames are refused from then on regardless)."""
    from recognition.deployments.services.golive import deployments_end_due as end_due

    return end_due()


@shared_task(name="recognition.deployments.tasks.frames_settle_lost", acks_late=True, ignore_result=True)
def frames_settle_lost() -> int:
    """Beat, every minute: accepted frames still without an outcome after their time-to-live are counted lost
    (``task_lost``: their task never reached a worker), so that none stays outstanding (``frame_ledger.py``)."""
    from recognition.deployments.frame_ledger import frames_settle_lost as settle

    return settle()
