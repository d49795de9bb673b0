"""Mixed load on the scaled-out form, on loopback: ``python -m benchmarks.load.run``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight CELERY_BROKER_URL=redis://127.0.0.1:6379/11 \
    CACHE_URL=redis://127.0.0.1:6379/12 .venv/bin/python -m benchmarks.load.run [--record] [--quick]

What it does, bounded in count (quotas) and in time (``--run-time``, ``--drain-timeout``):

1. recreates a scratch database ``<DATABASE_URL's name>_load``, migrates it and seeds it through the
   services (the test suite's cast: an approved agreement with its DPIA, a live deployment with
   ``--cameras`` cameras and their keys, a force submitter's API token, a DPO with a password);
2. empties its broker database (the one in ``CELERY_BROKER_URL``: a stale task of an earlier run
   would land on this run's cameras), starts gunicorn (``--web-workers`` sync workers) and one
   ``celery worker`` (``--worker-concurrency``), and waits until both answer;
3. runs Locust headless (``benchmarks/load/locustfile.py``): police uploads, camera frames and signed-in
   DPO page reads **at the same time**, each kind with its quota;
4. waits until the worker has drained (every accepted upload enrolled or rejected, every accepted
   frame counted), then accounts for every request in the database: each upload answered 202 is a
   stored image row with its ``watchlist_image.received`` audit event, and has left ``received``;
   the frame counters' outcomes add up to the frames answered 202 plus the frames the door refused
   and counted (429 shed, 409 not live, 503 unavailable), and a ``frames_accepted`` counter where
   the model has one equals the 202s; the audit chain verifies;
5. prints per endpoint: requests, throughput, p50/p95/max latency, status codes and error rate
   (``--record`` writes it into BENCHMARKS.md; ``--json PATH`` writes the figures and the
   accounting for ``tests/load/test_load.py``).

Exit status 1 when anything is unaccounted for or any response was a 5xx or a dropped connection;
timings are reported, never judged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"

# What each endpoint answers when it did its job. 429 from the frame endpoint is the designed
# shedding of a camera that outruns the workers (counted by the server), not an error.
EXPECTED = {
    "POST /api/v1/watchlist-images/": {"202"},
    "POST /api/v1/cameras/<id>/frames/": {"202", "429"},
    "POST /sign-in/": {"302"},
}
DOOR_COUNTED_FRAME_ANSWERS = ("429", "409", "503")


def _scratch_url(url: str, suffix: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=parts.path.rstrip("/") + suffix))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def _frames(count: int, faces_dir: Path) -> list[bytes]:
    """Camera-like 640x480 frames with 2-3 dev faces each (grey frames without the face set)."""
    import io

    from PIL import Image

    people = sorted(p.stem for p in (faces_dir / "dev").glob("*/*.jpg") if not p.parent.name.startswith("_"))
    if not people:
        out = []
        for n in range(count):
            buffer = io.BytesIO()
            Image.new("RGB", (640, 480), (90 + n % 30, 100, 104)).save(buffer, format="JPEG", quality=85)
            out.append(buffer.getvalue())
        return out
    from tests.recognition.deployments.conftest import compose_frame

    return [compose_frame(faces_dir, people[n % len(people) : n % len(people) + 2 + n % 2]) for n in range(count)]


def _seed(cameras: int) -> dict:
    """The cast, an approved agreement (with its DPIA), a live deployment, keys and a token."""
    from governance.agreements import services as agreements
    from governance.api.tokens import api_token_issue
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create
    from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
    from recognition.deployments.services.planning import deployment_plan
    from tests.conftest import Cast, agreement_terms, approved_dpia, approved_policy, signed_pdf
    from tests.recognition.deployments.conftest import deployment_fields, go_live

    cast = Cast()
    submitter = user_create(
        actor=None, username="api.load", organisation=cast.camden, roles=[Role.FORCE_SUBMITTER], password=cast.password
    )
    from django.utils import timezone

    agreement = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, max_images=1_000_000))
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate() - timedelta(days=3),
        reference="LOAD-1",
        notified_by="Load test",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.met_dpo)  # the supplying force's s.42 document (approval)
    approved_policy(cast.estate_dpo)  # the operator's own (go-live)
    agreement.refresh_from_db()
    agreement = agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[agreement], fields=deployment_fields(cast))
    camera_rows = [
        camera_add(actor=cast.estate_dpo, deployment=deployment, name=f"LOAD-{n}", location="Load", direction="North")
        for n in range(1, cameras + 1)
    ]
    go_live(cast, deployment)
    _, token = api_token_issue(actor=None, organisation=cast.camden, user=submitter, days=1)
    return {
        "agreement_id": agreement.pk,
        "deployment_id": deployment.pk,
        "token": token,
        "cameras": [{"id": c.pk, "key": camera_issue_ingest_key(actor=cast.estate_dpo, camera=c)} for c in camera_rows],
        "dpo": {"username": cast.estate_dpo.username, "password": cast.password},
    }


def _frame_counters() -> dict[str, int]:
    """Every ``frames_*`` counter summed over all cameras (whatever counters the model has now)."""
    from django.db.models import PositiveBigIntegerField, Sum

    from recognition.deployments.models import FaceScanCounter

    names = [
        f.name
        for f in FaceScanCounter._meta.get_fields()
        if isinstance(f, PositiveBigIntegerField) and f.name.startswith("frames_")
    ]
    totals = FaceScanCounter.objects.aggregate(**{name: Sum(name) for name in names})
    return {name: int(value or 0) for name, value in totals.items()}


def _frame_outcomes(counters: dict[str, int]) -> int:
    return sum(value for name, value in counters.items() if name != "frames_accepted")


def _wait_for(condition, timeout: float, procs: list[subprocess.Popen], what: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        for proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"a server process exited while waiting for {what} (status {proc.returncode})")
        time.sleep(0.5)
    return False


def _start(args, env: dict, logs: Path, port: int) -> list[subprocess.Popen]:
    python = sys.executable
    worker = subprocess.Popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={args.worker_concurrency}",
            "--pool=solo" if args.worker_concurrency == 1 else "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            f"-n load-{port}@%h",
            f"--logfile={logs / 'worker.log'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "--error-logfile",
            str(logs / "gunicorn.log"),
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / "web.log").open("ab"),  # Django's own log (errors with their tracebacks)
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return [worker, web]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(args) -> dict:
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith("postgres") or not broker_url.startswith("redis"):
        raise SystemExit("Needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... (the scaled-out form).")
    from benchmarks.watchlist_upload import _free_port, _images, _recreate_database

    scratch = _scratch_url(database_url, "_load")
    _recreate_database(scratch)
    env = dict(
        os.environ,
        DATABASE_URL=scratch,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        # The API's rate limit would turn a load test into a throttling test; frames keep their shedding.
        OVERSIGHT_API_RATE_LIMIT="1000000/minute",
        CACHE_URL=os.environ.get("CACHE_URL") or broker_url,
        RECOGNITION_CPU_THREADS=os.environ.get("RECOGNITION_CPU_THREADS", "1"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.conf import settings

    from governance.audit.models import AuditEvent
    from governance.audit.services import audit_chain_verify
    from governance.watchlist.models import ImageStatus, WatchlistImage

    plan = _seed(args.cameras)
    work = Path(tempfile.mkdtemp(prefix="oversight-load-"))
    faces = Path(settings.FACES_DIR)
    image_paths, frame_paths = [], []
    for n, data in enumerate(_images(args.uploads, faces)):
        (work / f"image-{n}.jpg").write_bytes(data)
        image_paths.append(str(work / f"image-{n}.jpg"))
    for n, data in enumerate(_frames(min(args.frames, 40), faces)):
        (work / f"frame-{n}.jpg").write_bytes(data)
        frame_paths.append(str(work / f"frame-{n}.jpg"))
    plan.update(
        images=image_paths,
        frames=frame_paths,
        quota={"upload": args.uploads, "frame": args.frames, "read": args.reads},
        users={"police": args.police, "cameras": args.cameras, "web": args.web},
        results=str(work / "results.json"),
    )
    (work / "plan.json").write_text(json.dumps(plan))

    client = redis.Redis.from_url(broker_url)
    client.flushdb()  # this run's broker database only: no stale task may reach this run's cameras
    client.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    procs = _start(args, env, work, port)
    import requests

    try:

        def web_up() -> bool:
            try:
                return requests.get(f"{base}/health/ready/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        def worker_up() -> bool:
            log = work / "worker.log"
            return log.exists() and " ready." in log.read_text(errors="replace")

        if not _wait_for(web_up, 120, procs, "gunicorn") or not _wait_for(worker_up, 180, procs, "the worker"):
            raise SystemExit("the servers did not come up")
        # One frame through the whole pipeline first, so the engine is loaded before the clock starts.
        warm = requests.post(
            f"{base}/api/v1/cameras/{plan['cameras'][0]['id']}/frames/",
            files={"frame": ("f.jpg", Path(frame_paths[0]).read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Camera {plan['cameras'][0]['key']}"},
            timeout=30,
        )
        if warm.status_code != 202:
            raise SystemExit(f"warm-up frame refused: {warm.status_code} {warm.text[:200]}")
        if not _wait_for(lambda: _frame_outcomes(_frame_counters()) >= 1, 300, procs, "the warm-up frame"):
            raise SystemExit("the warm-up frame was never processed")
        baseline = _frame_counters()
        audit_before = AuditEvent.objects.count()

        users = args.police + args.cameras + args.web
        started = time.perf_counter()
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--host",
                base,
                "-u",
                str(users),
                "-r",
                str(users),
                "--run-time",
                f"{args.run_time}s",
                "--stop-timeout",
                "30",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "OVERSIGHT_LOAD_PLAN": str(work / "plan.json")},
            capture_output=True,
            text=True,
            timeout=args.run_time + 120,
        )
        load_wall = time.perf_counter() - started
        if not Path(plan["results"]).exists():
            raise SystemExit(f"Locust wrote no results:\n{locust.stdout[-3000:]}\n{locust.stderr[-3000:]}")
        results = json.loads(Path(plan["results"]).read_text())
        statuses: dict[str, dict[str, int]] = results["statuses"]
        frame_answers = statuses.get("POST /api/v1/cameras/<id>/frames/", {})
        frames_202 = frame_answers.get("202", 0)
        door_counted = sum(frame_answers.get(code, 0) for code in DOOR_COUNTED_FRAME_ANSWERS)
        accepted_uploads = set(results["accepted_uploads"])

        def drained() -> bool:
            counters = _frame_counters()
            outcomes = _frame_outcomes(counters) - _frame_outcomes(baseline)
            pending = WatchlistImage.objects.filter(pk__in=accepted_uploads, status=ImageStatus.RECEIVED).exists()
            return outcomes >= frames_202 + door_counted and not pending

        drain_started = time.perf_counter()
        drained_in_time = _wait_for(drained, args.drain_timeout, procs, "the worker to drain")
        drain_wall = time.perf_counter() - drain_started
        time.sleep(1)  # a counter written after the last check would show as "more than accounted"
        counters = _frame_counters()
    finally:
        _stop(procs)

    delta = {name: counters[name] - baseline.get(name, 0) for name in counters}
    stored = WatchlistImage.objects.filter(subject_reference__startswith="LOAD-")
    received_events = set(
        AuditEvent.objects.filter(event="watchlist_image.received", target_type="governance.watchlistimage")
        .filter(target_id__in=[str(pk) for pk in accepted_uploads])
        .values_list("target_id", flat=True)
    )
    by_status = {s: stored.filter(status=s).count() for s in ImageStatus.values}
    verification = audit_chain_verify()
    accounting = {
        "uploads": {
            "accepted": len(accepted_uploads),
            "answered_upload_202": statuses.get("POST /api/v1/watchlist-images/", {}).get("202", 0),
            "stored": stored.count(),
            "stored_ids_match": set(stored.values_list("pk", flat=True)) == accepted_uploads,
            "with_received_audit_event": len(received_events),
            "still_received": by_status[ImageStatus.RECEIVED],
            "by_status": by_status,
        },
        "frames": {
            "answered_202": frames_202,
            "door_counted": door_counted,
            "counters_delta": delta,
            "outcomes": _frame_outcomes(delta),
            "accepted_counter": delta.get("frames_accepted"),
        },
        "drained": drained_in_time,
        "drain_s": round(drain_wall, 1),
        "audit_events_added": AuditEvent.objects.count() - audit_before,
        "audit_chain_ok": verification.ok,
        "audit_events_checked": verification.events_checked,
    }
    up, fr = accounting["uploads"], accounting["frames"]
    accounting["ok"] = bool(
        drained_in_time
        and up["accepted"] == up["answered_upload_202"] == up["stored"] == up["with_received_audit_event"]
        and up["stored_ids_match"]
        and up["still_received"] == 0
        and fr["outcomes"] == fr["answered_202"] + fr["door_counted"]
        and (fr["accepted_counter"] is None or fr["accepted_counter"] == fr["answered_202"])
        and verification.ok
    )

    endpoints = {}
    server_errors: dict[str, int] = {}
    for name, codes in sorted(statuses.items()):
        times = results["times_ms"].get(name, [])
        total = sum(codes.values())
        expected = EXPECTED.get(name, {"200"})
        bad = sum(n for code, n in codes.items() if code not in expected)
        fivexx = sum(n for code, n in codes.items() if not code.isdigit() or code.startswith("5"))
        if fivexx:
            server_errors[name] = fivexx
        window = results["window_s"].get(name) or load_wall
        endpoints[name] = {
            "requests": total,
            "per_s": total / window if window else 0.0,
            "p50_ms": _percentile(times, 0.50),
            "p95_ms": _percentile(times, 0.95),
            "max_ms": max(times) if times else 0.0,
            "statuses": dict(sorted(codes.items())),
            "error_rate": bad / total if total else 0.0,
            "timed": len(times),
        }
    return {
        "endpoints": endpoints,
        "server_errors": server_errors,
        "accounting": accounting,
        "load_wall_s": round(load_wall, 1),
        "answered": results["answered"],
        "quota": plan["quota"],
        "users": plan["users"],
        "locust_tail": (locust.stdout + locust.stderr)[-2000:],
        "web_errors": _error_lines(work / "web.log") if server_errors else [],
        "logs": str(work),
    }


def _error_lines(log: Path) -> list[str]:
    """The error records and traceback lines of the web processes' log (to say what a 5xx was)."""
    if not log.exists():
        return []
    lines = log.read_text(errors="replace").splitlines()
    return [
        line
        for line in lines
        if " ERROR " in line or line.startswith(("Traceback", "  File", "    ")) or "Error" in line
    ][-80:]


