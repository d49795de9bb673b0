"""One force cannot hold the web tier with image decodes (issue 26): an organisation's decodes in flight are
counted across processes (the shared cache) and one over ``OVERSIGHT_IMAGE_DOOR_CONCURRENCY`` is a coded 429 with
``Retry-After`` — on the API and on the web form — while another organisation's upload goes through."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.image_doors import ImageDoorBusy, image_door, image_door_in_flight
from governance.watchlist.models import WatchlistImage
from tests.governance.watchlist.support import error_code, provenance_fields, synthetic_jpeg, upload
from tests.recognition.deployments.test_supply_scope import btp_agreement  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_slot(settings):
    settings.OVERSIGHT_IMAGE_DOOR_CONCURRENCY = 1
    cache.clear()


def test_the_slot_is_given_back_whatever_happens(camden_submitter):
    with pytest.raises(RuntimeError), image_door(camden_submitter):
        assert image_door_in_flight(camden_submitter.organisation_id) == 1
        raise RuntimeError("the decode failed")
    assert image_door_in_flight(camden_submitter.organisation_id) == 0
    with image_door(camden_submitter), pytest.raises(ImageDoorBusy), image_door(camden_submitter):
        pass
    assert image_door_in_flight(camden_submitter.organisation_id) == 0


def test_a_force_over_its_slots_gets_a_coded_429_and_others_do_not(
    camden_api, btp_api, camden_submitter, active_agreement, btp_agreement
):
    with image_door(camden_submitter):  # a Camden decode in flight
        busy = upload(camden_api, active_agreement, image=synthetic_jpeg(1))
        assert busy.status_code == 429 and error_code(busy) == "image_door_busy"
        assert busy["Retry-After"] == str(ImageDoorBusy.retry_after_seconds)
        other = upload(btp_api, btp_agreement, image=synthetic_jpeg(2))
        assert other.status_code == 202, other.content
    assert not WatchlistImage.objects.filter(agreement=active_agreement).exists()
    assert upload(camden_api, active_agreement, image=synthetic_jpeg(1)).status_code == 202


def test_the_web_form_answers_429_with_retry_after(client, camden_submitter, active_agreement):
    client.force_login(camden_submitter)
    fields = provenance_fields(active_agreement)
    with image_door(camden_submitter):
        fields["image"] = SimpleUploadedFile("face.jpg", synthetic_jpeg(3), content_type="image/jpeg")
        busy = client.post(reverse("watchlist-upload"), fields)
    assert busy.status_code == 429 and busy["Retry-After"] == str(ImageDoorBusy.retry_after_seconds)
    assert "being checked" in busy.content.decode() and not WatchlistImage.objects.exists()
