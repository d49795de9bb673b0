"""A rejected image can be sent again, corrected (here: with the face box naming the face to enrol).
The rejection stays on the record as history; duplicates are judged only against images still
waiting for enrolment or enrolled."""

from __future__ import annotations

import csv

import pytest

from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.models import FaceTemplate
from tests.governance.watchlist.support import error_code, synthetic_jpeg, upload

pytestmark = pytest.mark.django_db

GROUP_PHOTO = "_multi/2008_002506.jpg"


def _first_face_box(faces_dir) -> str:
    with open(faces_dir / "multi_face_boxes.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["file"] == GROUP_PHOTO)
    left, top, width, height = (float(row[k]) for k in ("left", "top", "width", "height"))
    return f"{left},{top},{left + width},{top + height}"


@pytest.mark.faces
@pytest.mark.slow
def test_a_rejected_group_photo_is_resubmitted_with_a_face_box_and_enrolled(
    faces_dir,
    camden_api,
    active_agreement,
    django_capture_on_commit_callbacks,
):
    from recognition.engine.config import load_config
    from tests.conftest import require

    require(load_config().weights_path.is_file(), "engine weights missing (run the setup step)")
    photo = (faces_dir / "dev" / GROUP_PHOTO).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(camden_api, active_agreement, photo)
    assert first.status_code == 202, first.content
    rejected = WatchlistImage.objects.get(pk=first.json()["id"])
    assert rejected.status == ImageStatus.REJECTED and rejected.rejection_reason == "multiple_faces"

    with django_capture_on_commit_callbacks(execute=True):
        again = upload(camden_api, active_agreement, photo, face_box=_first_face_box(faces_dir))
    assert again.status_code == 202, again.content
    corrected = WatchlistImage.objects.get(pk=again.json()["id"])
    assert corrected.pk != rejected.pk and corrected.sha256 == rejected.sha256
    assert corrected.status == ImageStatus.ENROLLED and FaceTemplate.objects.filter(image=corrected).exists()
    rejected.refresh_from_db()
    assert rejected.status == ImageStatus.REJECTED  # the history of the first attempt is kept

    # Now that a copy is enrolled, the same bytes are a duplicate again, pointing at the enrolled one.
    third = upload(camden_api, active_agreement, photo, face_box=_first_face_box(faces_dir))
    assert third.status_code == 409 and error_code(third) == "duplicate_image"
    assert third.json()["error"]["details"] == {"existing_image": corrected.pk}


def test_a_rejected_image_does_not_block_its_resubmission(camden_api, active_agreement):
    """Without the engine: the rejection recorded by the enrolment service, then the same bytes again."""
    from governance.watchlist.models import RejectionReason
    from governance.watchlist.services import watchlist_image_record_rejection

    data = synthetic_jpeg(61)
    first = upload(camden_api, active_agreement, data)
    assert first.status_code == 202
    image = WatchlistImage.objects.get(pk=first.json()["id"])
    # Waiting for enrolment, the same bytes are a duplicate.
    waiting = upload(camden_api, active_agreement, data)
    assert waiting.status_code == 409 and error_code(waiting) == "duplicate_image"
    watchlist_image_record_rejection(image=image, reason=RejectionReason.NO_FACE, message="No face was found.")
    resubmitted = upload(camden_api, active_agreement, data, face_box="10,10,120,120")
    assert resubmitted.status_code == 202, resubmitted.content
    assert resubmitted.json()["status"] == "received" and resubmitted.json()["face_box"] == [10.0, 10.0, 120.0, 120.0]
    assert list(WatchlistImage.objects.filter(sha256=image.sha256).order_by("pk").values_list("status", flat=True)) == [
        ImageStatus.REJECTED,
        ImageStatus.RECEIVED,
    ]
