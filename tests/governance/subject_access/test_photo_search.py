"""The search by the requester's photo, off the web request (issue 26): the request checks only what the photo's
length and header say and answers at once; the worker's task decodes, reads the face and searches; what it refuses
(no face, corrupt data) is a coded result on the search's page, never a 500; the photo is erased either way."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from PIL import Image

from governance.audit.models import AuditEvent
from governance.subject_access import photo_searches
from governance.subject_access import services as sars
from governance.subject_access.models import SubjectPhotoSearch
from governance.subject_access.photo_searches import subject_photo_search_task
from tests.governance.subject_access.conftest import face_like_jpeg, intake
from tests.governance.subject_access.test_search_and_export import ProbeStore, colour_layout

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Photo supplied with the SAR by the requester."


def _png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))


def _flat_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 120, 120)).save(out, format="JPEG")
    return out.getvalue()


def _post_photo(client, sar, photo: bytes, name: str = "me.jpg"):
    """Post the search and run what it queued after commit, as the embedded default does."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("subject-request-search", args=[sar.pk]),
            {"justification": JUSTIFICATION, "photo": SimpleUploadedFile(name, photo, content_type="image/jpeg")},
        )


@pytest.fixture
def sar(cast):
    return sars.subject_request_receive(actor=cast.estate_dpo, fields=intake())


def test_a_decompression_bomb_is_refused_in_the_request_from_its_header_with_its_code(
    client, cast, sar, clean_registry
):
    clean_registry.face_reader_register(colour_layout)
    client.force_login(cast.estate_dpo)
    response = _post_photo(client, sar, _png_bomb(), "bomb.png")
    assert response.status_code == 400 and "PNG images may have at most" in response.content.decode()
    assert not SubjectPhotoSearch.objects.exists()  # nothing recorded, nothing queued
    refused = AuditEvent.objects.get(event="subject_request.search_refused")
    assert refused.details["refused"] == "too_many_pixels" and refused.justification == JUSTIFICATION


@pytest.mark.parametrize(
    ("photo", "code"),
    [
        (_flat_jpeg(), "no_usable_face"),  # decodes, but the face reader finds no face
        (face_like_jpeg(3)[: len(face_like_jpeg(3)) * 2 // 3], "corrupt_image"),  # whole headers, data cut short
    ],
    ids=["no face", "truncated"],
)
def test_what_the_worker_refuses_is_a_coded_result_and_the_photo_is_erased(
    client, cast, sar, clean_registry, photo, code
):
    clean_registry.face_reader_register(colour_layout)
    client.force_login(cast.estate_dpo)
    response = _post_photo(client, sar, photo)
    search = SubjectPhotoSearch.objects.get()
    assert response.status_code == 302
    assert search.status == "refused" and search.refusal_code == code
    assert search.photo_ciphertext is None and search.photo_erased_at and search.results_ciphertext is None
    page = client.get(response["Location"])
    assert page.status_code == 200 and f'data-code="{code}"' in page.content.decode()
    assert AuditEvent.objects.get(event="subject_request.search_refused").details["refused"] == code


def test_the_search_is_answered_at_once_and_completed_by_the_worker_with_results(cast, sar, held, clean_registry):
    clean_registry.face_reader_register(colour_layout)
    clean_registry.subject_data_provider_register(ProbeStore({"p1": face_like_jpeg(1)}).provider())
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        search = photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo, request=sar, justification=JUSTIFICATION, photo=face_like_jpeg(2)
        )
    assert search.status == "queued" and len(queued) == 1
    assert not AuditEvent.objects.filter(event="subject_request.searched").exists()  # nothing searched yet
    assert subject_photo_search_task.delay(search.pk).get() == "done"
    search.refresh_from_db()
    outcome = photo_searches.subject_photo_search_outcome(search)
    assert [str(c.ref) for c in outcome.candidates if c.found_by == "face"][:1] == ["test-probe:p1"]
    assert search.candidate_count == len(outcome.candidates) and search.photo_ciphertext is None
    event = AuditEvent.objects.get(event="subject_request.searched")
    assert event.actor_id == cast.estate_dpo.pk and event.details["by_face"] and event.justification == JUSTIFICATION
    # Run again (a redelivered task): left as it is, searched once.
    assert subject_photo_search_task.delay(search.pk).get() == "done"
    assert AuditEvent.objects.filter(event="subject_request.searched").count() == 1


def test_a_fault_in_the_engine_is_a_coded_result_not_a_lost_search(cast, sar, clean_registry):
    def broken_reader(jpeg: bytes):
        raise RuntimeError("the engine's weights could not be read")

    clean_registry.face_reader_register(broken_reader)
    with TestCase.captureOnCommitCallbacks(execute=True):
        search = photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo, request=sar, justification=JUSTIFICATION, photo=face_like_jpeg(2)
        )
    search.refresh_from_db()
    assert search.status == "refused" and search.refusal_code == "search_failed" and search.photo_ciphertext is None


