"""Erasure reaches running workers (issue 12), on PostgreSQL + Redis with a real ``celery worker`` process.

A Met Camden image is enrolled by the worker and the person alerts there; the image is then erased as a subject's
erasure request would erase it (governance's ``watchlist_image_erase``): its bytes and template go with deletion
certificates, and the same running worker — whose gallery already held the template — no longer matches the
person: a new frame of them is processed and raises nothing, attaches nothing.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage
from governance.watchlist.services import watchlist_image_erase
from recognition.deployments.models import Alert, FaceScanCounter
from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.models import FaceTemplate
from tests.conftest import require
from tests.recognition.deployments.conftest import celery_worker, compose_frame, go_live, upload_and_enrol
from tests.recognition.deployments.test_end_to_end_broker import _database_url, _wait

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.faces, pytest.mark.postgres]


def _frames_processed(camera) -> int:
    return sum(FaceScanCounter.objects.filter(camera=camera).values_list("frames_processed", flat=True))


@pytest.mark.django_db(transaction=True)
def test_an_erased_image_stops_matching_in_a_running_worker_and_the_certificates_exist(
    postgres, broker_url, faces_dir, cast, people, active_agreement, planned_deployment, tmp_path
):

    require(
        "redis" in settings.CACHES["default"]["BACKEND"].lower(),
        "needs a shared Redis cache (CACHE_URL=redis://...): workers learn of gallery changes through it",
    )
    log = tmp_path / "worker.log"
    env = {"DATABASE_URL": _database_url(), "CELERY_BROKER_URL": broker_url, "RECOGNITION_DEVICE": "cpu"}
    with celery_worker(log, env=env, name="test-erase") as worker:
        image = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Kofi_Annan_0001", subject="KX-SUBJ-0007"
        )
        _wait(
            lambda: WatchlistImage.objects.get(pk=image.pk).status != ImageStatus.RECEIVED,
            180,
            worker,
            log,
            "enrolment",
        )
        assert WatchlistImage.objects.get(pk=image.pk).status == ImageStatus.ENROLLED
        template_ids = [str(pk) for pk in FaceTemplate.objects.filter(image=image).values_list("pk", flat=True)]
        assert template_ids

        deployment = go_live(cast, planned_deployment)
        camera = planned_deployment.camera
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")

        def post(photos) -> None:
            response = client.post(
                f"/api/v1/cameras/{camera.pk}/frames/",
                {"frame": SimpleUploadedFile("frame.jpg", compose_frame(faces_dir, photos), content_type="image/jpeg")},
                format="multipart",
            )
            assert response.status_code == 202, response.content

        # The worker matches the person (and so holds a gallery with the template).
        post(["Kofi_Annan_0002", "Angelina_Jolie_0001"])
        _wait(lambda: _frames_processed(camera) == 1, 180, worker, log, "the first frame")
        alert = Alert.objects.get(deployment=deployment)
        assert (alert.watchlist_image_id, alert.sightings) == (image.pk, 1)

        # The erasure (its own transaction; the gallery change is announced after commit).
        certificates = watchlist_image_erase(
            image=WatchlistImage.objects.get(pk=image.pk),
            actor=cast.camden_dpo,
            reason="Subject's erasure request SAR-2026-0001 (UK GDPR Art. 17).",
            rule="subject_request.erasure",
        )
        erased = {(c.subject_type, c.subject_id) for c in certificates}
        assert ("governance.watchlistimagecontent", str(image.pk)) in erased
        assert {("recognition.facetemplate", pk) for pk in template_ids} <= erased
        assert DeletionCertificate.objects.filter(pk__in=[c.pk for c in certificates]).count() == len(certificates)
        assert not FaceTemplate.objects.filter(image_id=image.pk).exists()

        # Same worker, same person, within the dedup window: nothing matches any more.
        post(["Kofi_Annan_0003", "Serena_Williams_0001"])
        post(["Kofi_Annan_0002"])
        _wait(lambda: _frames_processed(camera) == 3, 180, worker, log, "the frames after erasure")
        assert Alert.objects.filter(deployment=deployment).count() == 1
        alert.refresh_from_db()
        assert alert.sightings == 1
        counter = FaceScanCounter.objects.get(camera=camera)
        assert (counter.faces_scanned, counter.alerts_raised) == (5, 1)
        worker_log = log.read_text(errors="replace")
        assert "Traceback" not in worker_log and "process_frame" in worker_log
