"""Faults: SIGKILL of a real worker during enrolment, frame matching and a retention sweep;
PostgreSQL and Redis restarted during activity. In each case the system recovers by itself within
a stated time, and nothing accepted is lost uncounted or duplicated — shown by counts before and
after (frames accepted and their outcomes, enrolments, alerts, sightings, erasures, audit events)
and a verified audit chain.

Recovery times measured are printed and written to ``test-artifacts/faults-recovery.json``
(README, "Faults and recovery", states them); the bounds asserted are generous: self-recovery is
the property, not speed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from governance.audit.models import AuditEvent
from governance.audit.services import audit_chain_verify
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage
from recognition.deployments.models import Alert, FaceScanCounter, FrameOutcome
from recognition.deployments.selectors import frames_unreconciled
from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.models import FaceTemplate
from tests.faults.conftest import VISIBILITY_TIMEOUT
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    compose_frame,
    go_live,
    live_deployment,
    people,
    planned_deployment,
    upload_and_enrol,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.slow, pytest.mark.postgres]

ENGINE_LOAD = 180  # a worker's first task loads the engine: slow on a loaded 2-core machine
RECOVERY = Path("test-artifacts") / "faults-recovery.json"
PEOPLE = ["Kofi_Annan_0001", "Serena_Williams_0001", "Salma_Hayek_0001"]
CROWD = [["Kofi_Annan_0002", "Angelina_Jolie_0001"], ["Kofi_Annan_0003", "Vladimir_Putin_0001"]]


def record_recovery(name: str, seconds: float, note: str) -> None:
    RECOVERY.parent.mkdir(exist_ok=True)
    figures = json.loads(RECOVERY.read_text()) if RECOVERY.exists() else {}
    figures[name] = {"seconds": round(seconds, 1), "note": note}
    RECOVERY.write_text(json.dumps(figures, indent=2, sort_keys=True))
    print(f"recovery {name}: {seconds:.1f} s ({note})")


def wait_for(condition, timeout: float, what: str, *workers) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if condition():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001 - a server may be coming back
            connection.close()
        time.sleep(0.25)
    logs = "\n".join(w.text()[-3000:] for w in workers)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")


def frame_totals(camera) -> dict:
    totals = FaceScanCounter.objects.filter(camera=camera).aggregate(
        accepted=Sum("frames_accepted"),
        processed=Sum("frames_processed"),
        dropped=Sum("frames_dropped"),
        shed=Sum("frames_shed"),
        refused=Sum("frames_refused"),
    )
    totals = {k: v or 0 for k, v in totals.items()}
    totals["reasons"] = dict(
        Counter(
            {
                row["reason"]: row["n"]
                for row in camera.drop_counters.values("reason").annotate(n=Sum("frames")).order_by()
            }
        )
    )
    return totals


def settled(camera) -> bool:
    t = frame_totals(camera)
    return t["accepted"] == t["processed"] + t["dropped"]


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=name))


def camera_client(cast, camera) -> APIClient:
    client = APIClient()
    key = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    client.credentials(HTTP_AUTHORIZATION=f"Camera {key}")
    return client


def post(client, camera, data: bytes) -> int:
    response = client.post(
        f"/api/v1/cameras/{camera.pk}/frames/",
        {"frame": SimpleUploadedFile("frame.jpg", data, content_type="image/jpeg")},
        format="multipart",
    )
    assert response.status_code in (202, 429, 503), (response.status_code, response.content[:300])
    if response.status_code == 503:
        assert response.json()["error"]["code"] in ("unavailable", "matching_unavailable")
    return response.status_code


def post_until_frames_wait(client, camera, crowd, answers: Counter, *, waiting: int = 5) -> int:
    """Post frames ten at a time until at least ``waiting`` accepted ones are not yet counted (the worker has a queue);
    returns how many were posted. A frame takes about as long to match here as to post, so a fixed number of frames
    can drain before the test acts on them."""
    posted = 0
    while True:
        answers.update(post(client, camera, crowd[n % 2]) for n in range(10))
        posted += 10
        totals = frame_totals(camera)
        if totals["accepted"] - totals["processed"] - totals["dropped"] >= waiting:
            return posted
        assert posted < 300, f"the worker counted every frame as fast as they were posted: {totals}"


def frame_marked_taken(store_url: str) -> bool:
    """A worker is mid-frame: a frame key holds the claim marker (the bytes are in the worker)."""
    import redis

    from recognition.deployments import frames

    client = redis.Redis.from_url(store_url)
    return any(client.get(key) == frames.TAKEN for key in client.scan_iter(match=f"{frames.KEY_PREFIX}*"))


@pytest.mark.django_db(transaction=True)
def test_workers_killed_mid_enrolment_and_mid_frame_recover_and_count_everything_once(
    fault_env, fault_servers, faces_dir, cast, people, active_agreement, planned_deployment, settings
):  # noqa: F811
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100
    # --- enrolment: the first worker dies while enrolling ------------------------------------------
    first = fault_env()
    images = [
        upload_and_enrol(active_agreement, people.camden_submitter, faces_dir, photo, subject=f"KX-FAULT-{n}")
        for n, photo in enumerate(PEOPLE)
    ]
    wait_for(
        lambda: "recognition.tasks.enrol_watchlist_image" in first.text(), ENGINE_LOAD, "the enrolment task", first
    )
    first.sigkill()
    killed_at = time.monotonic()
    received = WatchlistImage.objects.filter(pk__in=[i.pk for i in images], status=ImageStatus.RECEIVED).count()
    assert received >= 1, "the worker finished before it was killed: nothing was interrupted"

    second = fault_env()
    wait_for(
        lambda: not WatchlistImage.objects.filter(pk__in=[i.pk for i in images], status=ImageStatus.RECEIVED).exists(),
        VISIBILITY_TIMEOUT + ENGINE_LOAD,
        "enrolment after the kill",
        second,
    )
    record_recovery(
        "worker_killed_mid_enrolment",
        time.monotonic() - killed_at,
        f"Redis broker, visibility timeout {VISIBILITY_TIMEOUT} s, includes the new worker's engine load",
    )
    assert set(WatchlistImage.objects.filter(pk__in=[i.pk for i in images]).values_list("status", flat=True)) == {
        ImageStatus.ENROLLED
    }
    assert FaceTemplate.objects.filter(image__in=images).count() == len(images)  # one each, none twice
    enrolled = Counter(e.target_id for e in events("watchlist_image.enrolled"))
    assert enrolled == Counter({str(i.pk): 1 for i in images}), enrolled

    # --- frames: the second worker dies while matching --------------------------------------------
    deployment = go_live(cast, planned_deployment)
    camera = planned_deployment.camera
    client = camera_client(cast, camera)
    crowd = [compose_frame(faces_dir, photos) for photos in CROWD]
    answers = Counter(post(client, camera, crowd[n % 2]) for n in range(4))
    wait_for(lambda: settled(camera), ENGINE_LOAD, "the first frames", second)
    # Keep the worker busy (a frame takes ~50 ms here, about as long as posting one, so a few frames drain before a
    # poll sees one mid-match): post ten at a time until at least five accepted frames wait uncounted, then kill the
    # worker the moment a frame's bytes are in it.
    queued = post_until_frames_wait(client, camera, crowd, answers)
    deadline = time.monotonic() + 60
    while not frame_marked_taken(fault_servers.store.url(0)):
        assert time.monotonic() < deadline, "no frame was being matched"
        time.sleep(0.005)
    second.sigkill()
    killed_at = time.monotonic()
    answers.update(post(client, camera, crowd[n % 2]) for n in range(4))  # queued while no worker runs
    third = fault_env()
    wait_for(lambda: settled(camera), VISIBILITY_TIMEOUT + ENGINE_LOAD, "every accepted frame's outcome", third)
    record_recovery(
        "worker_killed_mid_frame",
        time.monotonic() - killed_at,
        f"Redis broker, visibility timeout {VISIBILITY_TIMEOUT} s, includes the new worker's engine load",
    )
    totals = frame_totals(camera)
    print("frames", totals, "answers", dict(answers))
    assert answers[202] == totals["accepted"] == 4 + queued + 4 and answers[503] == 0, (answers, totals)
    assert totals["accepted"] == totals["processed"] + totals["dropped"], totals
    assert set(totals["reasons"]) <= {"worker_lost"} and totals["dropped"] <= 1, totals
    assert FrameOutcome.objects.count() == totals["accepted"]  # one ledger row per frame: none counted twice
    alerts = list(Alert.objects.filter(deployment=deployment))
    assert len(alerts) == 1 and alerts[0].watchlist_image_id == images[0].pk  # Kofi Annan, once
    # Every processed frame held him; a frame lost with its worker may have recorded him before it died.
    assert totals["processed"] <= alerts[0].sightings <= totals["processed"] + totals["dropped"], (alerts, totals)
    assert len(events("alert.raised")) == 1
    assert frames_unreconciled(include_unsettled=True) == []
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault_env", ["redis", "rabbitmq"], indirect=True)
def test_worker_killed_mid_retention_sweep_is_finished_by_the_redelivered_task(
    fault_env, cast, live_deployment, active_agreement
):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from governance.retention.models import RetentionRun, RetentionRunStatus
    from governance.retention.tasks import retention_sweep_task
    from tests.recognition.deployments.conftest import enrolled_image_row

    count = 20000
    image = enrolled_image_row(active_agreement, cast.camden)
    past = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Alert._meta.db_table} (deployment_id, camera_id, subject_reference, agreement_id, score,
                    threshold, first_seen_at, last_seen_at, sightings, probe_crop, probe_key_id, retention_due_at,
                    status, close_reason, watchlist_image_id, supplying_organisation_id, probe_embedding, probe_backend)
                SELECT %s, %s, 'KX-SUBJ-0001', %s, 0.9, 0.5, %s, %s, 1, %s, 'k', %s, 'false_alert', 'false_alert',
                       %s, %s, ''::bytea, ''
                FROM generate_series(1, %s)""",
            [
                live_deployment.pk,
                live_deployment.camera.pk,
                active_agreement.pk,
                past,
                past,
                b"crop-token-bytes",
                past + timedelta(days=30),
                image.pk,
                cast.camden.pk,
                count,
            ],
        )
    worker = fault_env()
    retention_sweep_task.delay()
    wait_for(
        lambda: any(
            (run.erased_counts or {}).get("alert.match_retention", 0) > 0
            for run in RetentionRun.objects.filter(status=RetentionRunStatus.RUNNING)
        ),
        120,
        "the sweep's first batches",
        worker,
    )
    worker.sigkill()
    killed_at = time.monotonic()
    partly = Alert.objects.filter(erased_at__isnull=False).count()
    assert 0 < partly < count, f"the sweep was not interrupted ({partly} of {count} erased)"

    again = fault_env()  # no new sweep is queued: the killed task's message comes back (acks_late)
    wait_for(lambda: "retention_sweep" in again.text(), VISIBILITY_TIMEOUT + 120, "the redelivered sweep task", again)
    redelivered = time.monotonic() - killed_at
    wait_for(
        lambda: RetentionRun.objects.filter(status=RetentionRunStatus.FINISHED).exists(),
        VISIBILITY_TIMEOUT + 240,
        "the redelivered sweep",
        again,
    )
    record_recovery(
        f"worker_killed_mid_sweep_{fault_env.broker}",
        time.monotonic() - killed_at,
        (
            f"Redis broker, visibility timeout {VISIBILITY_TIMEOUT} s"
            if fault_env.broker == "redis"
            else "RabbitMQ: the task is requeued when the dead worker's connection drops"
        )
        + f"; {count} due alerts; includes starting the new worker",
    )
    record_recovery(f"worker_killed_mid_sweep_{fault_env.broker}_redelivered", redelivered, "kill to task received")
    assert Alert.objects.filter(erased_at__isnull=True).count() == 0
    runs = {run.status: run for run in RetentionRun.objects.all()}
    assert set(runs) == {RetentionRunStatus.INTERRUPTED, RetentionRunStatus.FINISHED}
    certificates = DeletionCertificate.objects.filter(subject_type="deployments.alert")
    assert certificates.count() == certificates.values("subject_id").distinct().count() == count  # each once
    erased = Counter(pk for e in events("alert.data_erased") for pk in e.details["alerts"])
    assert len(erased) == count and set(erased.values()) == {1}  # every alert erased once, in one event
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_during_frames_every_accepted_frame_is_counted(
    fault_env, fault_servers, faces_dir, cast, live_deployment, settings
):  # noqa: F811
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    crowd = [compose_frame(faces_dir, photos) for photos in CROWD]
    worker = fault_env()
    answers = Counter([post(client, camera, crowd[0])])
    wait_for(lambda: settled(camera), ENGINE_LOAD, "the first frame (engine loaded)", worker)
    # Frames still waiting for the worker when PostgreSQL goes: posted ten at a time until at least five of them are
    # not yet counted (a frame takes ~50 ms here, about as long as posting one, so a fixed number either drained
    # before the server had stopped or was never seen mid-match by a poll).
    queued = post_until_frames_wait(client, camera, crowd, answers)
    connection.close()
    fault_servers.pg.stop()
    outage_answers = Counter()
    deadline = time.monotonic() + 12  # longer than the worker's in-process retries: counts are deferred
    while time.monotonic() < deadline:
        outage_answers[post(client, camera, crowd[0])] += 1
        time.sleep(0.5)
    assert outage_answers.keys() == {503}, outage_answers  # never a 500
    fault_servers.pg.start()
    back_at = time.monotonic()
    while post(client, camera, crowd[1]) != 202:
        assert time.monotonic() - back_at < 60, "the door did not come back"
        time.sleep(0.25)
    answers[202] += 1
    record_recovery("postgresql_restart_door", time.monotonic() - back_at, "first 202 after PostgreSQL is back")
    answers.update(post(client, camera, crowd[n % 2]) for n in range(4))
    wait_for(lambda: settled(camera), 240, "every accepted frame's outcome after the restart", worker)
    record_recovery(
        "postgresql_restart_settled",
        time.monotonic() - back_at,
        "every accepted frame counted (deferred outcomes retried by the task)",
    )
    totals = frame_totals(camera)
    print("frames", totals, "answers", dict(answers))
    assert answers[202] == totals["accepted"] == 1 + queued + 1 + 4, (answers, totals)
    assert totals["accepted"] == totals["processed"] + totals["dropped"], totals
    assert set(totals["reasons"]) <= {"database_unavailable"}, totals
    assert FrameOutcome.objects.count() == totals["accepted"]
    # The frames the worker held through the outage outlasted its in-process retries: their outcomes
    # went to the task's retries, and were counted once PostgreSQL was back.
    assert "its outcome is counted later" in worker.text()
    assert worker.alive()
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_redis_restarted_queued_work_survives_the_broker_and_lost_frame_bytes_are_counted(
    fault_env, fault_servers, faces_dir, cast, people, active_agreement, live_deployment, settings
):  # noqa: F811
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100
    camera = live_deployment.camera
    client = camera_client(cast, camera)
    crowd = [compose_frame(faces_dir, photos) for photos in CROWD]
    # No worker: an upload's enrolment and five frames wait in the broker.
    image = upload_and_enrol(active_agreement, people.camden_submitter, faces_dir, PEOPLE[1], subject="KX-FAULT-Q")
    answers = Counter(post(client, camera, crowd[n % 2]) for n in range(5))
    fault_servers.broker.stop()  # the persistent broker restarts (AOF)
    down = Counter(post(client, camera, crowd[0]) for _ in range(2))
    assert down.keys() == {503}, down  # never a 500
    restart = fault_servers.broker.start()
    record_recovery("broker_redis_restart", restart, "persistent Redis broker back with its queue")
    worker = fault_env()
    wait_for(
        lambda: WatchlistImage.objects.get(pk=image.pk).status == ImageStatus.ENROLLED and settled(camera),
        ENGINE_LOAD,
        "queued enrolment and frames after the broker restart",
        worker,
    )
    totals = frame_totals(camera)
    print("frames", totals, "answers", dict(answers))
    assert answers[202] == totals["processed"] == 5 and totals["dropped"] == 0, (answers, totals)
    assert FaceTemplate.objects.filter(image=image).count() == 1

    # The frame store restarts (no persistence): frames waiting lose their bytes, and are counted.
    worker.stop()
    answers = Counter(post(client, camera, crowd[n % 2]) for n in range(3))
    fault_servers.store.stop()
    down = Counter(post(client, camera, crowd[0]) for _ in range(2))
    assert down.keys() == {503}, down
    fault_servers.store.start()
    answers.update(post(client, camera, crowd[0]) for _ in range(2))
    worker = fault_env()
    wait_for(lambda: settled(camera), ENGINE_LOAD, "frames after the frame store restart", worker)
    totals = frame_totals(camera)
    print("frames", totals, "answers", dict(answers))
    assert totals["accepted"] == 10 and totals["processed"] == 7, totals
    assert totals["reasons"] == {"bytes_lost": 3}, totals
    assert FrameOutcome.objects.count() == totals["accepted"]
    assert frames_unreconciled(include_unsettled=True) == []
    assert audit_chain_verify().ok
