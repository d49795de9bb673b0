"""Frame accounting: every accepted frame ends in exactly one counted outcome.

accepted = processed + dropped (with a reason) for every camera and hour; frames turned away at the
door (409 refused, 429/503 shed) are never accepted. Redelivery of a task (``acks_late``: the worker
died mid-frame, or its acknowledgement was lost with the broker) never counts twice. These run the
real intake and the real task function in this process; ``tests/faults/`` kills real workers and
restarts real servers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from recognition.deployments import frames
from recognition.deployments.matching import FrameOutcomePending, frame_outcome_settle, frame_process
from recognition.deployments.models import FaceScanCounter, FrameDropCounter, FrameOutcome
from recognition.deployments.selectors import frame_accounting, frames_unreconciled
from recognition.deployments.services.frames import counters_add
from tests.conftest import require
from tests.recognition.deployments.test_frames_api import camera_client, post_frame, small_jpeg

pytestmark = pytest.mark.django_db


def totals(camera) -> dict:
    rows = [r for r in frame_accounting() if r["camera_id"] == camera.pk]
    out = {k: sum(r[k] for r in rows) for k in ("accepted", "processed", "dropped", "shed", "refused")}
    reasons: dict[str, int] = {}
    for r in rows:
        for k, v in r["dropped_by_reason"].items():
            reasons[k] = reasons.get(k, 0) + v
    out["reasons"] = reasons
    return out


def accept(camera, data: bytes = b"", *, received=None) -> tuple[str, str]:
    """What the door does for an accepted frame: bytes in the store, the frame counted accepted."""
    received = received or timezone.now()
    key = frames.frame_put(data or small_jpeg())
    counters_add(camera_id=camera.pk, at=received, frames_accepted=1)
    return key, received.isoformat()


def test_frames_posted_reconcile_door_and_worker_outcomes_apart(cast, live_deployment, settings):
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    assert post_frame(client, camera, small_jpeg()).status_code == 202
    whole = small_jpeg((320, 240))
    assert post_frame(client, camera, whole[: len(whole) // 2]).status_code == 202  # header fine, body cut
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 0
    assert post_frame(client, camera, small_jpeg()).status_code == 429
    figures = totals(camera)
    assert figures == {
        "accepted": 2,
        "processed": 1,
        "dropped": 1,
        "shed": 1,
        "refused": 0,
        "reasons": {"unreadable": 1},
    }
    assert frames_unreconciled(include_unsettled=True) == []
    call_command("reconcile_frames", "--include-unsettled")


def test_a_task_redelivered_after_its_worker_died_counts_worker_lost_once(cast, live_deployment):
    camera = live_deployment.camera
    key, received = accept(camera)
    claim = frames.frame_claim(key)  # the first worker claims the bytes ... and is killed
    assert claim.state == "bytes" and claim.data
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "worker_lost"
    # A second redelivery (the acknowledgement lost again) counts nothing more.
    frame_process(frame_key=key, camera_id=camera.pk, received_at=received)
    assert totals(camera)["reasons"] == {"worker_lost": 1}
    assert totals(camera)["accepted"] == totals(camera)["dropped"] == 1


def test_a_processed_frame_whose_ack_was_lost_is_not_counted_again(cast, live_deployment):
    camera = live_deployment.camera
    key, received = accept(camera)
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "processed"
    # The broker restarted before the acknowledgement: the message comes again.
    frame_process(frame_key=key, camera_id=camera.pk, received_at=received)
    figures = totals(camera)
    assert (figures["accepted"], figures["processed"], figures["dropped"]) == (1, 1, 0)
    assert FrameOutcome.objects.count() == 1


def test_bytes_gone_are_told_apart_lost_expired_late(cast, live_deployment, settings):
    camera = live_deployment.camera
    # Lost: the frame store restarted while the frame waited (within its expiry).
    key, received = accept(camera)
    frames.frame_discard(key)
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "bytes_lost"
    # Expired: the frame waited longer than its bytes live.
    old = timezone.now() - timedelta(seconds=settings.OVERSIGHT_FRAME_TTL_SECONDS + 1)
    key, received = accept(camera, received=old)
    frames.frame_discard(key)
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "expired"
    # Late: the bytes are there but the frame is older than the age limit when a worker reaches it.
    settings.OVERSIGHT_FRAME_TTL_SECONDS = 120
    key, received = accept(camera, received=timezone.now() - timedelta(seconds=60))
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "late"
    assert frames.frame_claim(key).state == "missing"  # the bytes were claimed (deleted) even so
    assert totals(camera)["reasons"] == {"bytes_lost": 1, "expired": 1, "late": 1}
    assert frames_unreconciled(include_unsettled=True) == []


def test_a_frame_the_door_withdrew_is_not_counted_by_a_late_task(cast, live_deployment):
    camera = live_deployment.camera
    key, received = accept(camera)
    frames.frame_withdraw(key)
    counters_add(camera_id=camera.pk, at=timezone.now(), frames_accepted=-1, frames_shed=1)
    assert frame_process(frame_key=key, camera_id=camera.pk, received_at=received) == "withdrawn"
    figures = totals(camera)
    assert (figures["accepted"], figures["dropped"], figures["shed"]) == (0, 0, 1)


def test_the_broker_refusing_the_task_turns_the_frame_away_uncounted_as_accepted(cast, live_deployment):
    """A real publish to a broker address where nothing listens: 503, and the frame counted shed."""
    from config.celery import app

    camera = live_deployment.camera
    client = camera_client(cast, camera)
    previous = (app.conf.broker_write_url, app.conf.task_always_eager, app.conf.task_publish_retry)
    pools = (app._pool, app.amqp._producer_pool)
    app.conf.broker_write_url, app.conf.task_always_eager, app.conf.task_publish_retry = (
        "redis://127.0.0.1:1/0",
        False,
        False,
    )
    app._pool = app.amqp._producer_pool = None  # connections to that address, not a reused one
    try:
        response = post_frame(client, camera, small_jpeg())
    finally:
        app.conf.broker_write_url, app.conf.task_always_eager, app.conf.task_publish_retry = previous
        app._pool, app.amqp._producer_pool = pools
    assert response.status_code == 503 and response.json()["error"]["code"] == "matching_unavailable"
    figures = totals(camera)
    assert (figures["accepted"], figures["shed"]) == (0, 1)


def test_reconcile_fails_on_a_settled_hour_that_does_not_add_up(cast, live_deployment):
    camera = live_deployment.camera
    long_ago = timezone.now() - timedelta(hours=5)
    counters_add(camera_id=camera.pk, at=long_ago, frames_accepted=3, frames_processed=2)
    assert [(r["camera_id"], r["outstanding"]) for r in frames_unreconciled()] == [(camera.pk, 1)]
    with pytest.raises(CommandError, match="do not reconcile"):
        call_command("reconcile_frames")


@pytest.mark.django_db(transaction=True)
def test_postgresql_down_after_the_bytes_were_read_defers_the_count(cast, live_deployment):
    """The worker has claimed the bytes when PostgreSQL goes away: it retries, then hands the outcome
    to a later try (the task retries with it), which counts it once the database is back."""
    require(
        connection.settings_dict["ENGINE"] == "django.db.backends.postgresql",
        "SQLite has no server to lose (set DATABASE_URL to run this on PostgreSQL)",
    )
    camera = live_deployment.camera
    key, received = accept(camera)
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        with pytest.raises(FrameOutcomePending) as deferred:
            frame_process(frame_key=key, camera_id=camera.pk, received_at=received)
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert deferred.value.pending == {"outcome": "database_unavailable"}
    assert frames.frame_claim(key).state == "taken"  # the bytes are gone from the store
    pending = deferred.value.pending
    frame_outcome_settle(frame_key=key, camera_id=camera.pk, received_at=received, pending=pending)
    frame_outcome_settle(frame_key=key, camera_id=camera.pk, received_at=received, pending=pending)  # retried twice
    assert totals(camera)["reasons"] == {"database_unavailable": 1}
    assert frames.frame_claim(key).state == "missing"  # counted: no marker left behind
    assert FaceScanCounter.objects.get(camera=camera).frames_dropped == 1
    assert FrameDropCounter.objects.get(camera=camera).frames == 1


def test_the_ledger_forgets_frames_older_than_its_keep_time(cast, live_deployment, settings):
    from recognition.deployments.tasks import frame_outcomes_prune

    camera = live_deployment.camera
    key, received = accept(camera)
    frame_process(frame_key=key, camera_id=camera.pk, received_at=received)
    FrameOutcome.objects.update(
        counted_at=timezone.now() - timedelta(hours=settings.OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS + 1)
    )
    key, received = accept(camera)
    frame_process(frame_key=key, camera_id=camera.pk, received_at=received)
    assert frame_outcomes_prune.delay().get() == 1
    assert FrameOutcome.objects.count() == 1
    assert totals(camera)["processed"] == 2  # the counts stay
