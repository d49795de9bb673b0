"""Subject access, recognition's side (issue 12), on the real engine and the dev faces, tasks in-process.

A dev-set person is enrolled and alerted on through the real frame path. A request with another photo of the same
person finds the watchlist entry (and its template) and the alert, with scores and crops; a photo of someone else
finds nothing. The alert compiles with its reviews, disclosure and outcome; its erasure leaves a deletion
certificate and the probe gone from search. The redactor leaves no face but the subject's for the detector to find.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from governance import encryption
from governance.audit.models import AuditEvent
from governance.subject_access.registry import (
    ItemRef,
    SubjectQuery,
    face_reader,
    face_redactor,
    subject_data_provider,
    subject_data_providers,
)
from governance.watchlist.models import DeletionCertificate, ImageStatus
from recognition.deployments.models import Alert
from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.outcomes import disclosure_record_outcome
from tests.recognition.deployments.conftest import compose_frame, go_live, jpeg, upload_and_enrol
from tests.recognition.deployments.review_helpers import confirm

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]


def _photo(faces_dir, name: str) -> bytes:
    return (faces_dir / "dev" / name.rsplit("_", 1)[0] / f"{name}.jpg").read_bytes()


def _search(actor, query):
    return [c for provider in subject_data_providers() for c in provider.search(actor, query)]


@pytest.fixture
def alerted(cast, people, planned_deployment, active_agreement, faces_dir, engine, django_capture_on_commit_callbacks):
    """Kofi Annan enrolled from one photo and alerted on from another, through the camera API."""
    with django_capture_on_commit_callbacks(execute=True):
        image = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Kofi_Annan_0001", subject="KX-SUBJ-0007"
        )
    image.refresh_from_db()
    assert image.status == ImageStatus.ENROLLED, image.rejection_message
    deployment = go_live(cast, planned_deployment)
    camera = planned_deployment.camera
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")
    frame = compose_frame(faces_dir, ["Kofi_Annan_0002", "Angelina_Jolie_0001", "Vladimir_Putin_0001"])
    response = client.post(
        f"/api/v1/cameras/{camera.pk}/frames/", {"frame": SimpleUploadedFile("f.jpg", frame)}, format="multipart"
    )
    assert response.status_code == 202
    alert = Alert.objects.get()
    return image, deployment, alert


def test_the_alert_keeps_its_probe_encrypted_with_the_backend_that_made_it(alerted, engine):
    _image, _deployment, alert = alerted
    token = bytes(alert.probe_embedding)
    assert token and alert.probe_backend == engine.backend and alert.probe_changed_at is not None
    vector = np.frombuffer(encryption.decrypt(token), dtype=np.float32)
    assert vector.shape == (engine.embedding_size,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3
    assert vector.tobytes() not in token  # at rest only as a Fernet token
    assert "probe_embedding" in Alert.ENCRYPTED_FIELDS  # re-encrypted by rotate_encryption_keys


def test_another_photo_finds_the_watchlist_entry_and_the_alert_and_someone_else_finds_nothing(
    cast, alerted, faces_dir, engine
):
    image, _deployment, alert = alerted
    probe = face_reader()(_photo(faces_dir, "Kofi_Annan_0004"))
    assert probe.backend == engine.backend

    found = _search(cast.estate_dpo, SubjectQuery(face=probe))
    by_ref = {str(c.ref): c for c in found}
    assert set(by_ref) == {
        f"alert:{alert.pk}",
        f"watchlist-image:{image.pk}",
        f"face-template:{image.face_templates.get().pk}",
    }
    threshold = engine.match_threshold
    assert all(c.found_by == "face" and c.score >= threshold for c in found)
    assert by_ref[f"alert:{alert.pk}"].crop_jpeg.startswith(b"\xff\xd8")  # the operator's DPO confirms on the crop
    assert by_ref[f"watchlist-image:{image.pk}"].crop_jpeg is None  # the operator sees no watchlist image
    viewed = AuditEvent.objects.filter(event="alert.probe_viewed", target_id=str(alert.pk), actor=cast.estate_dpo)
    assert viewed.count() == 1

    # The supplying force's DPO sees its own image's face as well (an audited consultation of the image).
    by_ref = {str(c.ref): c for c in _search(cast.camden_dpo, SubjectQuery(face=probe))}
    assert by_ref[f"watchlist-image:{image.pk}"].crop_jpeg.startswith(b"\xff\xd8")
    assert AuditEvent.objects.filter(event="watchlist_image.bytes_read", target_id=str(image.pk)).exists()

    # Another supplier and another operator see none of it; someone else's face finds nothing.
    assert _search(cast.btp_dpo, SubjectQuery(face=probe)) == []
    assert _search(cast.other_dpo, SubjectQuery(face=probe)) == []
    stranger = face_reader()(_photo(faces_dir, "Angelina_Jolie_0002"))  # she passed the camera; no match, no trace
    assert _search(cast.estate_dpo, SubjectQuery(face=stranger)) == []
    assert _search(cast.estate_dpo, SubjectQuery(face=face_reader()(_photo(faces_dir, "Serena_Williams_0002")))) == []

    # By subject reference: the alert, the template, and (governance's provider) the image itself.
    by_reference = _search(cast.estate_dpo, SubjectQuery(subject_references=("KX-SUBJ-0007",)))
    assert {c.ref.kind for c in by_reference} == {"alert", "face-template", "watchlist-image"}
    assert all(c.found_by == "subject reference" for c in by_reference)


def test_the_face_reader_wants_exactly_one_face(faces_dir, engine):
    read = face_reader()
    with pytest.raises(ValueError, match="No face"):
        read((faces_dir / "dev/_none/dogs.jpg").read_bytes())
    with pytest.raises(ValueError, match="faces were found"):
        read((faces_dir / "dev/_multi/2008_002506.jpg").read_bytes())
    with pytest.raises(ValueError, match="not a JPEG"):
        read(b"hello, this is not a photo")


def test_the_alert_compiles_with_reviews_disclosure_outcome_and_is_erased_with_a_certificate(
    cast, people, alerted, faces_dir, engine
):
    image, deployment, alert = alerted
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert, notes="Same man.")
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="Camden LFR desk",
        channel="cjsm_email",
        justification="Subject wanted on warrant; time and place needed to locate them.",
    )
    disclosure_record_outcome(actor=people.camden_submitter, disclosure=disclosure, outcome="spoken_to")
    provider = subject_data_provider("alert")
    item = provider.compile(cast.estate_dpo, ItemRef("alert", str(alert.pk)))
    facts = dict(item.facts)
    assert facts["Deployment"].startswith(deployment.reference) and "GS-1" in facts["Camera"]
    assert facts["Sightings"] == "1" and facts["Similarity score"].startswith(f"{alert.score:.3f}")
    assert "Confirm" in facts["Review 1"] and "Police reviewer" in facts["Review 2"]
    assert facts["Police outcome"].startswith("Spoken to")
    names = {s.name for s in item.staff}
    assert {r.reviewer_name for r in alert.reviews.all()} | {disclosure.disclosed_by_name} <= names
    assert item.recipients == [f"{cast.camden.name} (Camden LFR desk)"]
    assert item.controller_id == cast.met.pk and "supplied" in item.source
    # Who is told of a rectification or erasure (Art. 19 / s.48) and who is consulted (s.45(4)).
    assert item.recipient_organisation_ids == (cast.camden.pk,) and item.supplied_by_force_id == cast.met.pk
    (picture,) = item.pictures
    assert picture.jpeg.startswith(b"\xff\xd8") and picture.subject_box[2:] == Image.open(io.BytesIO(picture.jpeg)).size
    reviews = [str(r.pk) for r in alert.reviews.all()]
    assert item.audit_targets == [
        ("deployments.alert", str(alert.pk)),
        *[("deployments.alertreview", pk) for pk in reviews],
        ("deployments.disclosure", str(disclosure.pk)),
    ]
    assert item.related == [ItemRef("watchlist-image", str(image.pk))]
    assert provider.compile(cast.btp_dpo, ItemRef("alert", str(alert.pk))) is None  # another supplier: not visible

    from django.db import transaction

    with transaction.atomic():
        (certificate,) = provider.erase(cast.estate_dpo, ItemRef("alert", str(alert.pk)), "Erasure request SAR-1.")
    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert (certificate.subject_type, certificate.subject_id, certificate.rule) == (
        "deployments.alert",
        str(alert.pk),
        "subject_request.erasure",
    )
    assert certificate.erased_by == cast.estate_dpo and certificate.reason == "Erasure request SAR-1."
    alert.refresh_from_db()
    assert (bytes(alert.probe_crop), bytes(alert.probe_embedding), alert.score) == (b"", b"", None)
    assert AuditEvent.objects.filter(event="alert.data_erased", target_id=str(alert.pk), action="erasure").exists()
    probe = face_reader()(_photo(faces_dir, "Kofi_Annan_0004"))
    assert "alert" not in {c.ref.kind for c in _search(cast.estate_dpo, SubjectQuery(face=probe))}
    with transaction.atomic():
        assert provider.erase(cast.estate_dpo, ItemRef("alert", str(alert.pk)), "Again.") == []  # idempotent


def _detected(engine, data: bytes, *, smallest: bool = False):
    """The faces the engine's detector finds (``smallest``: also those below its matching minimum, as the
    redactor looks for them)."""
    from recognition.deployments.subject_access.faces import _redaction_detector
    from recognition.engine import decode_image

    detector = _redaction_detector(engine) if smallest else engine
    return detector.detect([decode_image(data, max_pixels=40_000_000)])[0]


@pytest.mark.parametrize("photo", ["2007_007763.jpg", "2008_002506.jpg", "2008_007676.jpg"])
def test_the_redactor_leaves_only_the_subjects_face_in_the_group_photos(faces_dir, engine, photo):
    from recognition.enrolment import _iou

    data = (faces_dir / "dev" / "_multi" / photo).read_bytes()
    faces = _detected(engine, data)
    assert len(faces) >= 3
    keep = tuple(round(v) for v in faces[0].box)
    redacted = face_redactor()(data, keep)
    for smallest in (False, True):
        remaining = _detected(engine, redacted, smallest=smallest)
        assert len(remaining) == 1 and _iou(remaining[0].box, keep) >= 0.5, [f.box for f in remaining]
    assert _detected(engine, face_redactor()(data, None), smallest=True) == []


def test_a_strangers_face_beside_the_subject_is_blurred(faces_dir, engine):
    """A crop-like picture with the subject and a passer-by: the passer-by's face is unrecognisable afterwards
    (not found by the detector, and its pixels nothing like the original), the subject's untouched."""
    picture = Image.new("RGB", (440, 220), (96, 100, 104))
    for x, name in ((10, "Kofi_Annan_0002"), (230, "Angelina_Jolie_0001")):
        picture.paste(Image.open(io.BytesIO(_photo(faces_dir, name))).convert("RGB").resize((200, 200)), (x, 10))
    data = jpeg(picture)
    faces = sorted(_detected(engine, data), key=lambda f: f.box[0])
    assert len(faces) == 2
    subject, stranger = faces
    after = face_redactor()(data, tuple(round(v) for v in subject.box))
    remaining = _detected(engine, after)
    assert len(remaining) == 1 and remaining[0].box[0] < 220
    before_px = np.asarray(picture, dtype=np.float32)
    after_px = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"), dtype=np.float32)
    x1, y1, x2, y2 = (int(v) for v in stranger.box)
    sx1, sy1, sx2, sy2 = (int(v) for v in subject.box)
    assert np.abs(before_px[y1:y2, x1:x2] - after_px[y1:y2, x1:x2]).mean() > 10
    assert np.abs(before_px[sy1:sy2, sx1:sx2] - after_px[sy1:sy2, sx1:sx2]).mean() < 4
    # Nothing of the stranger's detail survives: the blurred face has almost no high-frequency content.
    patch = after_px[y1:y2, x1:x2].mean(axis=2)
    assert np.abs(np.diff(patch, axis=1)).mean() < 1.5


