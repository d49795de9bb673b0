"""The frame ledger (issue 26, "nothing accepted is lost"): every frame answered 202 is recorded with its accepted
count; a broker that does not confirm the task turns the frame away (503, counted shed, no record); a recorded frame
whose task never reached a worker is settled by the sweep as ``task_lost`` after its time-to-live, exactly once.
``tests/faults/test_broker_crash_faults.py`` kills a real RabbitMQ node with frames queued."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from recognition.deployments import frames
from recognition.deployments.frame_ledger import frame_ledger_accept, frames_settle_lost
from recognition.deployments.matching import frame_process
from recognition.deployments.models import FrameAccepted, FrameOutcome
from recognition.deployments.selectors import frames_unreconciled
from tests.conftest import require
from tests.recognition.deployments.test_frame_accounting import totals
from tests.recognition.deployments.test_frames_api import camera_client, post_frame, small_jpeg

pytestmark = pytest.mark.django_db


def test_an_accepted_frame_is_recorded_and_the_sweep_forgets_it_once_counted(cast, live_deployment):
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    assert post_frame(client, camera, small_jpeg()).status_code == 202
    assert FrameAccepted.objects.filter(camera=camera).count() == 1
    assert FrameOutcome.objects.count() == 1  # matched in-process (no broker): its outcome is counted
    assert frames_settle_lost(now=timezone.now() + timedelta(days=1)) == 0
    assert FrameAccepted.objects.count() == 0
    assert totals(camera)["processed"] == 1 and totals(camera)["reasons"] == {}


def test_a_frame_whose_task_never_arrived_is_settled_as_task_lost_after_its_time_to_live(
    cast, live_deployment, settings
):
    """What a broker killed before it wrote the message leaves: the frame counted accepted and recorded, bytes in
    the store, and no task. Not before its time-to-live; then once, as ``task_lost``; a task that turns up after
    all counts nothing."""
    from recognition.deployments.tasks import frames_settle_lost as sweep_task

    camera = live_deployment.camera
    received = timezone.now()
    key = frames.frame_put(small_jpeg())
    frame_ledger_accept(camera_id=camera.pk, key=key, received_at=received)
    assert totals(camera)["accepted"] == 1
    assert frames_unreconciled(include_unsettled=True)  # outstanding: 1

    assert frames_settle_lost(now=received + timedelta(seconds=settings.OVERSIGHT_FRAME_LOST_AFTER_SECONDS - 1)) == 0
    assert FrameAccepted.objects.count() == 1

    settings.OVERSIGHT_FRAME_LOST_AFTER_SECONDS = 0
    assert sweep_task.delay().get() == 1  # the beat task
    figures = totals(camera)
    assert (figures["accepted"], figures["processed"], figures["dropped"]) == (1, 0, 1)
    assert figures["reasons"] == {"task_lost": 1}
    assert FrameAccepted.objects.count() == 0
    assert frames_unreconciled(include_unsettled=True) == []
    call_command("reconcile_frames", "--include-unsettled")

    frame_process(frame_key=key, camera_id=camera.pk, received_at=received.isoformat())  # the task, late
    assert totals(camera)["reasons"] == {"task_lost": 1} and totals(camera)["processed"] == 0
    assert frames_settle_lost() == 0


def test_the_sweep_never_settles_a_frame_that_already_has_an_outcome(cast, live_deployment, settings):
    camera = live_deployment.camera
    received = timezone.now()
    key = frames.frame_put(small_jpeg())
    frame_ledger_accept(camera_id=camera.pk, key=key, received_at=received)
    frame_process(frame_key=key, camera_id=camera.pk, received_at=received.isoformat())
    settings.OVERSIGHT_FRAME_LOST_AFTER_SECONDS = 0
    assert frames_settle_lost() == 0
    assert totals(camera)["processed"] == 1 and totals(camera)["dropped"] == 0


def test_the_sweep_is_on_the_one_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "recognition.deployments.tasks.frames_settle_lost" in tasks


def test_a_broker_that_refuses_the_task_leaves_no_record(cast, live_deployment):
    """A real publish to an address where nothing listens: 503, counted shed, nothing in the ledger."""
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
    app._pool = app.amqp._producer_pool = None
    try:
        response = post_frame(client, camera, small_jpeg())
    finally:
        app.conf.broker_write_url, app.conf.task_always_eager, app.conf.task_publish_retry = previous
        app._pool, app.amqp._producer_pool = pools
    assert response.status_code == 503
    assert FrameAccepted.objects.count() == 0
    assert (totals(camera)["accepted"], totals(camera)["shed"]) == (0, 1)


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _rabbitmq() -> bool:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.broker
def test_a_publish_rabbitmq_nacks_is_a_503_and_the_frame_is_not_counted_accepted(cast, live_deployment, settings):
    """Publisher confirms on a real RabbitMQ: the task's queue refuses every message (``x-max-length`` 0 with
    ``reject-publish``), so the broker answers the publish with a nack. Without confirms the publish would return
    and the door would answer 202 for a frame no queue holds."""
    from kombu import Connection, Exchange, Queue

    from config.celery import app

    require(_rabbitmq(), f"needs RabbitMQ at {RABBITMQ_URL}")
    name = f"ledger-nack-{uuid.uuid4().hex[:8]}"
    refusing = Queue(
        name,
        Exchange(name, type="direct"),
        routing_key=name,
        queue_arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
        auto_delete=True,
    )
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    saved = (
        app.conf.broker_write_url,
        app.conf.broker_read_url,
        app.conf.task_always_eager,
        app.conf.task_publish_retry,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    )
    app.conf.broker_write_url = app.conf.broker_read_url = RABBITMQ_URL
    app.conf.task_always_eager, app.conf.task_publish_retry = False, False
    app.conf.broker_transport_options = {"confirm_publish": True}
    app._pool = app.amqp._producer_pool = None
    with Connection(RABBITMQ_URL) as conn:
        refusing.bind(conn.channel()).declare()
        from recognition.deployments.tasks import process_frame

        # The task's own routing option (Celery reads a task's ``queue`` attribute into every publish).
        process_frame.queue, process_frame._exec_options = refusing, None
        try:
            response = post_frame(client, camera, small_jpeg())
        finally:
            del process_frame.queue
            process_frame._exec_options = None
            (
                app.conf.broker_write_url,
                app.conf.broker_read_url,
                app.conf.task_always_eager,
                app.conf.task_publish_retry,
                app.conf.broker_transport_options,
                app._pool,
                app.amqp._producer_pool,
            ) = saved
            refusing.bind(conn.channel()).delete()
    assert response.status_code == 503 and response.json()["error"]["code"] == "matching_unavailable"
    assert FrameAccepted.objects.count() == 0
    assert (totals(camera)["accepted"], totals(camera)["shed"]) == (0, 1)


def _settings_with(**env) -> dict:
    """Settings as a process started with this environment reads them (a fresh interpreter: read once)."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, 'lost_after': s.OVERSIGHT_FRAME_LOST_AFTER_SECONDS, "
        "'ttl': s.OVERSIGHT_FRAME_TTL_SECONDS, 'visibility': s.CELERY_BROKER_VISIBILITY_TIMEOUT}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_amqp_broker_is_published_to_with_confirms_and_a_redis_one_waits_its_visibility_timeout():
    amqp = _settings_with(CELERY_BROKER_URL="amqp://u:p@rabbit:5672//", OVERSIGHT_FRAME_STORE_URL="redis://f:6379/0")
    assert amqp["options"] == {"confirm_publish": True}
    assert amqp["lost_after"] > amqp["ttl"]
    redis = _settings_with(CELERY_BROKER_URL="redis://broker:6379/0", OVERSIGHT_FRAME_STORE_URL="redis://f:6379/0")
    assert "confirm_publish" not in redis["options"]
    # A Redis broker hands a dead worker's task out again only after its visibility timeout: not lost before.
    assert redis["lost_after"] > redis["ttl"] + redis["visibility"]
