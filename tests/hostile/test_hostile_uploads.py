"""Every hostile file of the corpus through every upload path: the police API (single and bulk) and
the camera frame endpoint. Each is refused with a coded 4xx, or accepted (202) and then either stored as clean pixels
(no trailer, no EXIF) or rejected by the worker's decode with a code (issue 26: the request runs only the cheap
checks); none causes a 500, and none is left in an unaccounted state."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.governance.watchlist.support import provenance_fields, token_client, upload, worker_check
from tests.hostile.corpus import COMMENT_MARKER, EXIF_MARKER, TRAILER, cases
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures
from tests.recognition.deployments.test_frames_api import camera_client, post_frame

pytestmark = pytest.mark.django_db

CASES = cases()
READ = {"HTTP_X_JUSTIFICATION": "Checking the stored copy of a hostile-input test file."}


@pytest.fixture
def api(cast):
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create

    submitter = user_create(
        actor=None,
        username="api.camden.hostile",
        organisation=cast.camden,
        roles=[Role.FORCE_SUBMITTER],
        password=cast.password,
    )
    return token_client(submitter)


def assert_coded_refusal(status: int, body: dict, name: str) -> None:
    assert 400 <= status < 500, f"{name}: {status}"
    assert isinstance(body["error"]["code"], str) and body["error"]["code"], f"{name}: no error code"


def assert_accepted_outcome(api, image_id: int, case) -> None:
    """Accepted at the door: the worker's decode (run here: the test's transaction never commits) either stores a
    clean copy or rejects the image with a code; a file the corpus says is lawful must be stored."""
    outcome = worker_check(image_id)
    if outcome == "clean":
        assert case.expect != "refuse", f"{case.name}: stored"
        assert_clean_copy(api, image_id, case.name)
    else:
        assert case.expect != "accept", f"{case.name}: {outcome}"
        assert_refused_after_receipt(image_id, case.name)


def assert_clean_copy(api, image_id: int, name: str) -> None:
    response = api.get(f"/api/v1/watchlist-images/{image_id}/image/", **READ)
    assert response.status_code == 200, name
    stored = response.content
    assert TRAILER not in stored and b"<script" not in stored, f"{name}: trailer kept"
    assert EXIF_MARKER.encode() not in stored, f"{name}: EXIF kept"
    assert COMMENT_MARKER not in stored, f"{name}: JPEG comment kept"
    with Image.open(io.BytesIO(stored)) as image:
        image.verify()


def assert_refused_after_receipt(image_id: int, name: str) -> None:
    """Accepted at the door, then rejected by the worker's decode with a code; no bytes of it are held."""
    from governance.watchlist.models import ImageStatus, WatchlistImage, WatchlistImageContent, WatchlistImageUpload

    image = WatchlistImage.objects.get(pk=image_id)
    assert image.status == ImageStatus.REJECTED and image.rejection_reason, f"{name}: {image.status}"
    assert not image.awaiting_check, name
    assert not WatchlistImageContent.objects.filter(image_id=image_id).exists(), name
    assert not WatchlistImageUpload.objects.filter(image_id=image_id).exists(), name


def test_hostile_files_through_the_single_upload_api(api, active_agreement):
    for number, case in enumerate(CASES):
        response = upload(
            api, active_agreement, case.data, name=case.name, subject_reference=f"KX-HOSTILE-{number:03d}"
        )
        assert response.status_code < 500, f"{case.name}: {response.status_code}"
        if response.status_code == 202:
            assert_accepted_outcome(api, response.json()["id"], case)
        else:
            assert case.expect != "accept", f"{case.name}: {response.status_code} {response.content[:200]!r}"
            assert_coded_refusal(response.status_code, response.json(), case.name)


def test_hostile_files_through_the_bulk_upload_api(api, active_agreement, settings):
    items = []
    for number, case in enumerate(CASES):
        fields = {
            k: v
            for k, v in provenance_fields(active_agreement, subject_reference=f"KX-HOSTILE-B{number:03d}").items()
            if v is not None
        }
        items.append({**fields, "image_base64": base64.b64encode(case.data).decode()})
    batch = settings.OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS
    results = []
    for start in range(0, len(items), batch):
        response = api.post("/api/v1/watchlist-images/bulk/", {"items": items[start : start + batch]}, format="json")
        assert response.status_code == 202, response.content[:300]
        results += response.json()["results"]
    assert len(results) == len(CASES)
    for case, result in zip(CASES, results, strict=True):
        if result["ok"]:
            assert_accepted_outcome(api, result["image"]["id"], case)
        else:
            assert case.expect != "accept", f"{case.name}: {result['error']}"
            assert 400 <= result["error"]["status"] < 500 and result["error"]["code"], case.name


def test_hostile_files_through_the_camera_frame_endpoint(cast, live_deployment):  # noqa: F811
    """The frame endpoint reads only the header (a camera posts several frames a second); a frame
    whose body is bad is accepted (202) and then dropped as unreadable by the worker that decodes it.
    So every frame answered 202 ends in exactly one counted outcome, and none turned away is."""
    from recognition.deployments.selectors import frames_unreconciled

    camera = live_deployment.camera
    client = camera_client(cast, camera)
    taken = []
    for case in CASES:
        response = post_frame(client, camera, case.data, name=case.name)
        assert response.status_code < 500, f"{case.name}: {response.status_code}"
        if response.status_code == 202:
            taken.append(case.name)
        else:
            assert_coded_refusal(response.status_code, response.json(), case.name)
    assert "polyglot.jpg" in taken and "script.svg" not in taken and "bomb-10000x10000.png" not in taken
    rows = [row for row in frame_accounting_rows() if row["camera_id"] == camera.pk]
    accepted = sum(row["accepted"] for row in rows)
    settled = sum(row["processed"] + row["dropped"] for row in rows)
    assert accepted == settled == len(taken), (rows, taken)
    assert frames_unreconciled(include_unsettled=True) == []


def frame_accounting_rows():
    from recognition.deployments.selectors import frame_accounting

    return frame_accounting()


def test_the_same_pixels_with_a_polyglot_trailer_or_other_exif_are_a_duplicate(api, active_agreement):
    from tests.hostile.corpus import _noise, _save, _with_comment

    original = _save(_noise(seed=41), "JPEG")
    first = upload(api, active_agreement, original, subject_reference="KX-HOSTILE-D1")
    assert first.status_code == 202 and worker_check(first.json()["id"]) == "clean"
    from governance.watchlist.models import ImageStatus, WatchlistImage

    for number, variant in enumerate([original + TRAILER, _with_comment(original, COMMENT_MARKER)]):
        # Other bytes: accepted at the door; the worker finds the same canonical pixels and rejects it.
        again = upload(api, active_agreement, variant, subject_reference=f"KX-HOSTILE-D{number + 2}")
        assert again.status_code == 202, again.content[:200]
        assert worker_check(again.json()["id"]) == "rejected:duplicate_image"
        image = WatchlistImage.objects.get(pk=again.json()["id"])
        assert image.status == ImageStatus.REJECTED and image.rejection_reason == "duplicate_image"
        assert f"#{first.json()['id']}" in image.rejection_message
