"""Enrolment with the real engine and real dev faces: one template per image, rejections with reasons,
encrypted templates, and withdrawal removing the template from matching at once (the gallery version)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from django.db import connection

from governance.audit.models import AuditEvent
from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition import gallery_cache, selectors
from recognition.enrolment import watchlist_image_enrol
from recognition.models import FaceTemplate
from recognition.selectors import template_vector
from tests.governance.watchlist.support import (  # noqa: F401
    camden_api,
    camden_submitter,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]


@pytest.fixture(scope="session")
def engine():
    from recognition.engine import get_engine

    return get_engine()


@pytest.fixture(autouse=True)
def _fresh_galleries():
    from django.core.cache import cache

    gallery_cache.gallery_cache_clear()
    cache.delete(gallery_cache.GALLERY_VERSION_KEY)
    cache.delete(selectors.ACTIVE_BACKEND_KEY)
    yield
    gallery_cache.gallery_cache_clear()


def _face(faces_dir, name: str) -> bytes:
    return (faces_dir / "dev" / name).read_bytes()


def _upload_and_enrol(api, agreement, data: bytes, capture, **fields) -> WatchlistImage:
    with capture(execute=True):
        response = upload(api, agreement, data, **fields)
    assert response.status_code == 202, response.content
    return WatchlistImage.objects.get(pk=response.json()["id"])


def test_upload_enrols_after_commit_with_an_encrypted_template(
    engine,
    faces_dir,
    camden_api,
    active_agreement,
    django_capture_on_commit_callbacks,
):
    image = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Kofi_Annan/Kofi_Annan_0001.jpg"),
        django_capture_on_commit_callbacks,
    )
    assert image.status == ImageStatus.ENROLLED and image.enrolled_at
    template = FaceTemplate.objects.get(image=image)
    vector = template_vector(template)
    assert vector.shape == (engine.embedding_size,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3
    assert template.backend == engine.backend
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ciphertext FROM {FaceTemplate._meta.db_table} WHERE id = %s", [template.pk])
        raw = bytes(cursor.fetchone()[0])
    assert vector.tobytes() not in raw and vector.astype(np.float16).tobytes() not in raw
    assert vector[:4].tobytes() not in raw
    status = camden_api.get(f"/api/v1/watchlist-images/{image.pk}/").json()
    assert status["status"] == "enrolled"
    # The template of another photo of the same person is the best match in the gallery.
    probe = engine.analyse(
        [
            __import__("PIL.Image", fromlist=["Image"])
            .open(faces_dir / "dev" / "Kofi_Annan" / "Kofi_Annan_0002.jpg")
            .convert("RGB")
        ],
        live=True,
    )[0][0].embedding
    ids, scores = selectors.gallery_for_agreements([active_agreement.pk]).search(probe[None, :], k=1)
    assert ids[0, 0] == image.pk and scores[0, 0] > engine.match_threshold


def test_enrolment_is_idempotent(engine, faces_dir, camden_api, active_agreement, django_capture_on_commit_callbacks):
    image = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Salma_Hayek/Salma_Hayek_0001.jpg"),
        django_capture_on_commit_callbacks,
    )
    assert watchlist_image_enrol(image_id=image.pk) == "skipped:enrolled"
    WatchlistImage.objects.filter(pk=image.pk).update(
        status=ImageStatus.RECEIVED
    )  # as if the first run died after commit
    assert watchlist_image_enrol(image_id=image.pk) == "skipped:received"
    assert FaceTemplate.objects.filter(image=image).count() == 1
    assert AuditEvent.objects.filter(event="watchlist_image.enrolled", target_id=str(image.pk)).count() == 1


def _multi_boxes(faces_dir, name):
    with open(faces_dir / "multi_face_boxes.csv") as handle:
        return [
            [
                float(r["left"]),
                float(r["top"]),
                float(r["left"]) + float(r["width"]),
                float(r["top"]) + float(r["height"]),
            ]
            for r in csv.DictReader(handle)
            if r["file"] == f"_multi/{name}"
        ]


@pytest.mark.parametrize(
    "name, reason",
    [
        ("_none/dogs.jpg", "no_face"),
        ("_multi/2008_002506.jpg", "multiple_faces"),
        ("_multi/2007_007763.jpg", "face_too_small"),
    ],
)
def test_rejections_carry_a_reason(
    engine, faces_dir, camden_api, active_agreement, django_capture_on_commit_callbacks, name, reason
):
    image = _upload_and_enrol(camden_api, active_agreement, _face(faces_dir, name), django_capture_on_commit_callbacks)
    assert image.status == ImageStatus.REJECTED and image.rejection_reason == reason
    assert not FaceTemplate.objects.filter(image=image).exists()
    body = camden_api.get(f"/api/v1/watchlist-images/{image.pk}/").json()
    assert body["status"] == "rejected" and body["rejection_reason"] == reason and body["rejection_message"]
    event = AuditEvent.objects.get(event="watchlist_image.rejected", target_id=str(image.pk))
    assert event.details == {"reason": reason}


def test_face_box_picks_one_face_of_a_group(
    engine, faces_dir, camden_api, active_agreement, django_capture_on_commit_callbacks
):
    box = _multi_boxes(faces_dir, "2008_002506.jpg")[0]
    image = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "_multi/2008_002506.jpg"),
        django_capture_on_commit_callbacks,
        face_box=",".join(str(v) for v in box),
    )
    assert image.status == ImageStatus.ENROLLED
    template = FaceTemplate.objects.get(image=image)
    enrolled_box = template.face_box
    centre = ((enrolled_box[0] + enrolled_box[2]) / 2, (enrolled_box[1] + enrolled_box[3]) / 2)
    assert box[0] <= centre[0] <= box[2] and box[1] <= centre[1] <= box[3]


def test_withdrawal_stops_matching_at_once_and_audits_the_whole_cycle(
    engine,
    faces_dir,
    camden_api,
    active_agreement,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    kofi = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Kofi_Annan/Kofi_Annan_0001.jpg"),
        django_capture_on_commit_callbacks,
    )
    putin = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Vladimir_Putin/Vladimir_Putin_0001.jpg"),
        django_capture_on_commit_callbacks,
        subject_reference="KX-SUBJ-0002",
    )
    probe = template_vector(FaceTemplate.objects.get(image=kofi))[None, :]
    held = selectors.gallery_for_agreements([active_agreement.pk])  # built before the withdrawal
    assert set(held.ids()) == {kofi.pk, putin.pk}
    assert held.search(probe, k=1)[0][0, 0] == kofi.pk

    with django_capture_on_commit_callbacks(execute=True):
        response = camden_api.delete(f"/api/v1/watchlist-images/{kofi.pk}/", HTTP_X_REASON="Arrested elsewhere")
    assert response.status_code == 200

    # In this process, even the gallery object held from before no longer returns it.
    assert kofi.pk not in held.ids().tolist()
    assert kofi.pk not in held.search(probe, k=2)[0][0].tolist()
    # Any process asking for the gallery gets one without it.
    fresh = selectors.gallery_for_agreements([active_agreement.pk])
    assert kofi.pk not in fresh.ids().tolist() and putin.pk in fresh.ids().tolist()
    assert not FaceTemplate.objects.filter(image=kofi).exists()
    certificates = camden_api.get(f"/api/v1/watchlist-images/{kofi.pk}/").json()["deletion_certificates"]
    assert {c["subject_type"] for c in certificates} == {"governance.watchlistimagecontent", "recognition.facetemplate"}
    trail = list(
        AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(kofi.pk))
        .exclude(action="consultation")  # the reads of its metadata (s.62) are on the record too
        .values_list("action", "event")
    )
    assert trail == [
        ("collection", "watchlist_image.received"),
        ("disclosure", "watchlist_image.disclosed_to_operator"),  # the force's side of the supply
        ("alteration", "watchlist_image.cleaned"),  # the worker's decode: the bytes as sent replaced by clean ones
        ("combination", "watchlist_image.enrolled"),
        ("alteration", "watchlist_image.withdrawn"),
        ("erasure", "watchlist_image.erased"),
    ]


def test_another_workers_cached_gallery_is_rebuilt_after_a_withdrawal(
    engine,
    faces_dir,
    camden_api,
    active_agreement,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    """The version in the shared cache alone (no in-process update) makes a worker drop a withdrawn template."""
    image = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Serena_Williams/Serena_Williams_0001.jpg"),
        django_capture_on_commit_callbacks,
    )
    cached = selectors.gallery_for_agreements([active_agreement.pk])
    assert image.pk in cached.ids().tolist()
    # Simulate the withdrawal happening in another process: this process's galleries are not touched.
    monkeypatch.setattr(gallery_cache, "gallery_local_apply", lambda **kwargs: None)
    with django_capture_on_commit_callbacks(execute=True):
        assert camden_api.delete(f"/api/v1/watchlist-images/{image.pk}/", HTTP_X_REASON="Withdrawn").status_code == 200
    assert image.pk in cached.ids().tolist()  # the stale object (other worker's memory)...
    rebuilt = selectors.gallery_for_agreements([active_agreement.pk])
    assert rebuilt is not cached and image.pk not in rebuilt.ids().tolist()  # ...is replaced on the next search


def test_gallery_is_reused_while_nothing_changes(
    engine, faces_dir, camden_api, active_agreement, django_capture_on_commit_callbacks
):
    _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Jiang_Zemin/Jiang_Zemin_0001.jpg"),
        django_capture_on_commit_callbacks,
    )
    first = selectors.gallery_for_agreements([active_agreement.pk])
    assert selectors.gallery_for_agreements([active_agreement.pk]) is first
    assert len(selectors.gallery_for_agreements([active_agreement.pk + 999])) == 0


def test_a_subject_requests_restriction_stops_matching_while_it_stands(
    engine, faces_dir, camden_api, active_agreement, django_capture_on_commit_callbacks, cast
):
    """UK GDPR Art. 18 / DPA 2018 s.47(2): the restricted image keeps its template but no gallery
    matches it — every worker rebuilds (version bump after commit) — until the restriction is lifted."""
    from governance.subject_access import services as sars
    from tests.governance.subject_access.conftest import intake

    image = _upload_and_enrol(
        camden_api,
        active_agreement,
        _face(faces_dir, "Kofi_Annan/Kofi_Annan_0001.jpg"),
        django_capture_on_commit_callbacks,
        subject_reference="KX-SUBJ-0009",
    )
    cached = selectors.gallery_for_agreements([active_agreement.pk])
    assert image.pk in cached.ids().tolist()
    request = sars.subject_request_receive(
        actor=cast.met_dpo, fields=intake(regime="dpa_part3", right="restriction", subject_references=["KX-SUBJ-0009"])
    )
    ref = f"watchlist-image:{image.pk}"
    sars.subject_request_decide(
        actor=cast.met_dpo, request=request, decisions=[(ref, "confirmed", "subject reference")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = sars.subject_request_restrict_processing(
            actor=cast.met_dpo, request=request, ref=ref, restricted=True, reason="Accuracy contested."
        )
    assert done.outcome == "done"
    rebuilt = selectors.gallery_for_agreements([active_agreement.pk])
    assert rebuilt is not cached and image.pk not in rebuilt.ids().tolist()
    assert FaceTemplate.objects.filter(image=image).exists()  # held, not matched
    with django_capture_on_commit_callbacks(execute=True):
        sars.subject_request_restrict_processing(
            actor=cast.met_dpo, request=request, ref=ref, restricted=False, reason="Accuracy confirmed."
        )
    assert image.pk in selectors.gallery_for_agreements([active_agreement.pk]).ids().tolist()
