"""End to end on PostgreSQL + Redis with a real ``celery worker`` process.

A Met Camden image is uploaded and enrolled by the worker; a deployment goes live; a camera gateway
posts frames holding that person and others; the worker raises one alert for the person and nothing
for anyone else; two reviewers confirm; the DPO discloses; the force reports the outcome through the
API; the audit trail is complete and the chain verifies.

And the no-persistence proof: after the frames are processed the only new rows are the hourly
counter, the one alert and its audit event; no new file in the worker's media or temporary folders
(nor an image file in this process's); no frame bytes (raw or base64) and no frame key left in Redis;
no frame key, image bytes or embedding-like float list in this process's logs or the worker's log.
"""

from __future__ import annotations

import base64
import logging
import re
import tempfile
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from governance.audit.models import AuditEvent
from governance.audit.services import audit_chain_verify
from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.deployments.models import Alert, AlertStatus, FaceScanCounter, FrameOutcome
from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.deployments.services.disclosure import alert_disclose
from tests.recognition.deployments.conftest import celery_worker, compose_frame, go_live, upload_and_enrol
from tests.recognition.deployments.review_helpers import confirm

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.faces, pytest.mark.postgres]

FRAMES = [
    ["Kofi_Annan_0002", "Angelina_Jolie_0001", "Vladimir_Putin_0001"],
    ["Serena_Williams_0001", "Kofi_Annan_0003"],
    ["Salma_Hayek_0001", "Jiang_Zemin_0001"],
    ["Lleyton_Hewitt_0001", "Jennifer_Lopez_0001"],
]
FLOAT_LIST = re.compile(r"-?\d\.\d{3,}(?:e-?\d+)?\s*,\s*-?\d\.\d{3,}(?:e-?\d+)?\s*,\s*-?\d\.\d{3,}")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _redis_clients():
    import redis

    urls = {settings.CELERY_BROKER_URL, settings.OVERSIGHT_FRAME_STORE_URL or settings.CELERY_BROKER_URL}
    cache_location = settings.CACHES["default"].get("LOCATION")
    if isinstance(cache_location, str) and cache_location.startswith("redis"):
        urls.add(cache_location)
    return [redis.Redis.from_url(url) for url in urls]


def _redis_values(client) -> dict[bytes, bytes]:
    values = {}
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        if kind == b"string":
            values[key] = client.get(key) or b""
        elif kind == b"list":
            values[key] = b"\n".join(client.lrange(key, 0, -1))
        elif kind == b"hash":
            values[key] = b"\n".join(k + b"=" + v for k, v in client.hgetall(key).items())
        elif kind in (b"set", b"zset"):
            members = client.smembers(key) if kind == b"set" else client.zrange(key, 0, -1)
            values[key] = b"\n".join(members)
    return values


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def _wait(condition, timeout: float, worker, log: Path, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, f"worker exited early:\n{log.read_text() if log.exists() else ''}"
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text() if log.exists() else ''}")


