"""Frame matching, the worker's half of a frame's way in (ARCHITECTURE.md flow 2): the door
(``ingest.frame_submit``) → ``dispatch.frame_dispatch`` → the ``process_frame`` task (a broker's worker, or the
embedded frame worker) → ``frame_process`` here (engine → gallery → counters or alert).

Non-match data never persists. In ``frame_process`` the decoded picture, the detected faces and
their embeddings are local variables of one function call: nothing below threshold is written to
the database, a file, the cache or a log. What remains is a number in ``FaceScanCounter``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db import connection as db_connection
from django.utils import timezone
from redis.exceptions import RedisError

from recognition.deployments import frames
from recognition.deployments.models import Camera, Deployment, DeploymentStatus, FrameDropReason
from recognition.deployments.services.alerts import Sighting, alert_record_sighting
from recognition.deployments.services.frames import PROCESSED, frame_outcome_count
from recognition.deployments.services.planning import matched_watchlist

logger = logging.getLogger(__name__)


def deployment_running(deployment: Deployment, now: datetime) -> bool:
    """Frames are taken and matched only while the deployment is live and inside its window (the door checks it,
    and the worker again when the frame comes off the queue)."""
    return deployment.status == DeploymentStatus.LIVE and deployment.starts_at <= now < deployment.ends_at


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
    if not deployment_running(deployment, now):
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
