"""Fault: the broker node is killed (SIGKILL of RabbitMQ's Erlang VM, not a graceful stop) with frames queued and no
worker running (issue 26, "A broker crash loses frames already answered 202": 1 of 8, then 8 of 8, were lost and
never settled). With publisher confirms a 202 means the node has the task on disk, so after the node and a worker
come back every frame accepted ends with exactly one outcome, none of them ``task_lost``; frames posted while the node
is down are answered 503 and counted shed, never accepted. ``reconcile_frames`` is clean and the frame ledger's sweep
finds nothing left to settle.

A RabbitMQ node of the test's own (``tests/faults/rabbitmq.py``), the throwaway PostgreSQL and frame-store Redis of
the fault session, and a real ``celery worker`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.core.management import call_command

from recognition.deployments.frame_ledger import frames_settle_lost
from recognition.deployments.models import FrameAccepted, FrameOutcome
from tests.faults.conftest import FRAME_SECONDS
from tests.faults.rabbitmq import RABBITMQ_SERVER, RabbitMQ
from tests.faults.servers import Worker
from tests.faults.test_faults import ENGINE_LOAD, camera_client, frame_totals, post, record_recovery, wait_for
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures
from tests.recognition.deployments.test_frames_api import small_jpeg

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.slow, pytest.mark.postgres]

FRAMES = 12


def _transport_options_for(broker: str, store: str) -> dict:
    """The broker transport options the settings give a process started with this broker (a fresh interpreter:
    settings are read once): what the worker runs with and what this process publishes with below."""
    code = "from django.conf import settings; print(repr(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    env = {**os.environ, "CELERY_BROKER_URL": broker, "OVERSIGHT_FRAME_STORE_URL": store}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - a dict repr printed by our own settings


@pytest.fixture
def rabbitmq(fault_servers):
    from tests.conftest import require

    require(RABBITMQ_SERVER.exists(), f"needs rabbitmq-server at {RABBITMQ_SERVER}")
    node = RabbitMQ(fault_servers.root)
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.mark.django_db(transaction=True)
def test_frames_accepted_before_the_broker_node_is_killed_each_end_with_one_outcome(
    rabbitmq, fault_servers, cast, live_deployment, settings, tmp_path
):  # noqa: F811
    from django.db import connection

    from config.celery import app

    broker, store = rabbitmq.url(), fault_servers.store.url(0)
    options = _transport_options_for(broker, store)
    assert options.get("confirm_publish") is True  # the settings' rule for an AMQP broker
    settings.CELERY_BROKER_URL = broker
    settings.OVERSIGHT_FRAME_STORE_URL = store
    settings.OVERSIGHT_FRAME_TTL_SECONDS = settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS = FRAME_SECONDS
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100
    saved = (
        app.conf.broker_write_url,
        app.conf.broker_read_url,
        app.conf.broker_transport_options,
        app.conf.task_always_eager,
        app._pool,
        app.amqp._producer_pool,
    )
    app.conf.broker_write_url = app.conf.broker_read_url = broker
    app.conf.broker_transport_options = options
    app.conf.task_always_eager = False
    app._pool = app.amqp._producer_pool = None
    env = {
        **os.environ,
        "DATABASE_URL": fault_servers.pg.url(connection.settings_dict["NAME"]),
        "CELERY_BROKER_URL": broker,
        "OVERSIGHT_FRAME_STORE_URL": store,
        "OVERSIGHT_FRAME_TTL_SECONDS": str(FRAME_SECONDS),
        "OVERSIGHT_FRAME_MAX_AGE_SECONDS": str(FRAME_SECONDS),
        "OVERSIGHT_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RECOGNITION_DEVICE": "cpu",
        "RECOGNITION_CPU_THREADS": "1",
    }
    worker = Worker(env, "celery", tmp_path / "worker.log")
    try:
        camera = live_deployment.camera
        client = camera_client(cast, camera)
        # No worker yet: every accepted frame's task waits in the node's queue.
        answers = Counter(post(client, camera, small_jpeg()) for _ in range(FRAMES))
        assert answers == Counter({202: FRAMES}), answers
        assert FrameAccepted.objects.filter(camera=camera).count() == FRAMES

        rabbitmq.sigkill()  # at once: no graceful stop, nothing flushed
        killed_at = time.monotonic()
        app._pool = app.amqp._producer_pool = None  # the door's connections died with the node
        down = Counter(post(client, camera, small_jpeg()) for _ in range(3))
        assert down == Counter({503: 3}), down
        assert frame_totals(camera)["shed"] == 3

        rabbitmq.start()
        app._pool = app.amqp._producer_pool = None
        worker.start()
        wait_for(
            lambda: (
                frame_totals(camera)["accepted"] == frame_totals(camera)["processed"] + frame_totals(camera)["dropped"]
            ),
            ENGINE_LOAD + FRAME_SECONDS,
            "every accepted frame's outcome after the node came back",
            worker,
        )
        record_recovery(
            "broker_node_killed",
            time.monotonic() - killed_at,
            "RabbitMQ node SIGKILLed with frames queued; includes its restart and a new worker's engine load",
        )
    finally:
        worker.stop()
        (
            app.conf.broker_write_url,
            app.conf.broker_read_url,
            app.conf.broker_transport_options,
            app.conf.task_always_eager,
            app._pool,
            app.amqp._producer_pool,
        ) = saved

    totals = frame_totals(camera)
    assert totals["accepted"] == FRAMES and totals["shed"] == 3
    assert totals["processed"] + totals["dropped"] == FRAMES
    assert "task_lost" not in totals["reasons"], totals  # none lost: the node had every confirmed task on disk
    assert FrameOutcome.objects.count() == FRAMES  # one outcome each, none twice
    settings.OVERSIGHT_FRAME_LOST_AFTER_SECONDS = 0
    assert frames_settle_lost() == 0  # nothing left for the sweep
    assert FrameAccepted.objects.count() == 0
    call_command("reconcile_frames", "--include-unsettled")