@pytest.mark.django_db(transaction=True)
def test_frames_to_alert_to_disclosure_to_outcome_through_a_real_worker(
    postgres, broker_url, faces_dir, cast, people, active_agreement, planned_deployment, tmp_path, caplog
):

    caplog.set_level(logging.DEBUG)
    worker_media, worker_tmp = tmp_path / "worker-media", tmp_path / "worker-tmp"
    worker_media.mkdir()
    worker_tmp.mkdir()
    env = {
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "OVERSIGHT_MEDIA_ROOT": str(worker_media),
        "TMPDIR": str(worker_tmp),
        "RECOGNITION_DEVICE": "cpu",
    }
    log = tmp_path / "worker.log"
    with celery_worker(log, env=env, name="test-live") as worker:
        # Image in: upload (this process) → enrolment (the worker).
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

        deployment = go_live(cast, planned_deployment)
        camera = planned_deployment.camera
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")

        # Baselines for the no-persistence proof.
        rows_before = _row_counts()
        temp_before = _files(Path(tempfile.gettempdir()))
        media_before = _files(worker_media) | _files(Path(settings.MEDIA_ROOT))
        sequence_before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
        # Claim markers of frames whose worker was killed (other tests') live for hours: not this test's.
        keys_before = {key for client in _redis_clients() for key in client.scan_iter(match="oversight:frame:*")}

        frame_bytes = [compose_frame(faces_dir, photos) for photos in FRAMES]
        for data in frame_bytes:
            response = client.post(
                f"/api/v1/cameras/{camera.pk}/frames/",
                {"frame": SimpleUploadedFile("frame.jpg", data, content_type="image/jpeg")},
                format="multipart",
            )
            assert response.status_code == 202, response.content
        _wait(
            lambda: (
                sum(FaceScanCounter.objects.filter(camera=camera).values_list("frames_processed", flat=True))
                == len(FRAMES)
            ),
            180,
            worker,
            log,
            "frames",
        )

        # One alert, for the enrolled person only; the second sighting attached to it.
        alerts = list(Alert.objects.filter(deployment=deployment))
        assert len(alerts) == 1, [(a.subject_reference, a.score) for a in alerts]
        alert = alerts[0]
        assert (alert.watchlist_image_id, alert.sightings) == (image.pk, 2)
        counter = FaceScanCounter.objects.get(camera=camera)
        assert (counter.faces_scanned, counter.alerts_raised, counter.frames_shed) == (9, 1, 0)
        assert counter.frames_accepted == counter.frames_processed == len(FRAMES) and counter.frames_dropped == 0

        # --- no persistence ------------------------------------------------------------------
        rows_after = _row_counts()
        changed = {
            label: rows_after[label] - rows_before.get(label, 0)
            for label in rows_after
            if rows_after[label] != rows_before.get(label, 0)
        }
        # The event is sequenced on the worker's commit (issue 23), or is about to be: a leaf or a pending entry,
        # never both, never neither (the batch is one transaction); its head and subtree nodes come with a leaf.
        tree = {
            name: changed.pop(f"governance.{name}", 0)
            for name in ("AuditPending", "AuditLeaf", "AuditTreeHead", "AuditTreeNode")
        }
        assert tree["AuditPending"] + tree["AuditLeaf"] == 1 and tree["AuditTreeHead"] == tree["AuditLeaf"], tree
        # The alert.raised event names the operator and the supplier of the matched image (two scope rows).
        # Two ledger rows per frame (accepted; its outcome counted once): a digest of the random key, its camera and
        # hour, nothing else. The accepted rows go with the next sweep of the frame ledger.
        assert changed == {
            "deployments.FaceScanCounter": 1,
            "deployments.FrameAccepted": len(FRAMES),
            "deployments.FrameOutcome": len(FRAMES),
            "deployments.Alert": 1,
            "governance.AuditEvent": 1,
            "governance.AuditEventOrganisation": 2,
        }, changed
        assert set(FrameOutcome.objects.values_list("outcome", flat=True)) == {"processed"}
        assert all(len(digest) == 64 for digest in FrameOutcome.objects.values_list("key_digest", flat=True))
        assert list(AuditEvent.objects.filter(sequence__gt=sequence_before).values_list("event", flat=True)) == [
            "alert.raised"
        ]
        assert _files(worker_media) | _files(Path(settings.MEDIA_ROOT)) == media_before
        assert _files(worker_tmp) == set(), _files(worker_tmp)
        for path in _files(Path(tempfile.gettempdir())) - temp_before:
            try:
                head = path.read_bytes()[:8]
            except OSError:
                continue
            assert not head.startswith((b"\xff\xd8\xff", b"\x89PNG")), f"image file left in temp: {path}"
        encoded = [base64.b64encode(data) for data in frame_bytes]
        for redis_client in _redis_clients():
            for key, value in _redis_values(redis_client).items():
                assert not key.startswith(b"oversight:frame:") or key in keys_before, key
                assert b"\xff\xd8\xff" not in value, f"JPEG bytes in Redis key {key!r}"
                for data, b64 in zip(frame_bytes, encoded, strict=True):
                    assert data[1000:1064] not in value and b64[1000:1064] not in value, f"frame in Redis key {key!r}"
        worker_log = log.read_text(errors="replace")
        for text, where in ((worker_log, "worker log"), (caplog.text, "test logs")):
            assert "oversight:frame:" not in text, f"frame key in {where}"
            assert not FLOAT_LIST.search(text), f"float vector in {where}"
            assert "\ufffd\ufffd\ufffd" not in text and "/9j/" not in text, f"image bytes in {where}"
        assert "recognition.deployments.tasks.process_frame" in worker_log and "succeeded" in worker_log

        # --- review, disclosure, outcome ----------------------------------------------------------
        assert confirm(people.reviewer_a, alert).status == AlertStatus.PENDING
        alert = confirm(people.police_reviewer, alert)
        assert alert.status == AlertStatus.CONFIRMED
        disclosure = alert_disclose(
            actor=cast.estate_dpo,
            alert=alert,
            recipient_organisation=cast.camden,
            recipient="Camden LFR desk, lfr.camden@met.cjsm.net",
            channel="cjsm_email",
            justification="Subject wanted on warrant; time and place needed to locate them.",
        )
        from governance.api.tokens import api_token_issue

        _entry, secret = api_token_issue(actor=None, organisation=cast.camden, user=people.camden_submitter, days=7)
        police = APIClient()
        police.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        assert [d["id"] for d in police.get("/api/v1/disclosures/").json()["results"]] == [disclosure.pk]
        outcome = police.post(
            f"/api/v1/disclosures/{disclosure.pk}/outcome/",
            {"outcome": "arrested", "notes": "Arrested on warrant."},
            format="json",
        )
        assert outcome.status_code == 200, outcome.content

        trail = list(
            AuditEvent.objects.filter(target_type="deployments.alert", target_id=str(alert.pk)).values_list(
                "event", "action", "recipient"
            )
        )
        assert [e for e, _a, _r in trail] == [
            "alert.raised",
            "alert.probe_viewed",  # each reviewer is shown the crop (and the enrolled image) before deciding
            "alert.reviewed",
            "alert.probe_viewed",
            "alert.reviewed",
            "alert.confirmed",
            "alert.disclosed",
            "disclosure.outcome_reported",
        ]
        assert trail[6][1] == "disclosure" and "lfr.camden@met.cjsm.net" in trail[6][2]
        deployment_events = set(
            AuditEvent.objects.filter(target_type="deployments.deployment", target_id=str(deployment.pk)).values_list(
                "event", flat=True
            )
        )
        assert {"deployment.planned", "deployment.watchlist_reviewed", "deployment.went_live"} <= deployment_events
        image_events = set(
            AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(image.pk)).values_list(
                "action", flat=True
            )
        )
        assert {"collection", "combination"} <= image_events
        assert audit_chain_verify().ok