def test_erasing_a_disclosed_alert_tells_the_force_it_went_to(cast, people, alerted):
    """UK GDPR Art. 19: the estate erases an alert it had disclosed to Camden; Camden's DPO gets the
    task on its home page and acknowledges it."""
    from governance.subject_access import services as sars
    from governance.subject_access.recipients import recipient_notification_acknowledge
    from tests.recognition.deployments.review_helpers import confirm, reference_picture

    image, _, alert = alerted
    reference_picture(image)  # the enrolled image each reviewer is shown beside the crop
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert)
    alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="Camden LFR desk",
        channel="cjsm_email",
        justification="Subject wanted on warrant; time and place needed to locate them.",
    )
    ref = f"alert:{alert.pk}"
    request = sars.subject_request_receive(
        actor=cast.estate_dpo,
        fields={
            "regime": "uk_gdpr",
            "right": "erasure",
            "requester_name": "Kofi",
            "requester_contact": "k@example.org",
            "request_text": "Erase the camera record of me.",
            "received_on": alert.first_seen_at.date(),
            "identity_verified_how": "Passport.",
            "identity_verified_by_name": "Dana Okafor",
        },
    )
    sars.subject_request_decide(actor=cast.estate_dpo, request=request, decisions=[(ref, "confirmed", "face")])
    done = sars.subject_request_erase(actor=cast.estate_dpo, request=request, ref=ref, reason="Art. 17(1)(d).")
    assert done.outcome == "done"
    (notification,) = done.notifications.all()
    assert notification.recipient == cast.camden and "Erase your copy" in notification.what
    notification = recipient_notification_acknowledge(actor=cast.camden_dpo, notification=notification, note="Done.")
    assert notification.acknowledged_at is not None
