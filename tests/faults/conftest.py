"""Fault tests: real workers killed with SIGKILL, real PostgreSQL and Redis servers restarted.

Run apart from the main suite (``make faults``; a separate step of ``.ci/run``): the session starts
its own throwaway PostgreSQL cluster and two Redis servers (``tests/faults/servers.py``) and points
the test database, the broker and the frame store at them, so they can be killed and restarted
without touching anyone else's. Locally they skip (``require``) without PostgreSQL
(``DATABASE_URL``), ``initdb``/``pg_ctl`` or ``redis-server``; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid

import pytest
from django.conf import settings

from tests.conftest import require
from tests.faults.servers import PG_BIN, Servers, Worker

# What the workers of these tests run with (README states the production values).
VISIBILITY_TIMEOUT = 20  # Redis broker: a dead worker's task is handed out again after this long
FRAME_SECONDS = 120  # frame TTL and age limit: a loaded 2-core CI machine loads the engine slowly


@pytest.fixture(scope="session")
def fault_servers():
    require(
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "fault tests need PostgreSQL (set DATABASE_URL=postgres://...)",
    )
    require((PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists(), f"no initdb/pg_ctl in {PG_BIN}")
    require(shutil.which("redis-server") is not None, "fault tests need redis-server")
    servers = Servers()
    # A CI step's timeout sends SIGTERM: turn it into an interrupt, so the servers are still stopped.
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        servers.start()
    except Exception:
        servers.close()
        raise
    yield servers
    servers.close()
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(fault_servers):
    """The test database lives on the throwaway cluster (pytest-django's documented hook)."""
    settings.DATABASES["default"].update(
        HOST="127.0.0.1", PORT=str(fault_servers.pg.port), USER="postgres", PASSWORD="", NAME="oversight_faults"
    )


RABBITMQ_URL = os.environ.get("OVERSIGHT_FAULTS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _rabbitmq_reachable() -> bool:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def fault_env(request, fault_servers, settings, tmp_path):
    """Broker and frame store of this process and of the workers: the throwaway persistent Redis
    broker (or, parametrized ``"rabbitmq"``, the machine's RabbitMQ on a queue of this test's own:
    it is never restarted) and the throwaway frame-store Redis."""
    from config.celery import app

    kind = getattr(request, "param", "redis")
    if kind == "rabbitmq":
        require(_rabbitmq_reachable(), f"needs RabbitMQ at {RABBITMQ_URL}")
    broker = RABBITMQ_URL if kind == "rabbitmq" else fault_servers.broker.url(0)
    store = fault_servers.store.url(0)
    settings.CELERY_BROKER_URL = broker
    settings.OVERSIGHT_FRAME_STORE_URL = store
    settings.OVERSIGHT_FRAME_TTL_SECONDS = settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS = FRAME_SECONDS
    saved = (app.conf.broker_write_url, app.conf.broker_read_url, app._pool, app.amqp._producer_pool)
    app.conf.broker_write_url = app.conf.broker_read_url = broker
    app._pool = app.amqp._producer_pool = None
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": fault_servers.pg.url(connection.settings_dict["NAME"]),
        "CELERY_BROKER_URL": broker,
        "OVERSIGHT_FRAME_STORE_URL": store,
        "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "OVERSIGHT_FRAME_TTL_SECONDS": str(FRAME_SECONDS),
        "OVERSIGHT_FRAME_MAX_AGE_SECONDS": str(FRAME_SECONDS),
        "OVERSIGHT_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RECOGNITION_DEVICE": "cpu",
        "RECOGNITION_CPU_THREADS": "1",
    }
    workers: list[Worker] = []

    def worker() -> Worker:
        started = Worker(env, queue, tmp_path / f"worker-{len(workers)}.log").start()
        workers.append(started)
        return started

    worker.broker = kind
    yield worker
    for started in workers:
        started.stop()
    if kind == "rabbitmq":
        from kombu import Connection

        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.channel().queue_delete(queue)
    app.conf.broker_write_url, app.conf.broker_read_url, app._pool, app.amqp._producer_pool = saved
    app.conf.task_default_queue = previous_queue
