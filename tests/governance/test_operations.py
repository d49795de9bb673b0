"""Health endpoints and Prometheus metrics, against the real database and broker."""

from __future__ import annotations

import pytest
from django.db import connection

from recognition.deployments.services.frames import counters_add
from tests.conftest import require
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_liveness_touches_nothing_and_readiness_checks_each_dependency(client, settings):
    assert client.get("/health/live/").json() == {"status": "ok"}
    ready = client.get("/health/ready/")
    assert ready.status_code == 200
    expected_broker = "ok" if settings.CELERY_BROKER_URL else "skipped"
    expected_store = "ok" if (settings.OVERSIGHT_FRAME_STORE_URL or settings.CELERY_BROKER_URL) else "skipped"
    # make test converts the weights before running the suite
    assert ready.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": expected_broker,
        "weights": "ok",
        "frame_store": expected_store,
    }


def test_readiness_fails_without_the_weights_or_the_broker(client, settings, tmp_path):
    # The default backend's embedder (SFace) file missing: the live backend's weights, not FaceNet's.
    settings.RECOGNITION = {**settings.RECOGNITION, "SFACE_PATH": tmp_path / "missing.onnx"}
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["weights"] == "failing" and response.json()["checks"]["broker"] == "failing"
    assert "127.0.0.1" not in response.content.decode()


def test_readiness_refuses_weights_that_are_not_the_pinned_bytes(client, settings, tmp_path):
    from recognition.engine import zoo

    tampered = tmp_path / zoo.SFACE_FILE
    tampered.write_bytes(zoo.bundled_path(zoo.SFACE_FILE).read_bytes()[:-1] + b"\x00")
    settings.RECOGNITION = {**settings.RECOGNITION, "SFACE_PATH": tampered}
    assert client.get("/health/ready/").json()["checks"]["weights"] == "failing"
    settings.RECOGNITION = {**settings.RECOGNITION, "SFACE_PATH": zoo.bundled_path(zoo.SFACE_FILE)}
    assert client.get("/health/ready/").json()["checks"]["weights"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_while_postgresql_is_unreachable(client):
    original = dict(connection.settings_dict)
    require(original["ENGINE"] == "django.db.backends.postgresql", "needs PostgreSQL (set DATABASE_URL)")
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/health/ready/")
        live = client.get("/health/live/")
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert response.status_code == 503 and response.json()["checks"]["database"] == "failing"
    assert live.status_code == 200


def test_metrics_report_frames_alerts_queue_and_sweep_lag(client, cast, live_deployment, settings, tmp_path):  # noqa: F811
    settings.OVERSIGHT_METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    counters_add(
        camera_id=live_deployment.camera.pk, frames_shed=3, frames_accepted=7, frames_processed=5, frames_dropped=1
    )
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()
    assert 'oversight_frames_total{outcome="shed"} 3.0' in body
    assert 'oversight_frames_total{outcome="accepted"} 7.0' in body
    assert 'oversight_frames_total{outcome="processed"} 5.0' in body
    assert 'oversight_frames_total{outcome="dropped"} 1.0' in body
    assert "oversight_frames_outstanding 1.0" in body  # one accepted frame without an outcome yet
    assert "oversight_retention_seconds_since_last_sweep" in body
    assert 'oversight_retention_overdue_items{rule="audit_event.personal_fields"} 0.0' in body
    assert "django_http_requests_total_by_method_total" in body
    import re

    from django.core.cache import cache
    from django.core.management import call_command

    from governance.retention.journal import LAST_EXPORT_CACHE_KEY

    cache.delete(LAST_EXPORT_CACHE_KEY)
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()
    assert re.search(r"^oversight_erasure_journal_seconds_since_export NaN$", body, re.MULTILINE)

    settings.OVERSIGHT_ERASURE_JOURNAL = str(tmp_path / "journal.jsonl")
    call_command("export_erasure_journal")
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()
    lag = float(re.search(r"^oversight_erasure_journal_seconds_since_export (\S+)$", body, re.MULTILINE).group(1))
    assert 0 <= lag < 60
    if settings.CELERY_BROKER_URL:
        assert 'oversight_task_queue_depth{queue="celery"}' in body


def _rabbitmq_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        return True
    except OSError:
        return False


def test_readiness_checks_a_rabbitmq_broker(client, settings):
    require(_rabbitmq_reachable(), "needs RabbitMQ on 127.0.0.1:5672 (guest/guest)")
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    assert client.get("/health/ready/").json()["checks"]["broker"] == "ok"
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
    response = client.get("/health/ready/")
    assert response.status_code == 503 and response.json()["checks"]["broker"] == "failing"


def test_the_deploy_check_wants_the_frame_store_apart_from_a_redis_broker(settings):
    from recognition.deployments.checks import frame_store_apart_from_broker

    settings.CELERY_BROKER_URL = "redis://broker:6379/0"
    settings.OVERSIGHT_FRAME_STORE_URL = ""
    assert [w.id for w in frame_store_apart_from_broker(None)] == ["deployments.W001"]
    settings.OVERSIGHT_FRAME_STORE_URL = "redis://broker:6379/0"
    assert [w.id for w in frame_store_apart_from_broker(None)] == ["deployments.W001"]
    settings.OVERSIGHT_FRAME_STORE_URL = "redis://frames:6379/0"
    assert frame_store_apart_from_broker(None) == []
    settings.CELERY_BROKER_URL = "amqp://guest:guest@rabbit:5672//"
    assert frame_store_apart_from_broker(None) == []


def test_a_rabbitmq_broker_without_a_frame_store_refuses_to_start():
    """Frames cannot fall back to a broker that is not Redis: the settings refuse to load."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//", "OVERSIGHT_FRAME_STORE_URL": ""}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "OVERSIGHT_FRAME_STORE_URL" in result.stderr
