"""Benchmark of the live pipeline: frames/s through API → Redis → worker → engine → gallery, and the
latency from a frame upload to its alert being visible in the review queue's JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \
    CACHE_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m benchmarks.live_pipeline [--frames 40] \
    [--trials 15] [--concurrency 1]

It creates a scratch test database (``test_<name>``, dropped at the end), starts a real
``celery worker`` subprocess, enrols one dev-set identity through the watchlist upload service,
takes a deployment live, then:

1. throughput: posts ``--frames`` 640x480 frames of 2-3 faces each (none on the watchlist) through
   the camera API as fast as the API accepts them and times until every one is processed;
2. latency: ``--trials`` times, posts one frame holding the enrolled person and polls the review
   queue JSON (as a reviewer, through the real view) every 20 ms until the alert appears.

Prints figures; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes (prefork), or threads")
    parser.add_argument(
        "--pool", choices=("prefork", "threads"), default="prefork", help="threads: one process (make gpu-worker)"
    )
    parser.add_argument(
        "--live-batch", type=int, default=0, help="RECOGNITION_LIVE_BATCH_FRAMES for the worker (0: its default)"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Every sighting becomes its own alert, so each latency trial waits for a new one.
    os.environ["OVERSIGHT_ALERT_DEDUP_MINUTES"] = "0"
    os.environ["OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA"] = str(max(args.frames * 2, 100))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        sys.exit("The benchmark needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).")
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    log = Path(tempfile.mkdtemp(prefix="oversight-bench-")) / "worker.log"
    s = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{test_db}",
    }
    # As the Makefile's worker does: the cores are shared between the worker processes, one torch pool each (a
    # threads-pool worker is one process: its torch pool has every core).
    processes = args.processes = 1 if args.pool == "threads" else args.concurrency
    env.setdefault("RECOGNITION_CPU_THREADS", str(max(1, len(os.sched_getaffinity(0)) // processes)))
    if args.live_batch:
        env["RECOGNITION_LIVE_BATCH_FRAMES"] = str(args.live_batch)
    pool = "--pool=threads" if args.pool == "threads" else "--pool=solo" if args.concurrency == 1 else "--pool=prefork"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={args.concurrency}",
            pool,
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            f"--logfile={log}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        _run(args, worker, log)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        connection.creation.destroy_test_db(test_db, verbosity=0)


def _wait(condition, timeout, worker, log, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            sys.exit(f"worker exited:\n{log.read_text() if log.exists() else ''}")
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {what}")


def _run(args, worker, log) -> None:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from governance.watchlist.models import ImageStatus, WatchlistImage
    from recognition.deployments.models import FaceScanCounter
    from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
    from recognition.deployments.services.planning import deployment_plan

    # The scenario is built with the test suite's helpers (cast, agreement, deployment): the same
    # service calls, kept in one place.
    from tests.conftest import Cast, agreement_terms, approved_dpia, approved_policy, signed_pdf
    from tests.recognition.deployments.conftest import (
        People,
        compose_frame,
        deployment_fields,
        go_live,
        upload_and_enrol,
    )

    faces = Path(settings.FACES_DIR)
    cast = Cast()
    people = People(cast)
    from datetime import date, timedelta

    from governance.agreements import services as agreements

    agreement = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=date.today() - timedelta(days=3),
        reference="BENCH-1",
        notified_by="Bench",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])  # approval needs an approved DPIA covering the agreement
    approved_policy(cast.met_dpo)  # and the supplying force's s.42 policy document
    approved_policy(cast.estate_dpo, agreements=[agreement])  # the operator's own, for go-live
    agreement = agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement)

    started = time.monotonic()
    image = upload_and_enrol(agreement, people.camden_submitter, faces, "Kofi_Annan_0001", subject="BENCH-0001")
    _wait(lambda: WatchlistImage.objects.get(pk=image.pk).status != ImageStatus.RECEIVED, 300, worker, log, "enrolment")
    print(f"worker up and image enrolled in {time.monotonic() - started:.1f} s")
    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[agreement], fields=deployment_fields(cast))
    camera = camera_add(
        actor=cast.estate_dpo, deployment=deployment, name="BENCH-1", location="Bench", direction="North"
    )
    go_live(cast, deployment)
    print("deployment live", flush=True)
    gateway = APIClient()
    gateway.credentials(HTTP_AUTHORIZATION=f"Camera {camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)}")
    url = f"/api/v1/cameras/{camera.pk}/frames/"

    def post(data: bytes) -> float:
        t0 = time.perf_counter()
        response = gateway.post(url, {"frame": SimpleUploadedFile("f.jpg", data)}, format="multipart")
        if response.status_code != 202:
            sys.exit(f"frame refused: {response.status_code} {response.content[:200]!r}")
        return t0

    def processed() -> int:
        return sum(FaceScanCounter.objects.filter(camera=camera).values_list("frames_processed", flat=True))

    others = sorted(
        p.stem for p in (faces / "dev").glob("*/*.jpg") if not p.parent.name.startswith(("_", "Kofi_Annan"))
    )
    frames = [compose_frame(faces, others[i % len(others) : i % len(others) + 2 + i % 2]) for i in range(args.frames)]
    warm = compose_frame(faces, others[:3])
    post(warm)
    print("warm-up frame posted", flush=True)
    _wait(lambda: processed() >= 1, 300, worker, log, "warm-up frame")

    # 1. Throughput.
    base = processed()
    t0 = time.perf_counter()
    request_times = []
    for data in frames:
        start = time.perf_counter()
        post(data)
        request_times.append(time.perf_counter() - start)
    _wait(lambda: processed() >= base + len(frames), 600, worker, log, "throughput frames")
    elapsed = time.perf_counter() - t0
    faces_total = sum(FaceScanCounter.objects.filter(camera=camera).values_list("faces_scanned", flat=True))

    # 2. Latency, upload → alert visible in the review queue JSON.
    reviewer = Client()
    reviewer.force_login(people.reviewer_a)
    queue_url = reverse("review-queue-json")

    def queue_ids() -> set[int]:
        return {row["id"] for row in reviewer.get(queue_url).json()["alerts"]}

    latencies = []
    for trial in range(args.trials):
        seen = queue_ids()
        target = compose_frame(
            faces, ["Kofi_Annan_0002" if trial % 2 == 0 else "Kofi_Annan_0003", others[trial % len(others)]]
        )
        t_upload = post(target)
        while True:
            if queue_ids() - seen:
                latencies.append(time.perf_counter() - t_upload)
                break
            if time.perf_counter() - t_upload > 60:
                sys.exit("alert did not appear within 60 s")
            time.sleep(0.02)

    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}",
        (
            f"worker: 1 process, pool threads, {args.concurrency} task threads, live batch "
            f"{args.live_batch or 'default'}, "
            if args.pool == "threads"
            else f"worker: {args.concurrency} process(es), pool {'solo' if args.concurrency == 1 else 'prefork'}, "
        )
        + f"{os.environ.get('RECOGNITION_CPU_THREADS') or max(1, len(os.sched_getaffinity(0)) // args.processes)} "
        f"torch thread(s) each",
        f"throughput: {len(frames)} frames (640x480, {faces_total} faces incl. warm-up) in {elapsed:.2f} s = "
        f"{len(frames) / elapsed:.2f} frames/s; upload request median {statistics.median(request_times) * 1000:.1f} ms",
        f"latency upload → alert in queue JSON over {len(latencies)} trials: median {statistics.median(latencies) * 1000:.0f} ms,"
        f" p95 {p95 * 1000:.0f} ms, min {latencies[0] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms",
    ]
    print("\n".join(lines))
    from benchmarks.results import record_markdown as record_benchmark

    name = "live-pipeline" if args.concurrency == 1 else f"live-pipeline-{args.concurrency}-workers"
    title = "" if args.concurrency == 1 else f" ({args.concurrency} worker processes)"
    if args.pool == "threads":
        name = f"live-pipeline-threads-{args.concurrency}-batch-{args.live_batch or 'default'}"
        title = f" (one worker process, {args.concurrency} task threads, live batch {args.live_batch or 'default'})"
    record_benchmark(
        name,
        "\n".join(
            [
                f"## Live pipeline{title}: frames through API → Redis → worker → engine → gallery; upload → alert in the queue",
                "",
                f"- Command: `python -m benchmarks.live_pipeline --frames {args.frames} --trials {args.trials} "
                f"--concurrency {args.concurrency}"
                + (f" --pool threads --live-batch {args.live_batch}" if args.pool == "threads" else "")
                + "` (PostgreSQL, Redis broker, a real `celery worker` process); "
                f"{time.strftime('%Y-%m-%d %H:%M')}",
                *[f"- {line}" for line in lines],
                "- The review queue page polls this JSON every 2 s, so a reviewer sees an alert within latency + ≤ 2 s.",
            ]
        ),
    )


if __name__ == "__main__":
    main()