def test_a_search_without_a_face_engine_is_refused_in_the_request(cast, sar, clean_registry):
    from governance.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo, request=sar, justification=JUSTIFICATION, photo=face_like_jpeg(2)
        )
    assert refused.value.code == "face_search_unavailable" and not SubjectPhotoSearch.objects.exists()


def test_only_the_searcher_sees_the_search_and_other_organisations_do_not_learn_it_exists(
    client, cast, sar, clean_registry
):
    clean_registry.face_reader_register(colour_layout)
    client.force_login(cast.estate_dpo)
    url = _post_photo(client, sar, face_like_jpeg(2))["Location"]
    assert client.get(url).status_code == 200
    for other in (cast.estate_dpo2, cast.met_dpo):
        client.force_login(other)
        assert client.get(url).status_code in (403, 404)
    client.force_login(cast.estate_dpo)
    missing = reverse("subject-request-search-result", args=[sar.pk, SubjectPhotoSearch.objects.get().pk + 1])
    assert client.get(missing).status_code == 404


def test_the_sweep_requeues_a_lost_search_ends_one_that_never_ran_and_erases_old_candidates(
    cast, sar, clean_registry, settings
):
    """A broker or worker crash loses the task of a search already answered: the sweep (on the beat schedule)
    queues it again; one that still has not run is ended with its photo erased; undecided candidates go in a week."""
    from datetime import timedelta

    from django.utils import timezone

    clean_registry.face_reader_register(colour_layout)
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "governance.subject_access.tasks.subject_photo_searches_sweep" in beat

    def lost(minutes_ago: int) -> SubjectPhotoSearch:
        with TestCase.captureOnCommitCallbacks(execute=False):  # the task is never sent: lost
            search = photo_searches.subject_photo_search_start(
                actor=cast.estate_dpo, request=sar, justification=JUSTIFICATION, photo=face_like_jpeg(2)
            )
        SubjectPhotoSearch.objects.filter(pk=search.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
        return search

    recent, lost_one, abandoned = lost(1), lost(20), lost(120)
    assert photo_searches.subject_photo_searches_sweep() == {"requeued": 1, "ended": 1, "results_erased": 0}
    recent.refresh_from_db(), lost_one.refresh_from_db(), abandoned.refresh_from_db()
    assert recent.status == "queued" and recent.photo_ciphertext  # its task may still be on its way
    assert lost_one.status == "done" and lost_one.photo_ciphertext is None and lost_one.results_ciphertext
    assert abandoned.status == "refused" and abandoned.refusal_code == "search_failed"
    assert abandoned.photo_ciphertext is None and abandoned.photo_erased_at

    later = timezone.now() + timedelta(days=8)
    assert photo_searches.subject_photo_searches_sweep(now=later)["results_erased"] == 1
    lost_one.refresh_from_db()
    assert lost_one.results_ciphertext is None and photo_searches.subject_photo_search_outcome(lost_one) is None
