"""Live frames on the embedded default under ``manage.py serve``: the engine is built before the server answers, a
frame is answered 202 before it is matched (by a worker thread, not the request), and a full queue sheds frames the
way a camera over its in-flight limit is shed (429, counted)."""

from __future__ import annotations

import pytest

from recognition.deployments import embedded, frames
from tests.recognition.deployments.test_frames_api import camera_client, counters, post_frame

# The worker thread has its own database connection: it sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def installed():
    """Frame workers installed by a test are uninstalled and stopped after it, started or not."""
    made = []

    def install(worker):
        made.append(worker)
        embedded.worker_install(worker)
        return worker

    yield install
    embedded.worker_install(None)
    for worker in made:
        worker.stop()


@pytest.mark.faces
def test_frames_are_answered_before_they_are_matched_and_a_full_queue_sheds(
    cast, live_deployment, faces_dir, installed
):
    from recognition.selectors import live_engine

    live_engine()  # built first, as serve_start does (a frame waiting for a build would be shed as stale)
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    frame = (faces_dir / "dev" / "_none" / "giraffe.jpg").read_bytes()
    worker = installed(embedded.FrameWorker(threads=1, capacity=2))  # its thread not started yet: frames wait

    for _ in range(2):
        response = post_frame(client, camera, frame)
        assert response.status_code == 202, response.content
    assert counters(camera).get("frames_processed", 0) == 0  # answered without being matched
    assert frames.inflight_count(camera.pk) == 2

    full = post_frame(client, camera, frame)
    assert full.status_code == 429 and full.json()["error"]["code"] == "frames_shed"
    assert full["Retry-After"] == "1"
    assert counters(camera)["frames_shed"] == 1
    assert frames.inflight_count(camera.pk) == 2  # the shed frame's slot (and bytes) went at once

    worker.start()
    assert worker.wait_idle(timeout=300)
    # Accepted = processed + dropped; the frame turned away for a full queue is shed, not accepted.
    assert counters(camera) == {
        "faces_scanned": 0,
        "frames_accepted": 2,
        "frames_processed": 2,
        "frames_dropped": 0,
        "frames_shed": 1,
        "frames_refused": 0,
        "alerts_raised": 0,
    }
    assert frames.inflight_count(camera.pk) == 0


def test_stopping_the_worker_drops_waiting_frames_and_their_slots(cast, live_deployment, installed):
    from tests.recognition.deployments.test_frames_api import small_jpeg

    camera = live_deployment.camera
    client = camera_client(cast, camera)
    worker = installed(embedded.FrameWorker(threads=1, capacity=4))
    assert post_frame(client, camera, small_jpeg((200, 200))).status_code == 202
    assert frames.inflight_count(camera.pk) == 1
    embedded.worker_install(None)
    worker.stop()
    assert frames.inflight_count(camera.pk) == 0 and worker.queue.empty()


@pytest.mark.faces
@pytest.mark.slow
def test_serve_builds_the_live_engine_and_starts_the_worker_before_the_first_request(settings):
    import io

    from django.core.cache import cache

    from governance.serving import serve_hooks_start, serve_hooks_stop
    from recognition.engine import engine as engine_module
    from recognition.selectors import ACTIVE_BACKEND_KEY, live_backend

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded default (CI sets a broker for the rest)
    # As in a fresh server process: no engine yet, and no live choice remembered in the shared cache
    # (an earlier test's switch-over may have left one there; its database row was rolled back).
    cache.delete(ACTIVE_BACKEND_KEY)
    built_before = dict(engine_module._engines)
    engine_module._engines.clear()
    out = io.StringIO()
    try:
        stops = serve_hooks_start(stdout=out)
        try:
            assert [engine.backend for engine in engine_module._engines.values()] == [live_backend()]  # by the hook
            assert embedded.worker() is not None and all(t.is_alive() for t in embedded.worker().threads)
            assert "ready in" in out.getvalue()
        finally:
            serve_hooks_stop(stops)
    finally:
        engine_module._engines.update(built_before)
    assert embedded.worker() is None


def test_with_a_broker_serve_starts_no_frame_worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the broker's workers match frames (and build their own engine)
    assert embedded.serve_start() is None
    assert embedded.worker() is None


@pytest.mark.faces
def test_frame_worker_threads_share_the_engines_live_passes(cast, live_deployment, faces_dir, installed):
    """A single machine with a GPU runs the embedded worker with many threads (OVERSIGHT_EMBEDDED_FRAME_WORKERS): their
    frames share the engine's micro-batched passes, and every frame is still counted once."""
    from recognition.selectors import live_engine
    from tests.recognition.deployments.conftest import compose_frame

    engine = live_engine()
    configured, wait = engine.live_batch_frames, engine.config.live_batch_wait_ms
    engine.set_live_batching(3, max_wait_ms=500)  # passes wait for company: the three frames always share one
    try:
        camera = live_deployment.camera
        client = camera_client(cast, camera)
        worker = installed(embedded.FrameWorker(threads=3, capacity=8))
        people = [["Serena_Williams_0001", "Jiang_Zemin_0001"], ["Salma_Hayek_0001"], ["Lleyton_Hewitt_0001"]]
        for photos in people:
            assert post_frame(client, camera, compose_frame(faces_dir, photos)).status_code == 202
        worker.start()
        assert worker.wait_idle(timeout=300)
        figures = engine.live_batcher().figures
    finally:
        engine.set_live_batching(configured, max_wait_ms=wait)
    assert counters(camera)["frames_accepted"] == counters(camera)["frames_processed"] == 3
    assert counters(camera)["faces_scanned"] == 4
    assert figures.frames == 3 and figures.largest >= 2
