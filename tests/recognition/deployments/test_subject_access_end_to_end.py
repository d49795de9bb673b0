"""Issue 12's acceptance, end to end through both apps on the real engine and the dev faces: a
dev-set person is enrolled and alerted on through the camera API; the operator's DPO records a
request, searches with another photo of the same person and finds the watchlist entry and the
alert; a photo of someone else finds nothing; the exported PDF has the expected sections and
images, and every face the detector finds in those images is the subject's (no unblurred
third-party face); a passer-by with no match gets the non-match explanation."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader
from rest_framework.test import APIClient

from governance.subject_access import photo_searches
from governance.subject_access import services as sar
from governance.subject_access.models import SubjectRequestExport
from governance.subject_access.registry import face_reader
from recognition.deployments.models import Alert
from recognition.deployments.services.cameras import camera_issue_ingest_key
from tests.governance.subject_access.conftest import intake
from tests.recognition.deployments.conftest import compose_frame, go_live, upload_and_enrol

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]


def _photo(faces_dir, name: str) -> bytes:
    return (faces_dir / "dev" / name.rsplit("_", 1)[0] / f"{name}.jpg").read_bytes()


@pytest.fixture
def alerted(cast, people, planned_deployment, active_agreement, faces_dir, engine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        image = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Kofi_Annan_0001", subject="KX-SUBJ-0007"
        )
    go_live(cast, planned_deployment)
    camera = planned_deployment.camera
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")
    frame = compose_frame(faces_dir, ["Kofi_Annan_0002", "Angelina_Jolie_0001"])
    response = client.post(
        f"/api/v1/cameras/{camera.pk}/frames/", {"frame": SimpleUploadedFile("f.jpg", frame)}, format="multipart"
    )
    assert response.status_code == 202
    return image, Alert.objects.get()


def _export(actor, request, django_capture_on_commit_callbacks) -> tuple[bytes, dict]:
    with django_capture_on_commit_callbacks(execute=True):
        export = sar.subject_request_export_start(actor=actor, request=request)
    export = SubjectRequestExport.objects.get(pk=export.pk)
    assert export.status == "ready", export.error
    pdf, _ = sar.subject_request_export_download(actor=actor, export=export, fmt="pdf")
    data, _ = sar.subject_request_export_download(actor=actor, export=export, fmt="json")
    return pdf, json.loads(data)


def _faces_in(engine, jpeg: bytes):
    from recognition.engine import decode_image

    image = decode_image(jpeg, max_pixels=40_000_000)
    return engine.analyse([image])[0]


def _met_releases(cast, request) -> None:
    """The response releases data the Met supplied: the Met is consulted and releases it (DPA 2018 s.45(4))."""
    from governance.subject_access.consultation import consultation_decide, subject_request_consult

    for consultation in subject_request_consult(actor=cast.estate_dpo, request=request):
        consultation_decide(actor=cast.met_dpo, consultation=consultation, decision="release")


def test_a_request_finds_the_person_by_face_and_exports_only_their_face(
    cast, alerted, faces_dir, engine, django_capture_on_commit_callbacks, tmp_path, artifacts_dir
):
    image, alert = alerted
    request = sar.subject_request_receive(actor=cast.estate_dpo, fields=intake(subject_references=[]))

    outcome = sar.subject_request_search(
        actor=cast.estate_dpo,
        request=request,
        justification="Subject access request: the requester's own photo, identity verified.",
        photo=_photo(faces_dir, "Kofi_Annan_0004"),
    )
    refs = {str(c.ref) for c in outcome.candidates}
    assert {f"alert:{alert.pk}", f"watchlist-image:{image.pk}"} <= refs
    assert all(c.score is not None and c.score >= engine.match_threshold for c in outcome.candidates)

    other = sar.subject_request_search(
        actor=cast.estate_dpo,
        request=request,
        justification="Subject access request: checking a photo of someone else finds nothing.",
        photo=_photo(faces_dir, "Serena_Williams_0002"),
    )
    assert other.candidates == []

    sar.subject_request_decide(
        actor=cast.estate_dpo,
        request=request,
        decisions=[(str(c.ref), "confirmed", c.found_by) for c in outcome.candidates],
    )
    _met_releases(cast, request)
    pdf, data = _export(cast.estate_dpo, request, django_capture_on_commit_callbacks)

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    (artifacts_dir / "subject-access-end-to-end.pdf").write_bytes(pdf)
    picture_page = next(
        i for i, page in enumerate(reader.pages, start=1) if "Similarity score" in (page.extract_text() or "")
    )
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", str(picture_page), "-l", str(picture_page), "-singlefile",
         str(artifacts_dir / "subject-access-end-to-end.pdf"), str(artifacts_dir / "subject-access-alert-page")],
        check=True,
    )  # fmt: skip
    assert (artifacts_dir / "subject-access-alert-page.png").stat().st_size > 0
    assert request.reference in text
    assert f"{request.reference} · {cast.estate.name}" in reader.pages[0].extract_text()  # the running footer
    assert "&#" not in text  # nothing escaped twice
    assert "Alerts" in text and "not kept" in text  # the alert's section and the non-match explanation
    pictures = [picture.data for page in reader.pages for picture in page.images]
    assert pictures, "the alert's crop is in the PDF"

    subject = face_reader()(_photo(faces_dir, "Kofi_Annan_0004")).embedding
    faces_checked = 0
    for index, data_bytes in enumerate(pictures):
        (tmp_path / f"picture-{index}.jpg").write_bytes(data_bytes)
        for face in _faces_in(engine, data_bytes):
            faces_checked += 1
            similarity = float(np.dot(face.embedding, subject))
            assert similarity >= engine.match_threshold, (
                f"picture {index} shows a face that is not the subject's ({similarity:.3f}): unredacted third party"
            )
    assert faces_checked >= 1, "the subject's own face is found in the exported crop (the check is not vacuous)"
    assert any(item["ref"] == f"alert:{alert.pk}" for item in _items(data))


def _items(data: dict) -> list[dict]:
    found = []
    for section in data.get("sections", []):
        found += section.get("items", [])
    return found or data.get("items", [])


def test_a_passer_by_with_no_match_gets_the_non_match_explanation(
    cast, alerted, faces_dir, engine, django_capture_on_commit_callbacks
):
    request = sar.subject_request_receive(
        actor=cast.estate_dpo, fields=intake(subject_references=[], requester_name="Pat Passerby")
    )
    outcome = sar.subject_request_search(
        actor=cast.estate_dpo,
        request=request,
        justification="Subject access request from a passer-by, identity verified in person.",
        photo=_photo(faces_dir, "Angelina_Jolie_0002"),  # she walked past the camera: no match, no trace
    )
    assert outcome.candidates == []
    pdf, data = _export(cast.estate_dpo, request, django_capture_on_commit_callbacks)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "not kept" in text and "faces scanned" in text
    assert _items(data) == []
    assert "not kept" in json.dumps(data)


def test_the_photo_search_runs_in_the_worker_with_the_live_engine_and_erases_the_photo(
    cast, alerted, faces_dir, engine, django_capture_on_commit_callbacks
):
    """Issue 26: answered at once; the task (on commit, in-process as in the embedded default) reads the face with
    the live engine and finds the person's alert; a photo with no face is a coded result; the photo is erased."""
    from PIL import Image

    from governance.subject_access.models import SubjectPhotoSearch

    _image, alert = alerted
    request = sar.subject_request_receive(actor=cast.estate_dpo, fields=intake(subject_references=[]))
    with django_capture_on_commit_callbacks(execute=True):
        search = photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo,
            request=request,
            justification="Subject access request: the requester's own photo, identity verified.",
            photo=_photo(faces_dir, "Kofi_Annan_0004"),
        )
        assert search.status == "queued"  # answered before the engine ran
    search.refresh_from_db()
    assert search.status == "done" and search.photo_ciphertext is None and search.photo_erased_at
    found = photo_searches.subject_photo_search_outcome(search)
    assert f"alert:{alert.pk}" in {str(c.ref) for c in found.candidates}

    landscape = io.BytesIO()
    Image.linear_gradient("L").resize((320, 240)).convert("RGB").save(landscape, format="JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        faceless = photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo,
            request=request,
            justification="Subject access request: a photo with no face in it.",
            photo=landscape.getvalue(),
        )
    faceless = SubjectPhotoSearch.objects.get(pk=faceless.pk)
    assert faceless.status == "refused" and faceless.refusal_code == "no_usable_face"
    assert faceless.photo_ciphertext is None and photo_searches.subject_photo_search_outcome(faceless) is None
