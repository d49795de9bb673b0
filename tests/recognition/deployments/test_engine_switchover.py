"""Model change with live matching running: re-enrol beside the live templates, switch in one audited step, switch
back; every frame before, during and after is matched (no alert lost) and no gallery ever holds two backends."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from governance.audit.models import AuditEvent
from governance.watchlist.models import ImageStatus
from recognition import gallery_cache, selectors
from recognition.deployments.models import Alert, Deployment
from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.deployments.services.planning import deployment_set_threshold
from recognition.engine import get_engine
from recognition.models import ActiveBackend, FaceTemplate
from recognition.switchover import SwitchRefused, engine_reenrol_all, engine_switch
from tests.recognition.deployments.conftest import (
    compose_frame,
    go_live,
    upload_and_enrol,
)

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]

SFACE, FACENET = "yunet+sface", "mtcnn+facenet"


@pytest.fixture(autouse=True)
def _fresh_state():
    gallery_cache.gallery_cache_clear()
    cache.delete(gallery_cache.GALLERY_VERSION_KEY)
    cache.delete(selectors.ACTIVE_BACKEND_KEY)
    yield
    gallery_cache.gallery_cache_clear()
    cache.delete(selectors.ACTIVE_BACKEND_KEY)


def _post(client, camera, data):
    return client.post(
        f"/api/v1/cameras/{camera.pk}/frames/", {"frame": SimpleUploadedFile("f.jpg", data)}, format="multipart"
    )


def _assert_one_backend(gallery, backend):
    """The gallery's rows are exactly the enrolled templates of one backend, with that backend's dimension."""
    expected = set(
        FaceTemplate.objects.filter(backend=backend, image__status=ImageStatus.ENROLLED).values_list(
            "image_id", flat=True
        )
    )
    assert gallery.backend == backend and set(gallery.ids().tolist()) == expected
    assert gallery.dimension == get_engine(SFACE if "sface" in backend else FACENET).embedding_size


def test_switch_over_and_back_while_frames_keep_matching(
    cast, people, planned_deployment, active_agreement, faces_dir, engine, django_capture_on_commit_callbacks
):
    sface, facenet = get_engine(SFACE), get_engine(FACENET)
    assert engine is sface  # the configured default backend
    with django_capture_on_commit_callbacks(execute=True):
        kofi = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Kofi_Annan_0001", subject="KX-SUBJ-0101"
        )
        putin = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Vladimir_Putin_0001", subject="KX-SUBJ-0102"
        )
    assert set(FaceTemplate.objects.values_list("backend", flat=True)) == {sface.backend}
    deployment = go_live(cast, planned_deployment)
    assert deployment.match_threshold == pytest.approx(0.42)  # SFace's default
    camera = planned_deployment.camera
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")
    frame = compose_frame(faces_dir, ["Kofi_Annan_0002", "Angelina_Jolie_0001"])

    def sightings() -> int:
        return sum(Alert.objects.filter(watchlist_image=kofi).values_list("sightings", flat=True))

    assert _post(client, camera, frame).status_code == 202
    assert sightings() == 1

    # Phase 1: templates under FaceNet beside the live ones; live matching is untouched.
    report = engine_reenrol_all(choice=FACENET)
    assert report.outcomes == {"reenrolled": 2} and report.backend == facenet.backend
    assert FaceTemplate.objects.filter(backend=facenet.backend).count() == 2
    assert AuditEvent.objects.filter(event="face_template.reenrolled").count() == 2
    assert selectors.live_backend() == sface.backend
    _assert_one_backend(selectors.gallery_for_agreements([active_agreement.pk]), sface.backend)
    assert _post(client, camera, frame).status_code == 202
    assert sightings() == 2

    # An image enrolled after phase 1 has no FaceNet template: the switch is refused and nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        serena = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Serena_Williams_0001", subject="KX-SUBJ-0103"
        )
    with pytest.raises(SwitchRefused) as refused:
        engine_switch(choice=FACENET, actor_name="test")
    assert refused.value.details == {"images": [serena.pk]}
    assert not ActiveBackend.objects.exists() and selectors.live_backend() == sface.backend

    # A frame already being processed when the switch commits finishes on the engine and gallery it started with.
    in_flight = selectors.live_engine()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("switch_engine", FACENET, by="Duty DPO")
    assert selectors.live_backend() == facenet.backend and selectors.live_engine() is facenet
    old = selectors.gallery_for_agreements([active_agreement.pk], backend=in_flight.backend)
    _assert_one_backend(old, sface.backend)
    new = selectors.gallery_for_agreements([active_agreement.pk])
    _assert_one_backend(new, facenet.backend)
    assert {kofi.pk, putin.pk, serena.pk} == set(new.ids().tolist())
    switched = AuditEvent.objects.get(event="recognition.backend_switched")
    assert switched.action == "alteration" and switched.details["from"] == sface.backend
    assert switched.details["to"] == facenet.backend and switched.details["templates"] == 3
    assert switched.details["deployments_rebased"] == [deployment.reference]
    assert Deployment.objects.get(pk=deployment.pk).match_threshold == pytest.approx(0.59)  # FaceNet's default

    # FaceNet probes now match FaceNet templates: the same person still alerts.
    assert _post(client, camera, frame).status_code == 202
    assert sightings() == 3
    probe = facenet.analyse([compose_image(faces_dir, "Kofi_Annan_0002")], live=True)[0][0].embedding
    ids, scores = new.search(probe[None], k=1)
    assert ids[0, 0] == kofi.pk and scores[0, 0] >= facenet.match_threshold

    # Switching back: the SFace templates were kept, so nothing is re-enrolled (the 3rd event is Serena's FaceNet
    # template, made by the switch command's own re-enrolment pass above) and the switch is immediate.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("switch_engine", SFACE, by="Duty DPO")
    assert AuditEvent.objects.filter(event="face_template.reenrolled").count() == 3
    assert selectors.live_backend() == sface.backend
    assert Deployment.objects.get(pk=deployment.pk).match_threshold == pytest.approx(0.42)
    _assert_one_backend(selectors.gallery_for_agreements([active_agreement.pk]), sface.backend)
    assert _post(client, camera, frame).status_code == 202
    assert sightings() == 4
    assert AuditEvent.objects.filter(event="recognition.backend_switched").count() == 2

    # Withdrawal erases the image's templates of every backend.
    from governance.watchlist.services import watchlist_image_withdraw

    with django_capture_on_commit_callbacks(execute=True):
        watchlist_image_withdraw(actor=people.camden_submitter, image=kofi, reason="Warrant executed elsewhere.")
    assert not FaceTemplate.objects.filter(image=kofi).exists()
    assert kofi.pk not in selectors.gallery_for_agreements([active_agreement.pk]).ids().tolist()


def test_a_threshold_decided_for_one_model_blocks_the_switch(
    cast, people, planned_deployment, active_agreement, faces_dir, engine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Jiang_Zemin_0001", subject="KX-SUBJ-0104"
        )
    deployment_set_threshold(actor=cast.estate_dpo, deployment=planned_deployment, threshold=0.5)
    engine_reenrol_all(choice=FACENET)
    with pytest.raises(SwitchRefused) as refused:
        engine_switch(choice=FACENET, actor_name="test")
    assert refused.value.details == {"deployments": [planned_deployment.reference]}
    assert not AuditEvent.objects.filter(event="recognition.backend_switched").exists()


def compose_image(faces_dir, name):
    from PIL import Image

    person = name.rsplit("_", 1)[0]
    return Image.open(faces_dir / "dev" / person / f"{name}.jpg").convert("RGB")


def test_templates_of_two_backends_never_share_a_gallery(active_agreement):
    from recognition.engine import Gallery

    gallery = Gallery(dimension=128, backend="b")
    with pytest.raises(ValueError, match="128-d"):
        gallery.add(ids=[1], vectors=np.ones((1, 512), dtype=np.float32))
    with pytest.raises(ValueError, match="128-d"):
        gallery.search(np.ones((1, 512), dtype=np.float32), k=1)


def test_an_upgraded_installation_keeps_matching_with_the_engine_that_made_its_templates(cast, active_agreement):
    """Migration 0002: templates made before backends were recorded are FaceNet's, so FaceNet stays live until a
    switch_engine, although the settings' default is now YuNet + SFace."""
    import importlib

    from django.apps import apps
    from django.utils import timezone

    from governance import encryption
    from recognition.models import LEGACY_BACKEND
    from tests.recognition.deployments.conftest import enrolled_image_row

    image = enrolled_image_row(active_agreement, cast.camden)
    FaceTemplate.objects.create(
        image=image,
        agreement=active_agreement,
        key_id=encryption.key_fingerprint(),
        ciphertext=encryption.encrypt(np.ones(512, dtype=np.float32).tobytes()),
        face_box=[0, 0, 90, 90],
        detection_probability=0.99,
        engine="casia-webface/bf16/cpu",
        created_at=timezone.now(),
    )
    assert selectors.live_backend() != LEGACY_BACKEND  # the settings' default before the migration step
    cache.delete(selectors.ACTIVE_BACKEND_KEY)
    importlib.import_module("recognition.migrations.0002_template_backend").keep_existing_templates_live(apps, None)
    assert selectors.live_backend() == LEGACY_BACKEND
    assert selectors.gallery_for_agreements([active_agreement.pk]).ids().tolist() == [image.pk]
