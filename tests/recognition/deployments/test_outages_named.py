"""Outages under their right names (issue 26, "Outages reported under the wrong name"): the cache or the frame store
down makes the door's refusals count as shed and a frame being matched count under a transient reason (never
``failed``, the reason for a bug); ``/health/ready/`` names each dependency it checks, the frame store included, and
does not blame the weights for the cache. Real refused connections (an address where nothing listens), no mocks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from recognition.deployments import frames
from recognition.deployments.frame_ledger import frame_ledger_accept
from recognition.deployments.matching import frame_process
from tests.recognition.deployments.test_frame_accounting import totals
from tests.recognition.deployments.test_frames_api import camera_client, post_frame, small_jpeg

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/3"  # nothing listens there
DEAD_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}


def test_readiness_names_the_frame_store_when_it_is_down(client, settings):
    settings.OVERSIGHT_FRAME_STORE_URL = DEAD_REDIS
    response = client.get("/health/ready/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["frame_store"] == "failing"
    assert (checks["database"], checks["cache"], checks["weights"]) == ("ok", "ok", "ok")
    assert "127.0.0.1" not in response.content.decode()


def test_readiness_names_the_cache_and_does_not_blame_the_weights(client, settings):
    settings.CACHES = DEAD_CACHE
    response = client.get("/health/ready/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"] == "failing"
    assert checks["weights"] == "ok" and checks["database"] == "ok"


def test_the_door_counts_its_503s_as_shed_while_the_cache_is_down(cast, live_deployment, settings):
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    settings.CACHES = DEAD_CACHE
    response = post_frame(client, camera, small_jpeg())
    assert response.status_code == 503 and response.json()["error"]["code"] == "matching_unavailable"
    assert response["Retry-After"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    figures = totals(camera)
    assert (figures["accepted"], figures["shed"]) == (0, 1)


def test_the_door_counts_its_503s_as_shed_while_the_frame_store_is_down(cast, live_deployment, settings):
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    settings.OVERSIGHT_FRAME_STORE_URL = DEAD_REDIS
    response = post_frame(client, camera, small_jpeg())
    assert response.status_code == 503
    settings.OVERSIGHT_FRAME_STORE_URL = ""
    figures = totals(camera)
    assert (figures["accepted"], figures["shed"]) == (0, 1)


def test_a_frame_matched_while_the_cache_is_down_is_counted_under_a_transient_reason(cast, live_deployment, settings):
    camera = live_deployment.camera
    received = timezone.now()
    key = frames.frame_put(small_jpeg())
    frame_ledger_accept(camera_id=camera.pk, key=key, received_at=received)
    settings.CACHES = DEAD_CACHE  # the frame store (process-local here) still holds the bytes
    outcome = frame_process(frame_key=key, camera_id=camera.pk, received_at=received.isoformat())
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert outcome == "cache_unavailable"
    figures = totals(camera)
    assert figures["reasons"] == {"cache_unavailable": 1} and figures["dropped"] == 1
