"""The watchlist image door decodes nothing in the web request (issue 26): the request runs the cheap checks and
keeps the bytes as sent, encrypted, with the image ``checking``; the worker decodes them, re-encodes them without
metadata (the bytes as sent, EXIF and GPS with them, are erased) or rejects the image with the decode's code. Nothing
serves or uses the bytes of an image still checking. Bulk uploads are recorded with a result per file, read live."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance import encryption
from governance.audit.models import AuditEvent
from governance.watchlist.models import (
    DeletionCertificate,
    ImageStatus,
    WatchlistBulkUpload,
    WatchlistImage,
    WatchlistImageContent,
    WatchlistImageUpload,
)
from governance.watchlist.selectors import watchlist_images_matchable
from governance.watchlist.services import watchlist_image_bytes_for_processing, watchlist_image_withdraw
from tests.governance.watchlist.support import error_code, provenance_fields, synthetic_jpeg, upload, worker_check

pytestmark = pytest.mark.django_db

READ = {"HTTP_X_JUSTIFICATION": "Checking the stored copy for the test."}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def corrupt_png(width: int = 200, height: int = 200) -> bytes:
    """A PNG whose header is sound (the request's checks pass) and whose pixel data is not zlib at all."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"not zlib data " * 20) + _chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """A few hundred bytes claiming 30000x30000 16-bit RGBA pixels (7.2 GB decoded)."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 16, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 100_000, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def nothing_held(image_id: int) -> bool:
    return (
        not WatchlistImageContent.objects.filter(image_id=image_id).exists()
        and not WatchlistImageUpload.objects.filter(image_id=image_id).exists()
    )


def test_a_corrupt_png_is_answered_202_and_the_worker_rejects_it_with_its_code(
    camden_api, active_agreement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # the real task, run in-process
        response = upload(camden_api, active_agreement, corrupt_png(), name="photo.png")
    assert response.status_code == 202, response.content
    assert response.json()["stage"] == "checking" and len(callbacks) == 1
    image = WatchlistImage.objects.get(pk=response.json()["id"])
    assert image.status == ImageStatus.REJECTED and image.rejection_reason == "corrupt_image"
    assert not image.awaiting_check and nothing_held(image.pk)
    detail = camden_api.get(f"/api/v1/watchlist-images/{image.pk}/").json()
    assert detail["stage"] == "rejected" and detail["rejection_reason"] == "corrupt_image"
    assert "truncated or corrupt" in detail["rejection_message"]
    events = AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(image.pk))
    assert list(events.filter(action__in=["collection", "alteration"]).order_by("sequence").values_list("event")) == [
        ("watchlist_image.received",),
        ("watchlist_image.rejected",),
    ]
    assert events.get(event="watchlist_image.rejected").details["reason"] == "corrupt_image"


def test_a_png_decode_bomb_is_refused_at_the_door_from_its_header_and_nothing_is_kept(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, png_bomb(), name="bomb.png")
    assert response.status_code == 422 and error_code(response) in {"too_many_pixels", "decode_budget_exceeded"}
    assert not WatchlistImage.objects.exists() and not WatchlistImageUpload.objects.exists()


def test_exif_gps_of_the_upload_is_absent_from_storage_after_processing(camden_api, active_agreement):
    original = synthetic_jpeg(5, (240, 240), exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)  # the GPS block is there
    response = upload(camden_api, active_agreement, original)
    image_id = response.json()["id"]
    assert encryption.decrypt(WatchlistImageUpload.objects.get(image_id=image_id).ciphertext) == original
    assert worker_check(image_id) == "clean"
    assert not WatchlistImageUpload.objects.filter(image_id=image_id).exists()
    stored = encryption.decrypt(WatchlistImageContent.objects.get(image_id=image_id).ciphertext)
    with Image.open(io.BytesIO(stored)) as clean:
        assert not clean.getexif() and "exif" not in clean.info
    assert b"SecretCam" not in stored
    image = WatchlistImage.objects.get(pk=image_id)
    assert (image.width, image.height) == (240, 240) and image.stored_sha256 and not image.awaiting_check
    cleaned = AuditEvent.objects.get(event="watchlist_image.cleaned", target_id=str(image_id))
    assert cleaned.action == "alteration" and cleaned.details["uploaded_bytes_erased"] is True
    assert worker_check(image_id) == "skipped:no_upload"  # idempotent


def test_no_reader_serves_or_uses_the_bytes_of_an_image_still_checking(
    client, camden_api, camden_submitter, active_agreement
):
    image_id = upload(camden_api, active_agreement, synthetic_jpeg(6)).json()["id"]
    image = WatchlistImage.objects.get(pk=image_id)
    assert image.stage == "checking"
    read = camden_api.get(f"/api/v1/watchlist-images/{image_id}/image/", **READ)
    assert read.status_code == 409 and error_code(read) == "image_checking"
    assert not AuditEvent.objects.filter(event="watchlist_image.bytes_read").exists()
    assert watchlist_image_bytes_for_processing(image_id=image_id) is None  # enrolment, reviewers' crops
    # Not matchable, so no deployment can compose it into a watchlist (composition takes matchable images only).
    assert not watchlist_images_matchable(type(active_agreement).objects.filter(pk=active_agreement.pk)).exists()
    client.force_login(camden_submitter)
    page = client.get(reverse("watchlist-image-detail", args=[image_id])).content.decode()
    assert 'id="image-status">Checking' in page
    assert worker_check(image_id) == "clean"
    assert camden_api.get(f"/api/v1/watchlist-images/{image_id}/image/", **READ).status_code == 200
    page = client.get(reverse("watchlist-image-detail", args=[image_id])).content.decode()
    assert "image-checking" not in page and "Received (awaiting enrolment)" in page


def test_withdrawn_while_checking_the_upload_is_erased_with_a_certificate_and_the_worker_skips(
    camden_api, camden_submitter, active_agreement
):
    image_id = upload(camden_api, active_agreement, synthetic_jpeg(7)).json()["id"]
    image = WatchlistImage.objects.get(pk=image_id)
    watchlist_image_withdraw(actor=camden_submitter, image=image, reason="Uploaded under the wrong reference.")
    assert nothing_held(image_id)
    certificate = DeletionCertificate.objects.get(subject_type="governance.watchlistimageupload")
    assert certificate.subject_id == str(image_id) and certificate.sha256 == image.sha256
    assert worker_check(image_id) == "skipped:no_upload"
    image.refresh_from_db()
    assert image.status == ImageStatus.ERASED and not image.awaiting_check


def test_the_recovery_sweep_takes_up_an_image_left_checking(camden_api, active_agreement):
    from recognition.tasks import enrol_pending_images

    image_id = upload(camden_api, active_agreement, corrupt_png(), name="photo.png").json()["id"]
    assert enrol_pending_images() == 0  # too recent: its own task may still be on its way
    WatchlistImage.objects.filter(pk=image_id).update(received_at=timezone.now() - timedelta(minutes=5))
    assert enrol_pending_images() == 1  # tasks run in-process here: the worker's check ran
    image = WatchlistImage.objects.get(pk=image_id)
    assert image.status == ImageStatus.REJECTED and image.rejection_reason == "corrupt_image" and nothing_held(image_id)
    assert enrol_pending_images() == 0


def test_a_bulk_upload_is_answered_202_with_a_result_per_file_read_live(camden_api, btp_api, active_agreement):
    def item(data: bytes, reference: str) -> dict:
        fields = provenance_fields(active_agreement, subject_reference=reference)
        return {**fields, "image_base64": base64.b64encode(data).decode()}

    items = [
        item(synthetic_jpeg(21), "KX-BULK-1"),
        item(corrupt_png(), "KX-BULK-2"),
        item(b"plain text, not a photo", "KX-BULK-3"),
        {"agreement": active_agreement.pk},  # no provenance
    ]
    response = camden_api.post("/api/v1/watchlist-images/bulk/", {"items": items}, format="json")
    assert response.status_code == 202, response.content[:300]
    body = response.json()
    bulk = WatchlistBulkUpload.objects.get()
    assert body["url"] == f"/api/v1/watchlist-bulk-uploads/{bulk.pk}/" == response["Location"]
    assert (body["accepted"], body["refused"], body["checking"], body["complete"]) == (2, 2, 2, False)
    ok = [r["image"]["id"] for r in body["results"] if r["ok"]]
    assert [r["ok"] for r in body["results"]] == [True, True, False, False]
    assert [r["error"]["code"] for r in body["results"] if not r["ok"]] == ["not_an_image", "missing_provenance"]
    assert {r["image"]["stage"] for r in body["results"] if r["ok"]} == {"checking"}

    assert [worker_check(pk) for pk in ok] == ["clean", "rejected:corrupt_image"]
    later = camden_api.get(body["url"]).json()
    assert (later["checking"], later["complete"]) == (0, True)
    first, second = (r["image"] for r in later["results"][:2])
    assert first["stage"] == "received" and first["width"] == 160
    assert second["stage"] == "rejected" and second["rejection_reason"] == "corrupt_image"
    # Another force's token: the same answer as a bulk that does not exist.
    assert btp_api.get(body["url"]).status_code == 404
    assert btp_api.get(f"/api/v1/watchlist-bulk-uploads/{bulk.pk + 99}/").status_code == 404
    assert AuditEvent.objects.filter(event="watchlist_bulk_upload.viewed").exists()


def test_the_web_bulk_results_page_shows_each_file_as_it_completes(client, camden_submitter, active_agreement):
    client.force_login(camden_submitter)
    fields = provenance_fields(active_agreement)
    del fields["subject_reference"], fields["custody_reference"]
    fields["images"] = [
        SimpleUploadedFile("one.jpg", synthetic_jpeg(31), content_type="image/jpeg"),
        SimpleUploadedFile("two.png", corrupt_png(), content_type="image/png"),
    ]
    fields["manifest"] = "one.jpg, KX-SUBJ-0201, CUST/2/201\ntwo.png, KX-SUBJ-0202, CUST/2/202\n"
    response = client.post(reverse("watchlist-bulk-upload"), fields)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "2 received, 0 refused, 2 still checking" in page and page.count("badge checking") == 2
    for image in WatchlistImage.objects.all():
        worker_check(image.pk)
    page = client.get(response.url).content.decode()
    assert "2 received, 0 refused</h2>" in page and "badge checking" not in page
    assert "corrupt_image" in page and "Received (awaiting enrolment)" in page
    detail = client.get(
        reverse("watchlist-image-detail", args=[WatchlistImage.objects.get(subject_reference="KX-SUBJ-0202").pk])
    )
    assert 'id="image-rejection"' in detail.content.decode() and "corrupt_image" in detail.content.decode()
