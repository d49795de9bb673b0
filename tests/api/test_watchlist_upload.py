"""Uploading watchlist images through the police API: acceptance and every refusal."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from PIL import Image

from governance.agreements.models import Agreement, AgreementStatus
from governance.audit.models import AuditEvent
from governance.watchlist.models import ImageStatus, WatchlistImage, WatchlistImageContent, WatchlistImageUpload
from tests.governance.watchlist.support import error_code, synthetic_jpeg, upload, worker_check

pytestmark = pytest.mark.django_db


def test_upload_accepted_with_provenance_and_audited(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, seed=7)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "received" and body["stage"] == "checking"  # the worker has not decoded it yet
    assert body["url"] == f"/api/v1/watchlist-images/{body['id']}/" == response["Location"]
    assert body["supplying_organisation"] == "met-camden" and body["supplying_force"] == "met"
    assert body["agreement_reference"] == active_agreement.reference
    assert body["schedule8_condition"] == active_agreement.schedule8_condition  # defaulted from the agreement
    image = WatchlistImage.objects.get(pk=body["id"])
    assert image.sha256 == __import__("hashlib").sha256(synthetic_jpeg(7)).hexdigest()
    events = AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(image.pk))
    event = events.get(action="collection")
    assert event.event == "watchlist_image.received"
    assert event.actor_username == "api.camden"
    assert event.details["token"] == camden_api.token_entry.token_key
    # For the force the supply is a disclosure to the operator, under the agreement (s.62, issue 22).
    disclosed = events.get(action="disclosure")
    assert disclosed.recipient == active_agreement.receiving_organisation.name


def test_stored_bytes_are_encrypted_and_exif_is_stripped(camden_api, active_agreement):
    original = synthetic_jpeg(3, exif_gps=True)
    assert b"SecretCam" in original and Image.open(io.BytesIO(original)).getexif().get(0x8825)
    response = upload(camden_api, active_agreement, original)
    assert response.status_code == 202
    image_id = response.json()["id"]

    def stored(table: str) -> list[bytes]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT ciphertext FROM {table} WHERE image_id = %s", [image_id])
            return [bytes(row[0]) for row in cursor.fetchall()]

    # Until the worker has checked it, the upload waits encrypted and nothing serves it.
    (waiting,) = stored(WatchlistImageUpload._meta.db_table)
    assert b"\xff\xd8\xff" not in waiting and b"SecretCam" not in waiting
    assert stored(WatchlistImageContent._meta.db_table) == []
    unchecked = camden_api.get(
        f"/api/v1/watchlist-images/{image_id}/image/", HTTP_X_JUSTIFICATION="Checking the stored copy for the test."
    )
    assert unchecked.status_code == 409 and error_code(unchecked) == "image_checking"
    assert worker_check(image_id) == "clean"
    assert stored(WatchlistImageUpload._meta.db_table) == []  # the bytes as sent, EXIF and all, are gone
    (raw,) = stored(WatchlistImageContent._meta.db_table)
    assert b"\xff\xd8\xff" not in raw and b"JFIF" not in raw and b"SecretCam" not in raw
    read = camden_api.get(
        f"/api/v1/watchlist-images/{response.json()['id']}/image/",
        HTTP_X_JUSTIFICATION="Checking the stored copy for the test.",
    )
    assert read.status_code == 200 and read["Content-Type"] == "image/jpeg"
    stored = read.content
    assert stored.startswith(b"\xff\xd8\xff")
    assert b"SecretCam" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_anonymous_is_401(client, active_agreement):
    from rest_framework.test import APIClient

    response = upload(APIClient(), active_agreement)
    assert response.status_code == 401
    assert APIClient().get("/api/v1/watchlist-images/").status_code == 401


def test_wrong_role_is_403(cast, active_agreement):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(cast.camden_dpo)
    response = upload(api, active_agreement)
    assert response.status_code == 403 and error_code(response) == "role_cannot_upload"


@pytest.mark.parametrize(
    "change, code, status",
    [
        ({"status": AgreementStatus.EXPIRED}, "agreement_not_active", 409),
        ({"status": AgreementStatus.TERMINATED}, "agreement_not_active", 409),
        ({"starts_on_delta": 2}, "agreement_not_started", 409),
        ({"ends_on_delta": -1}, "agreement_ended", 409),
    ],
)
def test_agreement_state_and_dates_refused(camden_api, active_agreement, change, code, status):
    today = timezone.localdate()
    update = {}
    if "status" in change:
        update["status"] = change["status"]
    if "starts_on_delta" in change:
        update["starts_on"] = today + timedelta(days=change["starts_on_delta"])
    if "ends_on_delta" in change:
        update["starts_on"] = today - timedelta(days=10)
        update["ends_on"] = today + timedelta(days=change["ends_on_delta"])
        update["review_on"] = today - timedelta(days=5)
    Agreement.objects.filter(pk=active_agreement.pk).update(**update)
    response = upload(camden_api, active_agreement)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert "message" in response.json()["error"]
    assert not WatchlistImage.objects.exists()


def test_submitted_agreement_refused(camden_api, submitted_agreement):
    response = upload(camden_api, submitted_agreement)
    assert response.status_code == 409 and error_code(response) == "agreement_not_active"


def test_force_is_not_the_supplier_of_its_units_agreement(met_api, active_agreement):
    # The Met sees Camden's agreement (its unit's) but the agreement names Camden as the supplier.
    response = upload(met_api, active_agreement)
    assert response.status_code == 403 and error_code(response) == "not_a_party"


def test_unit_may_supply_under_its_forces_agreement(cast, camden_api):
    from governance.agreements import services
    from tests.conftest import agreement_terms, approved_dpia, approved_policy, signed_pdf

    agreement = services.agreement_draft(
        actor=cast.estate_dpo, fields=agreement_terms(cast, supplying_organisation=cast.met)
    )
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate(),
        reference="B-2",
        notified_by="x",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.met_dpo)
    agreement = services.agreement_approve(actor=cast.met_dpo, agreement=Agreement.objects.get(pk=agreement.pk))
    response = upload(camden_api, agreement)
    assert response.status_code == 202, response.content


def test_other_forces_agreement_is_404(btp_api, active_agreement):
    response = upload(btp_api, active_agreement)
    assert response.status_code == 404 and error_code(response) == "agreement_not_found"


def test_category_not_permitted(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, custody_category="missing")
    assert response.status_code == 422 and error_code(response) == "category_not_permitted"
    assert "permitted" in response.json()["error"]["details"]


def test_unknown_category_is_invalid_provenance(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, custody_category="suspected-witch")
    assert response.status_code == 400 and error_code(response) == "invalid_provenance"


def test_cap_reached(camden_api, active_agreement):
    Agreement.objects.filter(pk=active_agreement.pk).update(max_images=2)
    assert upload(camden_api, active_agreement, seed=1).status_code == 202
    assert upload(camden_api, active_agreement, seed=2).status_code == 202
    response = upload(camden_api, active_agreement, seed=3)
    assert response.status_code == 409 and error_code(response) == "image_cap_reached"
    assert WatchlistImage.objects.count() == 2


def test_duplicate_refused_until_withdrawn(camden_api, active_agreement):
    first = upload(camden_api, active_agreement, seed=5)
    response = upload(camden_api, active_agreement, seed=5, subject_reference="OTHER-REF")
    assert response.status_code == 409 and error_code(response) == "duplicate_image"
    assert response.json()["error"]["details"]["existing_image"] == first.json()["id"]
    withdrawn = camden_api.delete(f"/api/v1/watchlist-images/{first.json()['id']}/", HTTP_X_REASON="Wrong person")
    assert withdrawn.status_code == 200
    assert upload(camden_api, active_agreement, seed=5).status_code == 202


@pytest.mark.parametrize(
    "payload, code, status",
    [
        (b"this is a text file pretending to be a photo", "not_an_image", 422),
        (b"GIF89a" + b"\x00" * 100, "unsupported_type", 422),
        (b"", "empty_file", 422),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not_an_image", 422),
    ],
    ids=["text", "gif", "empty", "broken-png-header"],
)
def test_bytes_sniffed_not_trusted(camden_api, active_agreement, payload, code, status):
    response = upload(camden_api, active_agreement, payload, name="photo.jpg")
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not WatchlistImage.objects.exists() and not WatchlistImageContent.objects.exists()
    assert not AuditEvent.objects.filter(target_type="governance.watchlistimage").exists()


def test_file_too_large(camden_api, active_agreement, settings):
    settings.OVERSIGHT_WATCHLIST_MAX_BYTES = 2000
    response = upload(camden_api, active_agreement, synthetic_jpeg(1))
    assert response.status_code == 413 and error_code(response) == "file_too_large"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_from_the_header(camden_api, active_agreement):
    bomb = _png_header_only(60_000, 60_000)  # 3.6 gigapixels claimed by a ~100-byte file
    assert len(bomb) < 200
    response = upload(camden_api, active_agreement, bomb, name="innocent.png")
    assert response.status_code == 422 and error_code(response) == "too_many_pixels"


def test_pixel_limit_is_a_setting(camden_api, active_agreement, settings):
    settings.OVERSIGHT_WATCHLIST_MAX_PIXELS = 100 * 100
    response = upload(camden_api, active_agreement, synthetic_jpeg(1, size=(160, 160)))
    assert response.status_code == 422 and error_code(response) == "too_many_pixels"


@pytest.mark.parametrize(
    "missing", ["subject_reference", "custody_category", "custody_reference", "image_taken_on", "agreement"]
)
def test_missing_provenance(camden_api, active_agreement, missing):
    response = upload(camden_api, active_agreement, **{missing: None})
    assert response.status_code == 400 and error_code(response) == "missing_provenance"
    assert missing in response.json()["error"]["details"]


def test_missing_image(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, False)
    assert response.status_code == 400 and error_code(response) == "missing_image"


def test_future_dates_refused(camden_api, active_agreement):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = upload(camden_api, active_agreement, image_taken_on=tomorrow)
    assert response.status_code == 400 and error_code(response) == "invalid_provenance"


def test_png_and_webp_accepted_and_kept_in_their_format(camden_api, active_agreement):
    for seed, fmt, content_type, extension in ((11, "PNG", "image/png", ".png"), (12, "WEBP", "image/webp", ".webp")):
        response = upload(camden_api, active_agreement, synthetic_jpeg(seed, fmt=fmt), name="x.bin")
        assert response.status_code == 202, response.content
        assert response.json()["image_format"] == fmt
        assert worker_check(response.json()["id"]) == "clean"
        read = camden_api.get(
            f"/api/v1/watchlist-images/{response.json()['id']}/image/", HTTP_X_JUSTIFICATION="format check for test"
        )
        assert read["Content-Type"] == content_type
        assert read["Content-Disposition"].endswith(f'{extension}"')  # the name's extension matches the type


def test_face_box_parsed(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, face_box="10,20,110,140")
    assert response.status_code == 202 and response.json()["face_box"] == [10.0, 20.0, 110.0, 140.0]
    bad = upload(camden_api, active_agreement, seed=2, face_box="10,20,5,5")
    assert bad.status_code == 400 and error_code(bad) == "invalid_provenance"


def test_status_stays_received_without_a_commit(camden_api, active_agreement):
    # Enrolment runs after commit only; inside the test transaction nothing was enqueued.
    response = upload(camden_api, active_agreement)
    assert WatchlistImage.objects.get(pk=response.json()["id"]).status == ImageStatus.RECEIVED


def test_truncated_upload_refused_even_after_weasyprint_loosened_pillow(camden_api, active_agreement):
    import weasyprint  # noqa: F401  (sets ImageFile.LOAD_TRUNCATED_IMAGES = True on import)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        data = synthetic_jpeg(71)
        response = upload(camden_api, active_agreement, data[: len(data) // 2])
        assert response.status_code == 202  # the header is sound: the request accepts it
        assert worker_check(response.json()["id"]) == "rejected:corrupt_image"
        assert WatchlistImage.objects.get(pk=response.json()["id"]).rejection_reason == "corrupt_image"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
