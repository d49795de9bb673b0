"""The DPO's ledger pages, the King's Cross images, encryption key rotation."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from governance import encryption
from governance.watchlist.models import ImageStatus, WatchlistImage, WatchlistImageContent
from tests.governance.watchlist.support import upload, worker_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_id(camden_api, active_agreement):
    image_id = upload(camden_api, active_agreement, seed=61, subject_reference="LEDGER-REF-1").json()["id"]
    assert worker_check(image_id) == "clean"  # the worker's decode (the test's transaction never commits)
    return image_id


def test_operator_dpo_sees_the_ledger_and_the_image_history(client, cast, image_id, active_agreement):
    client.force_login(cast.estate_dpo)
    purpose = {"HTTP_X_OVERSIGHT_PURPOSE": "Oversight of the watchlist"}
    page = client.get("/watchlist/", **purpose)
    assert page.status_code == 200
    assert b"LEDGER-REF-1" in page.content and active_agreement.reference.encode() in page.content
    detail = client.get(f"/watchlist/{image_id}/", **purpose)
    assert detail.status_code == 200
    assert b"watchlist_image.received" in detail.content and b"CUST/01/2345" in detail.content
    assert b"Watchlist" in client.get("/").content  # nav link


def test_other_organisations_see_nothing(client, cast, image_id):
    client.force_login(cast.btp_dpo)
    purpose = {"HTTP_X_OVERSIGHT_PURPOSE": "Oversight of the watchlist"}
    assert b"LEDGER-REF-1" not in client.get("/watchlist/", **purpose).content
    assert client.get(f"/watchlist/{image_id}/", **purpose).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, image_id):
    response = client.get("/watchlist/")
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def _load_scenario(settings, faces):
    from governance.audit.models import AuditEvent  # noqa: F401

    settings.FACES_DIR = faces
    out = io.StringIO()
    call_command("load_scenario", stdout=out)
    return out.getvalue()


def test_scenario_records_the_seven_kings_cross_images_with_faces(db, settings, faces_dir):
    output = _load_scenario(settings, faces_dir)
    images = WatchlistImage.objects.filter(agreement__reference="KX-2016-BCU")
    assert images.count() == 7 and all(i.recorded_retrospectively for i in images)
    assert {i.supplying_organisation.short_name for i in images} == {"met-camden"}
    assert WatchlistImageContent.objects.filter(image__in=images).count() == 7
    assert {i.status for i in images} == {ImageStatus.RECEIVED}
    assert "7 King's Cross watchlist images recorded" in output


def test_scenario_without_faces_records_provenance_only_and_says_so(db, settings, tmp_path):
    output = _load_scenario(settings, tmp_path / "no-faces")
    images = WatchlistImage.objects.filter(agreement__reference="KX-2016-BCU")
    assert images.count() == 7 and not WatchlistImageContent.objects.exists()
    assert all("No image bytes held" in i.notes for i in images)
    assert "provenance only" in output


def test_key_rotation_reencrypts_and_old_key_can_be_dropped(settings, camden_api, image_id):
    old_key = settings.ENCRYPTION_KEYS[0]
    content = WatchlistImageContent.objects.get(image_id=image_id)
    clear = encryption.decrypt(content.ciphertext)
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.ENCRYPTION_KEYS = [new_key]
    content.refresh_from_db()
    assert encryption.decrypt(content.ciphertext) == clear
    assert content.key_id == encryption.key_fingerprint()
    settings.ENCRYPTION_KEYS = [old_key]
    with pytest.raises(encryption.InvalidToken):
        encryption.decrypt(content.ciphertext)
