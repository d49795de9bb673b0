"""Micro-batched live matching in a real worker: ``celery worker --pool=threads`` (how ``make gpu-worker`` runs) on
PostgreSQL and Redis, two cameras posting at once. Frames of both cameras share engine passes, and every per-frame
guarantee holds as with one frame a task: each frame counted exactly once, the enrolled person alerted on from both
cameras, nobody else."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.deployments.models import Alert, FaceScanCounter, FrameOutcome
from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
from tests.recognition.deployments.conftest import celery_worker, compose_frame, go_live, upload_and_enrol
from tests.recognition.deployments.test_end_to_end_broker import _database_url, _wait

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.faces, pytest.mark.postgres]

# Each camera's frames: the enrolled person (Kofi Annan, another photo) in one frame of each camera.
FRAMES = {
    "GS-1": [
        ["Kofi_Annan_0002", "Angelina_Jolie_0001"],
        ["Serena_Williams_0001", "Vladimir_Putin_0001"],
        ["Salma_Hayek_0001", "Jiang_Zemin_0001"],
        ["Lleyton_Hewitt_0001", "Jennifer_Lopez_0001"],
    ],
    "GS-2": [
        ["Jennifer_Lopez_0001", "Serena_Williams_0001"],
        ["Kofi_Annan_0003", "Salma_Hayek_0001"],
        ["Angelina_Jolie_0001", "Lleyton_Hewitt_0001"],
        ["Vladimir_Putin_0001", "Jiang_Zemin_0001"],
    ],
}
PASS = re.compile(r"Live batching: a pass of (\d+) frames")


@pytest.mark.django_db(transaction=True)
def test_a_threads_pool_worker_matches_several_cameras_frames_in_shared_passes(
    postgres, broker_url, faces_dir, cast, people, active_agreement, planned_deployment, tmp_path
):
    log = tmp_path / "worker.log"
    env = {
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "RECOGNITION_DEVICE": "cpu",
        # Batching is off on a CPU by default (measured); here it is on, with passes that wait for company so that
        # frames posted together always share one on this small machine.
        "RECOGNITION_LIVE_BATCH_FRAMES": "4",
        "RECOGNITION_LIVE_BATCH_WAIT_MS": "300",
        "RECOGNITION_CPU_THREADS": "2",
    }
    with celery_worker(log, env=env, pool="threads", concurrency=4, name="test-batch") as worker:
        image = upload_and_enrol(
            active_agreement, people.camden_submitter, faces_dir, "Kofi_Annan_0001", subject="KX-SUBJ-0011"
        )
        _wait(
            lambda: WatchlistImage.objects.get(pk=image.pk).status != ImageStatus.RECEIVED,
            180,
            worker,
            log,
            "enrolment",
        )
        assert WatchlistImage.objects.get(pk=image.pk).status == ImageStatus.ENROLLED

        second = camera_add(
            actor=cast.estate_dpo,
            deployment=planned_deployment,
            name="GS-2",
            location="Granary Square, south steps",
            direction="North towards the station",
        )
        deployment = go_live(cast, planned_deployment)
        cameras = {"GS-1": planned_deployment.camera, "GS-2": second}
        clients = {}
        for name, camera in cameras.items():
            clients[name] = APIClient()
            key = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
            clients[name].credentials(HTTP_AUTHORIZATION=f"Camera {key}")
        posts = [
            (name, compose_frame(faces_dir, photos))
            for n in range(4)
            for name in cameras
            for photos in [FRAMES[name][n]]
        ]

        def post(item):
            name, data = item
            try:
                return clients[name].post(
                    f"/api/v1/cameras/{cameras[name].pk}/frames/",
                    {"frame": SimpleUploadedFile("frame.jpg", data, content_type="image/jpeg")},
                    format="multipart",
                )
            finally:
                connection.close()  # this posting thread's own connection

        with ThreadPoolExecutor(max_workers=2) as cameras_posting:  # both cameras at once
            responses = list(cameras_posting.map(post, posts))
        assert [r.status_code for r in responses] == [202] * len(posts), [r.content for r in responses]

        def processed() -> int:
            return sum(
                FaceScanCounter.objects.filter(camera__in=cameras.values()).values_list("frames_processed", flat=True)
            )

        _wait(lambda: processed() == len(posts), 240, worker, log, "frames")

        for name, camera in cameras.items():
            counter = FaceScanCounter.objects.get(camera=camera)
            assert (counter.frames_accepted, counter.frames_processed, counter.frames_dropped) == (4, 4, 0), name
            assert counter.faces_scanned == 8, name  # two faces in each of its four frames, every one scanned
        assert FrameOutcome.objects.filter(outcome="processed").count() == len(posts)  # once per frame
        alerts = list(Alert.objects.filter(deployment=deployment))
        assert [(a.watchlist_image_id, a.sightings) for a in alerts] == [(image.pk, 2)]  # seen by both cameras
        passes = [int(n) for n in PASS.findall(log.read_text())]
        assert passes and max(passes) >= 2, log.read_text()[-3000:]  # several frames in one engine pass
