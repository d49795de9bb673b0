"""The public door's files are decoded in the worker, not in the web request (issue 26 item 1): the request runs only
the cheap checks and stores the upload unchecked; the real task (``door.checks``, in-process after commit as in the
embedded default) keeps a metadata-free re-encoding or erases a refused file; no reader serves a file before it is
checked; the sweep re-queues a lost check."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from governance import encryption
from governance.audit.models import AuditEvent
from governance.subject_access.door.checks import door_file_check, door_files_sweep
from governance.subject_access.door.models import DoorFile
from governance.subject_access.door.services import door_context, door_photos
from governance.subject_access.models import SubjectRequest
from tests.governance.subject_access.conftest import face_like_jpeg
from tests.governance.subject_access.test_door import _code, _signed_in, _upload

DATA = {
    "right": "access",
    "requester_name": "Alex Example",
    "email": "alex@example.org",
    "request_text": "Any footage of me at King's Cross on 3 March.",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # the rate-limit windows live in the cache
    yield
    cache.clear()


def _corrupt_png() -> bytes:
    """A PNG whose header is sound (it passes every cheap check) but whose pixel data is cut short."""
    image = Image.frombytes("RGB", (200, 200), bytes((i * 7919) % 251 for i in range(200 * 200 * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    return data[: len(data) * 2 // 3]


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (51.0, 32.0, 0.5), 3: "W", 4: (0.0, 7.0, 30.0)}
    out = io.BytesIO()
    Image.open(io.BytesIO(face_like_jpeg(4))).save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def _post(client, cast, files: dict, capture, *, execute: bool):
    url = reverse("subject-door", args=[cast.estate.short_name])
    with capture(execute=execute) as callbacks:
        response = client.post(url, DATA | {name: _upload(data, f"{name}.bin") for name, data in files.items()})
    return response, callbacks


def test_a_corrupt_png_is_accepted_at_the_door_and_refused_by_the_worker(cast, django_capture_on_commit_callbacks):
    corrupt = _corrupt_png()
    response, _ = _post(
        Client(),
        cast,
        {"photo": corrupt, "identity": face_like_jpeg(2)},
        django_capture_on_commit_callbacks,
        execute=True,
    )
    assert response.status_code == 302  # the request never decoded it: accepted
    request = SubjectRequest.objects.get()
    refused = DoorFile.objects.get(kind="photo")
    assert refused.refusal_code == "corrupt_image" and refused.checked_at and refused.erased_at
    assert refused.ciphertext is None  # the bytes as sent do not survive
    event = AuditEvent.objects.get(event="subject_door.file_refused")
    assert event.details["code"] == "corrupt_image" and event.details["request"] == request.reference
    identity = DoorFile.objects.get(kind="identity")
    assert identity.checked_at and not identity.refusal_code
    assert AuditEvent.objects.filter(event="subject_door.file_cleaned").count() == 1

    dpo = _signed_in(cast.estate_dpo)
    detail = dpo.get(reverse("subject-request-detail", args=[request.pk]))
    assert b"Refused: corrupt_image" in detail.content
    opened = dpo.get(reverse("subject-door-file", args=[refused.pk]))
    assert opened.status_code == 409 and b"door_file_refused" in opened.content
    assert door_photos(request) == []
    assert door_file_check(file_id=refused.pk) == "skipped:checked"  # idempotent


def test_the_uploads_exif_gps_is_gone_from_storage_after_the_check(cast, django_capture_on_commit_callbacks):
    sent = _jpeg_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload carries a position
    _, callbacks = _post(Client(), cast, {"photo": sent}, django_capture_on_commit_callbacks, execute=False)
    item = DoorFile.objects.get()
    assert item.checked_at is None and encryption.decrypt(bytes(item.ciphertext)) == sent  # stored as sent, unchecked
    for callback in callbacks:  # after commit: the e-mails and the worker's check (in-process, the embedded default)
        callback()
    item.refresh_from_db()
    stored = encryption.decrypt(bytes(item.ciphertext))
    assert item.checked_at and stored != sent and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert Image.open(io.BytesIO(stored)).size == (200, 200)
    assert item.size == len(stored) and item.content_type == "image/jpeg"
    import hashlib

    assert item.sha256 == hashlib.sha256(stored).hexdigest()
    assert door_file_check(file_id=item.pk) == "skipped:checked"
    item.refresh_from_db()
    assert encryption.decrypt(bytes(item.ciphertext)) == stored  # a second run changes nothing


def test_no_reader_serves_a_file_before_it_is_checked(cast, clean_registry, django_capture_on_commit_callbacks):
    from tests.governance.subject_access.test_search_and_export import colour_layout

    clean_registry.face_reader_register(colour_layout)
    _, callbacks = _post(
        Client(),
        cast,
        {"photo": face_like_jpeg(1), "identity": face_like_jpeg(2)},
        django_capture_on_commit_callbacks,
        execute=False,
    )
    request = SubjectRequest.objects.get()
    photo = DoorFile.objects.get(kind="photo")
    dpo = _signed_in(cast.estate_dpo)
    assert door_photos(request) == []
    detail = dpo.get(reverse("subject-request-detail", args=[request.pk]))
    assert detail.content.count(b"Checking") == 2 and reverse("subject-door-file", args=[photo.pk]).encode() not in (
        detail.content
    )
    opened = dpo.get(reverse("subject-door-file", args=[photo.pk]))
    assert opened.status_code == 409 and b"door_file_checking" in opened.content
    search_page = dpo.get(reverse("subject-request-search", args=[request.pk]))
    assert b'name="door_photo"' not in search_page.content
    searched = dpo.post(
        reverse("subject-request-search", args=[request.pk]),
        {"justification": "Photo sent with the request.", "door_photo": photo.pk},
    )
    assert searched.status_code == 400 and b"still being checked" in searched.content  # the form, with why
    assert not AuditEvent.objects.filter(event="subject_door.file_viewed").exists()

    for callback in callbacks:
        callback()
    assert [f.pk for f in door_photos(request)] == [photo.pk]
    assert dpo.get(reverse("subject-door-file", args=[photo.pk])).status_code == 200
    assert b"Checking" not in dpo.get(reverse("subject-request-detail", args=[request.pk])).content


def test_a_file_sent_with_an_answer_is_checked_in_the_worker_too(cast, django_capture_on_commit_callbacks):
    client = Client()
    _post(client, cast, {"photo": face_like_jpeg(1)}, django_capture_on_commit_callbacks, execute=True)
    request = SubjectRequest.objects.get()
    code = _code(mail.outbox[-1])  # no proof of identity sent: asked at once, with a code
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(
            reverse("subject-door-return"),
            {"reference": request.reference, "code": code, "identity": _upload(_corrupt_png(), "licence.png")},
        )
    assert answered.status_code == 200  # accepted: the request does not decode
    identity = DoorFile.objects.get(kind="identity")
    assert identity.refusal_code == "corrupt_image" and identity.ciphertext is None
    # A refused proof of identity does not offer the DPO its arrival as the day the month restarts from.
    assert "restart_form" not in door_context(request)
    detail = _signed_in(cast.estate_dpo).get(reverse("subject-request-detail", args=[request.pk]))
    assert b"Refused: corrupt_image" in detail.content


def test_the_cheap_checks_still_refuse_in_the_request(cast, django_capture_on_commit_callbacks):
    truncated_header = _corrupt_png()[:20]  # cut inside the header: refused without decoding
    response, _ = _post(Client(), cast, {"photo": truncated_header}, django_capture_on_commit_callbacks, execute=True)
    assert response.status_code == 400 and b"not_an_image" in response.content
    assert not DoorFile.objects.exists() and not SubjectRequest.objects.exists()


def test_the_sweep_requeues_a_lost_check(cast, django_capture_on_commit_callbacks):
    assert settings.CELERY_BEAT_SCHEDULE["subject-door-files-sweep"]["task"] == (
        "governance.subject_access.door.checks.door_files_sweep"
    )
    _post(Client(), cast, {"photo": face_like_jpeg(1)}, django_capture_on_commit_callbacks, execute=False)
    item = DoorFile.objects.get()  # its task was lost: the after-commit work never ran
    assert door_files_sweep() == {"requeued": 0}  # too recent: its task may still be on its way
    item.refresh_from_db()
    assert item.checked_at is None
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert door_files_sweep() == {"requeued": 1}  # queued again (in-process here)
    item.refresh_from_db()
    assert item.checked_at and not item.refusal_code
    with time_machine.travel(timezone.now() + timedelta(minutes=32)):
        assert door_files_sweep() == {"requeued": 0}
