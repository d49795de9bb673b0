"""Live matching with the real engine, tasks in-process: enrolled person alerts once, others never;
a withdrawn image stops alerting at once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from governance.watchlist.models import ImageStatus
from recognition.deployments.models import Alert, FaceScanCounter
from recognition.deployments.services.cameras import camera_issue_ingest_key
from tests.recognition.deployments.conftest import compose_frame, go_live, upload_and_enrol

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]


def post(client, camera, data):
    return client.post(
        f"/api/v1/cameras/{camera.pk}/frames/", {"frame": SimpleUploadedFile("f.jpg", data)}, format="multipart"
    )


def test_enrolled_person_alerts_once_others_never_and_withdrawal_stops_matching(
    cast, people, planned_deployment, active_agreement, faces_dir, engine, django_capture_on_commit_callbacks
):
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

    assert (
        post(
            client, camera, compose_frame(faces_dir, ["Kofi_Annan_0002", "Angelina_Jolie_0001", "Vladimir_Putin_0001"])
        ).status_code
        == 202
    )
    assert (
        post(client, camera, compose_frame(faces_dir, ["Serena_Williams_0001", "Kofi_Annan_0003"])).status_code == 202
    )
    assert post(client, camera, compose_frame(faces_dir, ["Salma_Hayek_0001", "Jiang_Zemin_0001"])).status_code == 202

    alerts = list(Alert.objects.all())
    assert len(alerts) == 1, [(a.subject_reference, a.score) for a in alerts]
    alert = alerts[0]
    assert alert.watchlist_image_id == image.pk and alert.subject_reference == "KX-SUBJ-0007"
    assert alert.sightings == 2 and alert.score >= deployment.match_threshold
    counter = FaceScanCounter.objects.get(camera=camera)
    assert (counter.frames_processed, counter.faces_scanned, counter.alerts_raised) == (3, 7, 1)

    from governance.watchlist.services import watchlist_image_withdraw

    with django_capture_on_commit_callbacks(execute=True):
        watchlist_image_withdraw(actor=people.camden_submitter, image=image, reason="Warrant executed elsewhere.")
    assert post(client, camera, compose_frame(faces_dir, ["Kofi_Annan_0002"])).status_code == 202
    alert.refresh_from_db()
    assert Alert.objects.count() == 1 and alert.sightings == 2
    assert alert.watchlist_image_id == image.pk  # the image row stays (status erased); its template is gone
