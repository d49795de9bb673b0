"""Fault: one child of the real ``make worker`` (prefork pool, two children) is SIGKILLed, as an OOM kill of a child
holding the engine would be (issue 26, "A crashed worker never comes back": Celery killed every replacement 4 s after
forking it, for ever, because the engine loads in ``worker_process_init`` for longer than the default
``worker_proc_alive_timeout``). The replacement must come up, load the engine and match frames: capacity returns.
The other fault tests run ``--pool=solo`` workers and never saw this.

The worker runs the Makefile's own command line (checked against the Makefile, so the two cannot drift) on the fault
session's throwaway Redis broker (a database of its own) and frame store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.faults.test_faults import ENGINE_LOAD, camera_client, post, record_recovery, wait_for
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures
from tests.recognition.deployments.test_frames_api import small_jpeg

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
# The Makefile's ``worker`` recipe, as run with WORKER_CONCURRENCY and RECOGNITION_CPU_THREADS unset.
MAKE_WORKER = "RECOGNITION_CPU_THREADS=$${RECOGNITION_CPU_THREADS:-1} $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=$${WORKER_CONCURRENCY:-2}"
COMMAND = ["-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"]
BROKER_DB = 7  # the fault session's throwaway broker; a database no other fault test uses


def test_the_command_is_the_makefiles():
    assert MAKE_WORKER in (ROOT / "Makefile").read_text()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    except psutil.NoSuchProcess:
        return []


def _served_by(log: str) -> set[str]:
    """The pool processes (``ForkPoolWorker-N``) that logged a frame task's success."""
    return set(
        re.findall(
            r"/(ForkPoolWorker-\d+)\] Task recognition\.deployments\.tasks\.process_frame\[[^\]]+\] succeeded", log
        )
    )


@pytest.mark.django_db(transaction=True)
def test_a_prefork_child_killed_is_replaced_and_serves_frames_again(
    fault_servers, cast, live_deployment, settings, tmp_path
):  # noqa: F811
    from django.db import connection

    from config.celery import app

    broker, store = fault_servers.broker.url(BROKER_DB), fault_servers.store.url(BROKER_DB)
    settings.CELERY_BROKER_URL = broker
    settings.OVERSIGHT_FRAME_STORE_URL = store
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100
    saved = (
        app.conf.broker_write_url,
        app.conf.broker_read_url,
        app.conf.task_always_eager,
        app._pool,
        app.amqp._producer_pool,
    )
    app.conf.broker_write_url = app.conf.broker_read_url = broker
    app.conf.task_always_eager = False
    app._pool = app.amqp._producer_pool = None
    env = {
        **os.environ,
        "DATABASE_URL": fault_servers.pg.url(connection.settings_dict["NAME"]),
        "CELERY_BROKER_URL": broker,
        "OVERSIGHT_FRAME_STORE_URL": store,
        "OVERSIGHT_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RECOGNITION_DEVICE": "cpu",
        "RECOGNITION_CPU_THREADS": "1",
    }
    env.pop("WORKER_CONCURRENCY", None)
    env.pop("CELERY_WORKER_PROC_ALIVE_TIMEOUT", None)  # the settings' own value
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, *COMMAND, f"--logfile={log}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )

    def text() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    class Logs:  # wait_for prints the worker's log on a timeout
        @staticmethod
        def text() -> str:
            return text()

    try:
        camera = live_deployment.camera
        client = camera_client(cast, camera)

        def post_some() -> None:
            for _ in range(4):
                post(client, camera, small_jpeg())

        wait_for(lambda: len(_children(worker.pid)) == 2 and "ready." in text(), ENGINE_LOAD, "the worker", Logs)

        def both_serve() -> bool:
            post_some()
            return len(_served_by(text())) >= 2

        wait_for(both_serve, 2 * ENGINE_LOAD, "both children matching frames", Logs)
        before = _served_by(text())
        victim = _children(worker.pid)[0]
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()

        def a_new_child_serves() -> bool:
            post_some()
            return bool(_served_by(text()) - before)

        wait_for(a_new_child_serves, 2 * ENGINE_LOAD, "a replacement child matching frames", Logs)
        record_recovery(
            "prefork_child_killed",
            time.monotonic() - killed_at,
            "make worker (prefork, 2 children): SIGKILL of one child until its replacement matched a frame",
        )
        assert worker.poll() is None
        assert len(_children(worker.pid)) == 2
        assert "Timed out waiting for UP message" not in text()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
        (
            app.conf.broker_write_url,
            app.conf.broker_read_url,
            app.conf.task_always_eager,
            app._pool,
            app.amqp._producer_pool,
        ) = saved
