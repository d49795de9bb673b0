"""The data subject's own door (issue 25 item 4), through the web client as a person and a DPO use
it: submission into the DPO's register, the identity and clarification round trip with one-time
codes, the response's single-use expiring link and its code, the abuse limits, the retention of
what was sent, and scoping (another controller's DPO never sees the request)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance import encryption
from governance.audit.models import AuditEvent
from governance.subject_access import services as sars
from governance.subject_access.door.models import DoorCode, DoorFile
from governance.subject_access.models import ExportStatus, RequestStatus, SubjectRequest, SubjectRequestExport
from tests.governance.subject_access.conftest import face_like_jpeg


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # the rate-limit windows live in the cache
    yield
    cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run after-commit work (the e-mails, the export task) as the embedded default does."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _submit(client, cast, commit, *, identity=True, photo=True, **extra):
    data = {
        "right": "access",
        "requester_name": "Alex Example",
        "email": "alex@example.org",
        "request_text": "Any footage of me at King's Cross on 3 March.",
        "website": "",
        **extra,
    }
    if photo:
        data["photo"] = _upload(face_like_jpeg(1), "me.jpg")
    if identity:
        data["identity"] = _upload(face_like_jpeg(2), "passport.jpg")
    return commit(client.post, reverse("subject-door", args=[cast.estate.short_name]), data)


def _code(message) -> str:
    return re.search(r"\b(\d{8})\b", message.body).group(1)


def _link(message) -> str:
    return re.search(r"http://[^\s]+/requests/response/[^\s]+/", message.body).group(0).split("8000", 1)[1]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_submission_reaches_the_dpos_register_encrypted_and_audited(cast, commit):
    client = Client()
    page = client.get(reverse("subject-door", args=[cast.estate.short_name]))
    assert page.status_code == 200 and b"See the information held about me" in page.content
    response = _submit(client, cast, commit)
    assert response.status_code == 302 and response["Location"] == reverse("subject-door-sent")
    sent = client.get(response["Location"])
    request = SubjectRequest.objects.get()
    assert request.reference.encode() in sent.content
    # Into the DPO's existing workflow: received today, awaiting the DPO's check of identity.
    assert request.organisation == cast.estate and request.regime == "uk_gdpr" and request.right == "access"
    assert request.received_on == timezone.localdate() and request.status == RequestStatus.AWAITING_IDENTITY
    assert request.requester_contact == "alex@example.org"
    files = list(DoorFile.objects.filter(submission__request=request))
    assert sorted(f.kind for f in files) == ["identity", "photo"]
    for item in files:  # encrypted at rest; what is stored is the re-encoded image
        assert b"JFIF" not in bytes(item.ciphertext)
        assert Image.open(io.BytesIO(encryption.decrypt(bytes(item.ciphertext)))).size == (200, 200)
    assert [m.to for m in mail.outbox] == [["alex@example.org"]]
    assert request.reference in mail.outbox[0].subject
    event = AuditEvent.objects.get(event="subject_door.submitted")
    assert event.details["files"] == ["identity", "photo"] and "alex" not in str(event.details)

    # The DPO sees it, opens the identity document (audited), and the other operator's DPO never does.
    dpo = _signed_in(cast.estate_dpo)
    detail = dpo.get(reverse("subject-request-detail", args=[request.pk]))
    assert b"Sent through the public page" in detail.content
    identity = next(f for f in files if f.kind == "identity")
    image = dpo.get(reverse("subject-door-file", args=[identity.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert AuditEvent.objects.filter(event="subject_door.file_viewed", actor_id=cast.estate_dpo.pk).count() == 1
    other = _signed_in(cast.other_dpo)
    assert other.get(reverse("subject-request-detail", args=[request.pk])).status_code == 404
    assert other.get(reverse("subject-door-file", args=[identity.pk])).status_code == 404
    assert request.reference.encode() not in other.get(reverse("subject-request-list")).content
    assert _signed_in(cast.met_dpo).get(reverse("subject-door-file", args=[identity.pk])).status_code == 404


def test_identity_and_clarification_round_trip_through_the_door(cast, commit):
    client = Client()
    _submit(client, cast, commit, identity=False)
    request = SubjectRequest.objects.get()
    # No proof of identity sent: the person is asked at once, with a one-time code.
    asked = mail.outbox[-1]
    assert "proof of who you are" in asked.body
    code = _code(asked)
    wrong = client.post(
        reverse("subject-door-return"),
        {"reference": request.reference, "code": "00000000" if code != "00000000" else "11111111", "text": "x"},
    )
    assert wrong.status_code == 400 and b"door_code_wrong" in wrong.content
    answered = commit(
        client.post,
        reverse("subject-door-return"),
        {"reference": request.reference, "code": code, "identity": _upload(face_like_jpeg(3), "licence.jpg")},
    )
    assert answered.status_code == 200 and b"door-answered" in answered.content
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_IDENTITY  # the DPO checks it; the month restarts from arrival
    again = client.post(reverse("subject-door-return"), {"reference": request.reference, "code": code, "text": "y"})
    assert again.status_code == 409 and b"door_code_used" in again.content

    dpo = _signed_in(cast.estate_dpo)
    detail = dpo.get(reverse("subject-request-detail", args=[request.pk]))
    assert timezone.localdate().isoformat().encode() in detail.content  # the restart form's date: arrival
    dpo.post(
        reverse("subject-request-action", args=[request.pk]),
        {
            "action": "restart",
            "on": timezone.localdate().isoformat(),
            "identity_verified_how": "Driving licence sent through the public page",
            "identity_verified_by_name": "Estate DPO",
        },
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN and request.due_on == sars.subject_request_due(request)

    # The DPO asks for clarification through the existing action: the person gets a code and answers.
    commit(
        dpo.post,
        reverse("subject-request-action", args=[request.pk]),
        {"action": "stop", "reason": "clarification", "on": timezone.localdate().isoformat(), "note": "Which day?"},
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_CLARIFICATION
    asked = mail.outbox[-1]
    assert "Which day?" in asked.body and request.reference in asked.subject
    response = commit(
        client.post,
        reverse("subject-door-return"),
        {"reference": request.reference, "code": _code(asked), "text": "3 March, around 5 pm."},
    )
    assert response.status_code == 200
    request.refresh_from_db()
    # s.54(3C): the answer restarts the clock on its day (the days asked–answered do not count).
    assert request.status == RequestStatus.OPEN
    assert request.pauses.get(reason="clarification").restarted_on == timezone.localdate()
    assert b"3 March, around 5 pm." in dpo.get(reverse("subject-request-detail", args=[request.pk])).content


def test_a_new_code_is_sent_only_to_the_address_of_the_request(cast, commit):
    client = Client()
    _submit(client, cast, commit, identity=False)
    request = SubjectRequest.objects.get()
    before = len(mail.outbox)
    commit(client.post, reverse("subject-door-new-code"), {"reference": request.reference, "email": "eve@example.org"})
    assert len(mail.outbox) == before
    commit(client.post, reverse("subject-door-new-code"), {"reference": request.reference, "email": "ALEX@example.org"})
    assert len(mail.outbox) == before + 1 and mail.outbox[-1].to == ["alex@example.org"]
    codes = DoorCode.objects.filter(submission__request=request, purpose="return").order_by("pk")
    assert codes[0].expires_at <= timezone.now() < codes[1].expires_at  # the earlier code stops working


def _responded(cast, commit) -> tuple[Client, SubjectRequest, SubjectRequestExport]:
    client = Client()
    _submit(client, cast, commit)
    request = SubjectRequest.objects.get()
    sars.subject_request_clock_restart(
        actor=cast.estate_dpo,
        request=request,
        on=timezone.localdate(),
        identity_verified_how="Passport through the public page",
        identity_verified_by_name="Estate DPO",
    )
    commit(sars.subject_request_export_start, actor=cast.estate_dpo, request=request)
    export = SubjectRequestExport.objects.get(request=request)
    assert export.status == ExportStatus.READY
    return client, request, export


def _send(cast, commit, export) -> tuple[str, str]:
    dpo = _signed_in(cast.estate_dpo)
    mail.outbox.clear()
    response = commit(dpo.post, reverse("subject-door-send", args=[export.pk]))
    assert response.status_code == 302
    link_mail, code_mail = mail.outbox
    assert "http" not in code_mail.body and _code(code_mail) not in link_mail.body  # sent separately
    return _link(link_mail), _code(code_mail)


def test_the_response_link_works_once_with_its_code(cast, commit):
    client, request, export = _responded(cast, commit)
    link, code = _send(cast, commit, export)
    assert client.get(link).status_code == 200
    wrong = client.post(link, {"code": "12345678" if code != "12345678" else "87654321"})
    assert wrong.status_code == 400 and b"door_code_wrong" in wrong.content and b"4 tries left" in wrong.content
    pdf = client.post(link, {"code": code})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    event = AuditEvent.objects.get(event="subject_door.downloaded")
    assert event.action == "disclosure" and request.reference in event.recipient
    second = client.post(link, {"code": code})
    assert second.status_code == 409 and b"door_code_used" in second.content
    assert client.get(link).status_code == 409
    assert client.get(reverse("subject-door-download", args=["not-a-link"])).status_code == 404
    # The link alone is not enough: without the code nothing is released.
    link2, _ = _send(cast, commit, export)
    assert client.post(link2, {"code": ""}).status_code == 400


def test_an_expired_link_is_refused(cast, commit):
    client, request, export = _responded(cast, commit)
    link, code = _send(cast, commit, export)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        expired = client.post(link, {"code": code})
    assert expired.status_code == 409 and b"door_code_expired" in expired.content


def test_wrong_codes_lock_the_link(cast, commit, settings):
    settings.OVERSIGHT_DOOR_CODE_ATTEMPTS = 3
    client, request, export = _responded(cast, commit)
    link, code = _send(cast, commit, export)
    wrong = "12345678" if code != "12345678" else "87654321"
    answers = [client.post(link, {"code": wrong}) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert b"door_code_locked" in answers[-1].content
    locked = client.post(link, {"code": code})
    assert locked.status_code == 429 and b"door_code_locked" in locked.content
    assert AuditEvent.objects.filter(event="subject_door.code_locked").count() == 1
    assert not AuditEvent.objects.filter(event="subject_door.downloaded").exists()


def test_limits_on_the_public_page(cast, commit, settings):
    client = Client()
    url = reverse("subject-door", args=[cast.estate.short_name])
    bot = _submit(client, cast, commit, website="http://spam.example")
    assert bot.status_code == 400 and b"door_bot_suspected" in bot.content
    gif = io.BytesIO()
    Image.new("RGB", (50, 50)).save(gif, format="GIF")
    data = {"right": "access", "requester_name": "A", "email": "a@example.org", "request_text": "Mine."}
    refused = client.post(url, data | {"photo": _upload(gif.getvalue(), "me.gif")})
    assert refused.status_code == 400 and b"unsupported_type" in refused.content
    settings.OVERSIGHT_WATCHLIST_MAX_PIXELS = 100 * 100
    refused = client.post(url, data | {"photo": _upload(face_like_jpeg(1), "big.jpg")})
    assert refused.status_code == 400 and b"too_many_pixels" in refused.content
    settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES = 1000
    refused = client.post(url, data | {"photo": _upload(face_like_jpeg(1), "big.jpg")})
    assert refused.status_code == 400 and b"file_too_large" in refused.content
    wrong_right = client.post(reverse("subject-door", args=[cast.met.short_name]), data | {"right": "objection"})
    assert wrong_right.status_code == 400  # objection has no Part 3 counterpart: not offered by a force
    assert not SubjectRequest.objects.exists()
    for name in (cast.regulator_org.short_name, cast.camden.short_name, "nobody"):
        assert client.get(reverse("subject-door", args=[name])).status_code == 404
    csrf = Client(enforce_csrf_checks=True).post(url, data)
    assert csrf.status_code == 403

    cache.clear()
    settings.OVERSIGHT_DOOR_RATE_PER_ADDRESS = "2/h"
    assert [client.post(url, data).status_code for _ in range(3)] == [302, 302, 429]
    cache.clear()
    settings.OVERSIGHT_DOOR_RATE_PER_ADDRESS = "100/h"
    settings.OVERSIGHT_DOOR_RATE_PER_CONTROLLER = "1/h"
    assert client.post(url, data).status_code == 302
    over = client.post(url, data)
    assert over.status_code == 429 and b"door_rate_org" in over.content
    assert client.post(reverse("subject-door", args=[cast.other_operator.short_name]), data).status_code == 302


def test_what_was_sent_is_erased_after_the_request_is_closed(cast, commit):
    from governance.retention.services import retention_sweep
    from governance.watchlist.models import DeletionCertificate

    _submit(Client(), cast, commit)
    request = SubjectRequest.objects.get()
    retention_sweep(at=timezone.now() + timedelta(days=400), triggered_by="test")
    assert DoorFile.objects.filter(erased_at__isnull=True).count() == 2  # kept while the request is open
    sars.subject_request_close(actor=cast.estate_dpo, request=request, status="withdrawn", note="Withdrawn by e-mail.")
    retention_sweep(at=timezone.now() + timedelta(days=20), triggered_by="test")
    assert DoorFile.objects.filter(erased_at__isnull=True).count() == 2
    retention_sweep(at=timezone.now() + timedelta(days=31), triggered_by="test")
    assert not DoorFile.objects.filter(ciphertext__isnull=False).exists()
    assert DeletionCertificate.objects.filter(subject_type="governance.doorfile").count() == 2
    assert AuditEvent.objects.filter(event="subject_door_file.erased").count() == 2
    item = DoorFile.objects.first()
    assert _signed_in(cast.estate_dpo).get(reverse("subject-door-file", args=[item.pk])).status_code == 409


def test_the_published_transparency_page_links_to_the_door(cast):
    from governance.reports.services import transparency_report_publish

    now = timezone.now()
    published = transparency_report_publish(
        actor=cast.estate_dpo, operator=cast.estate, start=now - timedelta(days=90), end=now
    )
    page = Client().get(reverse("report-published", args=[published.slug]))
    assert reverse("subject-door", args=[cast.estate.short_name]).encode() in page.content


def test_the_dpo_searches_by_face_with_the_photo_sent_through_the_door(cast, commit, clean_registry):
    from tests.governance.subject_access.test_search_and_export import colour_layout

    reads = []
    clean_registry.face_reader_register(lambda jpeg: reads.append(jpeg) or colour_layout(jpeg))
    _submit(Client(), cast, commit)
    request = SubjectRequest.objects.get()
    photo = DoorFile.objects.get(kind="photo")
    dpo = _signed_in(cast.estate_dpo)
    page = dpo.get(reverse("subject-request-search", args=[request.pk]))
    assert f'name="door_photo" value="{photo.pk}"'.encode() in page.content
    found = commit(
        dpo.post,
        reverse("subject-request-search", args=[request.pk]),
        {"justification": "Photo sent with the request.", "door_photo": photo.pk},
    )
    # Answered at once; the search ran on commit (in-process, as in the embedded default) and erased its copy of
    # the photo (the door's own file stays, under the door's retention).
    from governance.subject_access.models import SubjectPhotoSearch

    search = SubjectPhotoSearch.objects.get()
    assert found.status_code == 302 and found["Location"].endswith(f"/search/{search.pk}/") and len(reads) == 1
    assert search.status == "done" and search.photo_ciphertext is None and search.photo_erased_at
    assert DoorFile.objects.filter(pk=photo.pk).exists()
    assert AuditEvent.objects.get(event="subject_request.searched").details["by_face"] is True
    assert AuditEvent.objects.filter(event="subject_door.file_viewed").count() == 1
    # Another request's photo is not this request's: not found.
    other = dpo.post(
        reverse("subject-request-search", args=[request.pk]),
        {"justification": "Photo sent with the request.", "door_photo": photo.pk + 1000},
    )
    assert other.status_code == 404


def test_a_body_over_the_doors_limit_is_refused_before_it_is_read(cast, settings):
    settings.OVERSIGHT_DOOR_MAX_FILES = 1
    settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES = 10_000
    url = reverse("subject-door", args=[cast.estate.short_name])
    data = {"right": "access", "requester_name": "A", "email": "a@example.org", "request_text": "Mine."}
    big = Client().post(url, data | {"photo": _upload(b"\xff\xd8\xff" + bytes(200_000), "big.jpg")})
    assert big.status_code == 413 and b"body_too_large" in big.content
    assert not SubjectRequest.objects.exists()
    assert Client().post(url, data).status_code == 302  # an ordinary request is untouched