def _markdown(args, outcome: dict) -> str:
    acc = outcome["accounting"]
    rows = [
        "| endpoint | requests | req/s | p50 ms | **p95 ms** | max ms | statuses | error rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, e in outcome["endpoints"].items():
        if not e["timed"]:
            rows.append(f"| `{name}` | {e['requests']} | | | | | {e['statuses']} | |")
            continue
        rows.append(
            f"| `{name}` | {e['requests']} | {e['per_s']:.1f} | {e['p50_ms']:.0f} | **{e['p95_ms']:.0f}** | "
            f"{e['max_ms']:.0f} | {e['statuses']} | {e['error_rate']:.1%} |"
        )
    up, fr = acc["uploads"], acc["frames"]
    return "\n".join(
        [
            "## Mixed load: police uploads, camera frames and DPO page reads at once (Locust, headless)",
            "",
            f"`python -m benchmarks.load.run --police {args.police} --cameras {args.cameras} --web {args.web} "
            f"--uploads {args.uploads} --frames {args.frames} --reads {args.reads} --run-time {args.run_time} "
            f"--web-workers {args.web_workers} --worker-concurrency {args.worker_concurrency}` on "
            f"{time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs ({platform.machine()}), PostgreSQL, Redis, "
            f"gunicorn ({args.web_workers} sync workers), one Celery worker (concurrency {args.worker_concurrency}, "
            "1 torch thread) and Locust, all on the same machine and competing for its cores; loopback only; "
            f"load average {os.getloadavg()[0]:.1f} at the end.",
            f"{args.police} police clients (one API token), {args.cameras} camera gateways (one camera each, "
            f"640x480 frames of 2-3 faces), {args.web} signed-in DPOs; {outcome['load_wall_s']} s of load. Error rate: "
            "answers other than the endpoint's success (202 for uploads and frames, or 429 shed / 200 / 302 for sign-in).",
            "",
            *rows,
            "",
            f"Accounted for in the database afterwards (the worker drained in {acc['drain_s']} s after the load):",
            "",
            f"- uploads: {up['answered_upload_202']} answered 202 = {up['stored']} image rows (ids match: "
            f"{up['stored_ids_match']}) = {up['with_received_audit_event']} `watchlist_image.received` audit "
            f"events; after the drain {up['by_status']}",
            f"- frames: {fr['answered_202']} answered 202 + {fr['door_counted']} refused and counted at the door "
            f"(429/409/503) = {fr['outcomes']} counted outcomes {fr['counters_delta']}"
            + (f"; accepted counter {fr['accepted_counter']}" if fr["accepted_counter"] is not None else ""),
            f"- {acc['audit_events_added']} audit events appended during the run; the chain of "
            f"{acc['audit_events_checked']} events verifies: {acc['audit_chain_ok']}",
            f"- 5xx or dropped connections: {sum(outcome['server_errors'].values())}; everything accounted for: "
            f"{acc['ok']}",
            "",
            "Frames beyond what one worker process can analyse are shed at the door (429, at most "
            "`OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA` waiting per camera) or by the worker when older than "
            "`OVERSIGHT_FRAME_MAX_AGE_SECONDS`: live video sends a newer frame, so shedding is the design, and each "
            "shed frame is counted. The upload and page figures include waiting for the cores the engine is using.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--police", type=int, default=4, help="concurrent police API clients")
    parser.add_argument("--cameras", type=int, default=2, help="cameras, one gateway client each")
    parser.add_argument("--web", type=int, default=4, help="signed-in DPOs reading pages")
    parser.add_argument("--uploads", type=int, default=150, help="upload quota")
    parser.add_argument("--frames", type=int, default=600, help="frame quota")
    parser.add_argument("--reads", type=int, default=600, help="page-read quota")
    parser.add_argument("--run-time", type=int, default=90, help="seconds of load at most")
    parser.add_argument("--drain-timeout", type=int, default=300)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="the bounded test's size (about a minute)")
    parser.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    parser.add_argument("--json", default="", help="write figures and accounting here")
    args = parser.parse_args(argv)
    if args.quick:
        args.police, args.cameras, args.web = 2, 1, 2
        # The quotas end it (well under a minute on an idle machine); the time bound only on a busy one.
        args.uploads, args.frames, args.reads, args.run_time = 20, 40, 40, 90
        args.web_workers, args.drain_timeout = 2, 180
    outcome = run(args)
    report = _markdown(args, outcome)
    print(report)
    if outcome["web_errors"]:
        print("\nWeb errors:\n" + "\n".join(outcome["web_errors"]), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(outcome, indent=1, default=str))
    if args.record:
        from benchmarks.results import record_markdown as record_benchmark

        record_benchmark("mixed-load", report)
    return 0 if outcome["accounting"]["ok"] and not outcome["server_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
