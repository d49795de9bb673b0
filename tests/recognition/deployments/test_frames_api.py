"""Frame ingestion: authentication, limits, refusal outside a live deployment, load shedding."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from recognition.deployments import frames
from recognition.deployments.models import FaceScanCounter
from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
from recognition.deployments.services.golive import deployment_end

pytestmark = pytest.mark.django_db


def small_jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(out, format="JPEG")
    return out.getvalue()


def camera_client(cast, camera) -> APIClient:
    secret = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Camera {secret}")
    return client


def post_frame(client, camera, data: bytes, name="f.jpg"):
    return client.post(
        f"/api/v1/cameras/{camera.pk}/frames/", {"frame": SimpleUploadedFile(name, data)}, format="multipart"
    )


def counters(camera) -> dict:
    row = FaceScanCounter.objects.filter(camera=camera).first()
    return (
        {}
        if row is None
        else {
            k: getattr(row, k)
            for k in (
                "faces_scanned",
                "frames_accepted",
                "frames_processed",
                "frames_dropped",
                "frames_shed",
                "frames_refused",
                "alerts_raised",
            )
        }
    )


def test_frames_outside_a_live_deployment_are_refused(cast, planned_deployment):
    camera = planned_deployment.camera
    response = post_frame(camera_client(cast, camera), camera, small_jpeg())
    assert response.status_code == 409 and response.json()["error"]["code"] == "deployment_not_live"
    assert counters(camera)["frames_refused"] == 1


def test_frames_after_the_deployment_ended_are_refused(cast, live_deployment):
    deployment_end(actor=cast.estate_dpo, deployment=live_deployment, reason="Operation complete.")
    response = post_frame(camera_client(cast, live_deployment.camera), live_deployment.camera, small_jpeg())
    assert response.status_code == 409


@pytest.mark.faces
def test_a_frame_without_faces_is_processed_and_only_counted(cast, live_deployment, faces_dir):
    """A real photo with no human face (a giraffe and a zebra) goes through the real engine and leaves only counts."""
    camera = live_deployment.camera
    response = post_frame(
        camera_client(cast, camera), camera, (faces_dir / "dev" / "_none" / "giraffe.jpg").read_bytes()
    )
    assert response.status_code == 202, response.content
    assert counters(camera) == {
        "faces_scanned": 0,
        "frames_accepted": 1,
        "frames_processed": 1,
        "frames_dropped": 0,
        "frames_shed": 0,
        "frames_refused": 0,
        "alerts_raised": 0,
    }
    assert frames.inflight_count(camera.pk) == 0


def test_camera_keys_are_checked(cast, live_deployment, active_agreement):
    camera = live_deployment.camera
    anonymous = APIClient()
    assert post_frame(anonymous, camera, small_jpeg()).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Camera cam_not-a-real-key")
    assert post_frame(wrong, camera, small_jpeg()).status_code == 401
    other = camera_add(
        actor=cast.estate_dpo, deployment=live_deployment, name="GS-2", location="East gate", direction="West"
    )
    client = camera_client(cast, camera)
    assert post_frame(client, other, small_jpeg()).status_code == 404
    # A session user (even the DPO) cannot post frames: only a camera gateway's key.
    session = APIClient()
    session.force_authenticate(cast.estate_dpo)
    assert post_frame(session, camera, small_jpeg()).status_code in (401, 403, 404)


def test_bad_frames_are_refused(cast, live_deployment, settings):
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    assert post_frame(client, camera, b"GIF89a" + b"\0" * 100, "f.gif").status_code == 415
    assert post_frame(client, camera, b"not an image at all").status_code == 415
    settings.OVERSIGHT_FRAME_MAX_PIXELS = 100
    response = post_frame(client, camera, small_jpeg())
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_pixels"
    settings.OVERSIGHT_FRAME_MAX_BYTES = 200
    assert post_frame(client, camera, small_jpeg((400, 400))).status_code == 413
    missing = client.post(f"/api/v1/cameras/{camera.pk}/frames/", {}, format="multipart")
    assert missing.status_code == 400


def _png_header_only(width: int, height: int, *, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (its one IDAT row says nothing: a bomb by its header)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_frames_over_the_decode_budget_are_refused_from_the_header_with_the_code(cast, live_deployment, settings):
    """Issue 26: the frame door reads size from the header and holds it to the format's decode budget, with the
    codes the other image doors use; nothing is queued or counted."""
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    bomb = post_frame(client, camera, _png_header_only(60_000, 60_000), "f.png")
    assert bomb.status_code == 400 and bomb.json()["error"]["code"] == "too_many_pixels"
    settings.OVERSIGHT_IMAGE_DECODE_PIXELS = {**settings.OVERSIGHT_IMAGE_DECODE_PIXELS, "PNG": 1_000_000}
    over_budget = post_frame(client, camera, _png_header_only(1280, 1024), "f.png")  # inside the frame limit
    assert over_budget.status_code == 400 and over_budget.json()["error"]["code"] == "too_many_pixels"
    assert "PNG images may have at most 1,000,000 pixels" in over_budget.json()["error"]["message"]
    # 16-bit RGBA: eight bytes a pixel once decoded.
    settings.OVERSIGHT_IMAGE_DECODE_MAX_BYTES = 1280 * 1024 * 4
    heavy = post_frame(client, camera, _png_header_only(1280, 720, depth=16, colour=6), "f.png")
    assert heavy.status_code == 400 and heavy.json()["error"]["code"] == "decode_budget_exceeded"
    unreadable = post_frame(client, camera, b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    assert unreadable.status_code == 400 and unreadable.json()["error"]["code"] == "not_an_image"
    assert frames.inflight_count(camera.pk) == 0 and counters(camera).get("frames_accepted", 0) == 0


def test_overload_sheds_frames_and_counts_them(cast, live_deployment, settings):
    camera = live_deployment.camera
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 2
    client = camera_client(cast, camera)
    frames.inflight_acquire(camera.pk, "waiting-1")
    frames.inflight_acquire(camera.pk, "waiting-2")  # two frames already waiting for a worker
    try:
        response = post_frame(client, camera, small_jpeg())
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "frames_shed" and response["Retry-After"] == "1"
        assert counters(camera)["frames_shed"] == 1
        assert frames.inflight_count(camera.pk) == 2
    finally:
        frames.inflight_release(camera.pk, "waiting-1")
        frames.inflight_release(camera.pk, "waiting-2")


def test_frame_store_deletes_on_read():
    key = frames.frame_put(b"bytes")
    assert frames.frame_take(key) == b"bytes"
    assert frames.frame_take(key) is None
    assert frames.frame_take("not-a-frame-key") is None


@pytest.mark.parametrize("declared", ["not-a-number", "12abc", "-5"])
def test_a_malformed_content_length_is_a_coded_400(cast, live_deployment, declared):
    """A gateway (or anything in front of it) sending a Content-Length that is not a byte count gets a
    refusal it can act on, not a server error, and nothing is counted as processed."""
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    response = client.post(
        f"/api/v1/cameras/{camera.pk}/frames/",
        {"frame": SimpleUploadedFile("f.jpg", small_jpeg())},
        format="multipart",
        CONTENT_LENGTH=declared,
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_content_length"
    assert counters(camera).get("frames_processed", 0) == 0
    # The camera keeps working: the next, well-formed frame is accepted for matching or shed, never refused.
    assert post_frame(client, camera, small_jpeg()).status_code != 400


def test_a_leaked_in_flight_slot_expires_while_the_camera_keeps_posting(cast, live_deployment, settings):
    """A worker killed mid-frame never releases its slot; the slot must still expire on its own even
    though the camera posts all the while (one shared counter's expiry was refreshed by every frame)."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    camera = live_deployment.camera
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 2
    client = camera_client(cast, camera)
    frames.inflight_acquire(camera.pk, "killed-worker-1")
    frames.inflight_acquire(camera.pk, "killed-worker-2")
    assert post_frame(client, camera, small_jpeg()).status_code == 429
    start = timezone.now()
    ttl = max(settings.OVERSIGHT_FRAME_TTL_SECONDS, settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS) * 2
    for step in range(1, 4):  # the camera keeps posting (and being shed) while the slots age
        with time_machine.travel(start + timedelta(seconds=step * ttl / 4), tick=False):
            assert post_frame(client, camera, small_jpeg()).status_code == 429
    with time_machine.travel(start + timedelta(seconds=ttl + 1), tick=False):
        assert frames.inflight_count(camera.pk) == 0
        assert frames.inflight_acquire(camera.pk, "next-frame") == 1
        frames.inflight_release(camera.pk, "next-frame")


def test_a_frame_too_small_for_the_detector_is_a_coded_400(cast, live_deployment):
    """No face of the detector's minimum size fits: refused before queueing (it used to reach the engine and 500)."""
    from recognition.deployments.ingest import _min_frame_side

    camera = live_deployment.camera
    client = camera_client(cast, camera)
    smallest = _min_frame_side()
    response = post_frame(client, camera, small_jpeg((smallest - 1, 200)))
    assert response.status_code == 400 and response.json()["error"]["code"] == "frame_too_small"
    assert str(smallest) in response.json()["error"]["message"]
    assert frames.inflight_count(camera.pk) == 0
    assert post_frame(client, camera, small_jpeg((smallest, smallest))).status_code == 202
