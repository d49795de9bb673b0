"""A reviewer compares the camera crop with the watchlist image, where the agreement lets the operator's staff see it."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from governance import encryption
from governance.agreements.models import Agreement
from governance.audit.models import AuditAction, AuditEvent
from governance.errors import PermissionRefused, StateConflict
from governance.watchlist.models import WatchlistImageContent
from recognition.deployments.services.review import WATCHLIST_THUMBNAIL_PX, alert_watchlist_thumbnail
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert

pytestmark = [pytest.mark.django_db, pytest.mark.faces]


@pytest.fixture
def alert(live_deployment, active_agreement, cast, faces_dir):
    image = enrolled_image_row(active_agreement, cast.camden)
    data = (faces_dir / "dev" / "Kofi_Annan" / "Kofi_Annan_0001.jpg").read_bytes()
    WatchlistImageContent.objects.create(
        image=image, ciphertext=encryption.encrypt(data), key_id=encryption.key_fingerprint(), content_type="image/jpeg"
    )
    return raise_alert(live_deployment, image)


def _share_images_with_reviewers(agreement, allowed: bool) -> None:
    Agreement.objects.filter(pk=agreement.pk).update(operator_reviewers_see_image=allowed)


def _views(image) -> int:
    return AuditEvent.objects.filter(event="watchlist_image.viewed_for_review", target_id=str(image.pk)).count()


def test_the_operator_reviewer_sees_a_thumbnail_when_the_agreement_allows(client, alert, people, active_agreement):
    _share_images_with_reviewers(active_agreement, True)
    client.force_login(people.reviewer_a)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert 'id="probe-crop"' in page and 'id="watchlist-thumbnail"' in page
    src = reverse("alert-reference-image", args=[alert.pk])
    assert re.search(rf'<img src="{re.escape(src)}" alt="Watchlist image"', page)
    assert "base64" not in page  # the images come from their endpoints, which record each showing
    assert _views(alert.watchlist_image) == 0  # the page alone showed nothing
    response = client.get(src)
    assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "no-store"
    shown = Image.open(io.BytesIO(response.content))
    assert shown.format == "JPEG" and max(shown.size) <= WATCHLIST_THUMBNAIL_PX
    direct = Image.open(io.BytesIO(alert_watchlist_thumbnail(actor=people.reviewer_a, alert=alert)))
    assert direct.size == shown.size
    event = AuditEvent.objects.filter(event="watchlist_image.viewed_for_review").latest("sequence")
    assert event.action == AuditAction.CONSULTATION and event.justification
    assert event.target_id == str(alert.watchlist_image_id) and event.details["alert"] == alert.pk
    assert _views(alert.watchlist_image) == 2  # the endpoint and the direct call: every view is recorded


def test_without_the_agreement_term_the_operator_reviewer_sees_the_crop_only(client, alert, people, active_agreement):
    _share_images_with_reviewers(active_agreement, False)
    client.force_login(people.reviewer_a)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert 'id="probe-crop"' in page and 'id="watchlist-thumbnail"' not in page
    assert "does not let the operator" in page
    with pytest.raises(PermissionRefused) as refusal:
        alert_watchlist_thumbnail(actor=people.reviewer_a, alert=alert)
    assert refusal.value.code == "watchlist_image_not_shared_for_review"
    assert _views(alert.watchlist_image) == 0


def test_an_erased_image_is_explained_not_shown(client, alert, people, active_agreement):
    _share_images_with_reviewers(active_agreement, True)
    WatchlistImageContent.objects.filter(image_id=alert.watchlist_image_id).delete()
    with pytest.raises(StateConflict) as refusal:
        alert_watchlist_thumbnail(actor=people.reviewer_a, alert=alert)
    assert refusal.value.code == "watchlist_image_erased"
    client.force_login(people.reviewer_a)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert 'id="watchlist-thumbnail"' not in page and "was erased" in page


def test_people_who_cannot_review_the_deployment_get_no_image(alert, cast, active_agreement):
    _share_images_with_reviewers(active_agreement, True)
    with pytest.raises(PermissionRefused):
        alert_watchlist_thumbnail(actor=cast.estate_dpo, alert=alert)


def test_the_supplying_police_reviewer_sees_the_thumbnail_whatever_the_operator_term(
    client, alert, people, active_agreement
):
    _share_images_with_reviewers(active_agreement, False)
    client.force_login(people.police_reviewer)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert 'id="probe-crop"' in page and 'id="watchlist-thumbnail"' in page
    assert client.get(reverse("alert-reference-image", args=[alert.pk])).status_code == 200
    assert _views(alert.watchlist_image) == 1


def test_a_group_photo_thumbnail_shows_the_enrolled_face_not_the_whole_photo(
    alert, people, active_agreement, faces_dir
):
    """The watchlist image is a group photo; only one face in it was enrolled (the upload's face box)."""
    import csv

    from django.utils import timezone

    from recognition.models import FaceTemplate

    with open(faces_dir / "multi_face_boxes.csv") as handle:
        row = next(csv.DictReader(handle))
    data = (faces_dir / "dev" / row["file"]).read_bytes()
    WatchlistImageContent.objects.filter(image_id=alert.watchlist_image_id).update(ciphertext=encryption.encrypt(data))
    whole = Image.open(io.BytesIO(data))
    left, top, width, height = (float(row[k]) for k in ("left", "top", "width", "height"))
    box = [left, top, left + width, top + height]
    FaceTemplate.objects.create(
        image_id=alert.watchlist_image_id,
        agreement=active_agreement,
        ciphertext=b"-",
        key_id="-",
        face_box=box,
        detection_probability=0.99,
        engine="test",
        created_at=timezone.now(),
    )
    _share_images_with_reviewers(active_agreement, True)
    shown = Image.open(io.BytesIO(alert_watchlist_thumbnail(actor=people.reviewer_a, alert=alert)))
    # The face box grown by 40% a side keeps the face's proportions, not the photo's.
    box_ratio = (box[2] - box[0]) / (box[3] - box[1])
    assert abs(shown.width / shown.height - box_ratio) < 0.1
    assert abs(shown.width / shown.height - whole.width / whole.height) > 0.2
