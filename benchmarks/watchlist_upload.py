"""Benchmark of the watchlist upload API with a real worker: ``python -m benchmarks.watchlist_upload``.

Measures, on this machine: uploads/s sustained by the API (gunicorn) while a real Celery worker
enrols in the background, p50/p95/p99 latency of the upload request itself (enrolment is
asynchronous), and how fast the worker drains enrolment. Records them in BENCHMARKS.md (its section).

Needs PostgreSQL and Redis (``DATABASE_URL``, ``CELERY_BROKER_URL``; ``CACHE_URL`` recommended).
Works in a separate database (``<name>_bench``, dropped and recreated) so nothing touches real data.
Prints figures; asserts nothing (STYLE.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from benchmarks.results import record_markdown as record_benchmark

ROOT = Path(__file__).resolve().parents[1]


def _bench_database_url(url: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=parts.path.rstrip("/") + "_bench"))


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _images(count: int, faces_dir: Path) -> list[bytes]:
    """Distinct JPEGs: dev faces (or synthetic noise when absent), each with a unique invisible tweak."""
    from PIL import Image

    sources = (
        sorted(p for p in (faces_dir / "dev").glob("*/*.jpg") if not p.parent.name.startswith("_"))
        if (faces_dir / "dev").is_dir()
        else []
    )
    rng = random.Random(7)
    out = []
    for n in range(count):
        if sources:
            image = Image.open(sources[n % len(sources)]).convert("RGB")
        else:
            image = Image.frombytes("RGB", (250, 250), bytes(rng.randrange(256) for _ in range(250 * 250 * 3)))
        image.putpixel((n % image.width, (n // image.width) % image.height), (n % 256, (n * 7) % 256, (n * 13) % 256))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=92)
        out.append(buffer.getvalue())
    return out


def _seed(days: int = 30) -> tuple[int, str]:
    """Organisations, an active agreement and a token, through the services (so it is realistic)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from governance.agreements import services
    from governance.api.tokens import api_token_issue
    from governance.organisations.models import OrganisationKind
    from governance.organisations.roles import Role
    from governance.organisations.services import organisation_create, user_create

    force = organisation_create(
        actor=None, name="Bench Police", short_name="bench-force", kind=OrganisationKind.POLICE_FORCE
    )
    operator = organisation_create(
        actor=None, name="Bench Operator", short_name="bench-op", kind=OrganisationKind.OPERATOR
    )
    regulator = organisation_create(
        actor=None, name="Bench Regulator", short_name="bench-reg", kind=OrganisationKind.REGULATOR
    )
    op_dpo = user_create(actor=None, username="bench.opdpo", organisation=operator, roles=[Role.DPO])
    force_dpo = user_create(actor=None, username="bench.forcedpo", organisation=force, roles=[Role.DPO])
    submitter = user_create(actor=None, username="bench.api", organisation=force, roles=[Role.FORCE_SUBMITTER])
    today = date.today()
    agreement = services.agreement_draft(
        actor=op_dpo,
        fields={
            "title": "Bench",
            "supplying_organisation": force,
            "receiving_organisation": operator,
            "purpose": "Benchmark",
            "data_items": "Images",
            "schedule8_condition": "sch8_1",
            "special_category_data": "Biometric",
            "permitted_custody_categories": ["wanted"],
            "max_images": 1_000_000,
            "starts_on": today - timedelta(days=1),
            "ends_on": today + timedelta(days=300),
            "review_on": today + timedelta(days=100),
            "individual_rights": "x",
            "security_measures": "x",
            "breach_handling": "x",
            "termination_terms": "x",
            "sanctions": "x",
        },
    )
    services.agreement_record_regulator_notification(
        actor=op_dpo, agreement=agreement, notified_on=today, reference="B", notified_by="bench", regulator=regulator
    )
    from governance.agreements.documents import agreement_render_pdf

    services.agreement_attach_signed_document(
        actor=op_dpo,
        agreement=agreement,
        document=SimpleUploadedFile("s.pdf", agreement_render_pdf(agreement=agreement), content_type="application/pdf"),
    )
    services.agreement_submit(actor=op_dpo, agreement=agreement)
    services.agreement_countersign(actor=op_dpo, agreement=agreement)
    agreement = services.agreement_approve(actor=force_dpo, agreement=services.Agreement.objects.get(pk=agreement.pk))
    _, secret = api_token_issue(actor=None, organisation=force, user=submitter, days=days)
    return agreement.pk, secret


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--enrol-workers", type=int, default=1, help="celery worker concurrency")
    parser.add_argument("--drain-timeout", type=int, default=900)
    parser.add_argument("--output", default="", help="Write here instead of BENCHMARKS.md's section.")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith("postgres") or not broker_url:
        sys.exit("Needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... (a real worker and database).")
    bench_url = _bench_database_url(database_url)
    _recreate_database(bench_url)
    env = dict(
        os.environ,
        DATABASE_URL=bench_url,
        OVERSIGHT_API_RATE_LIMIT="1000000/minute",
        CACHE_URL=os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/3"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)

    import django

    django.setup()
    from django.conf import settings

    from governance.watchlist.models import ImageStatus, WatchlistImage

    agreement_id, secret = _seed()
    images = _images(args.uploads, Path(settings.FACES_DIR))
    port = _free_port()
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-l",
                    "WARNING",
                    "-c",
                    str(args.enrol_workers),
                    "--prefetch-multiplier",
                    "1",
                    "-n",
                    f"bench-{port}@%h",
                ],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    str(args.web_workers),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        )
        import requests

        base = f"http://127.0.0.1:{port}/api/v1/watchlist-images/"
        headers = {"Authorization": f"Token {secret}"}
        ready_by = time.monotonic() + 120
        while time.monotonic() < ready_by:
            try:
                if requests.get(base, headers=headers, timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        time.sleep(5)  # let the worker finish loading the engine before timing
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        queue = list(enumerate(images))

        def client() -> None:
            session = requests.Session()
            while True:
                with lock:
                    if not queue:
                        return
                    n, data = queue.pop()
                fields = {
                    "agreement": str(agreement_id),
                    "subject_reference": f"BENCH-{n:06d}",
                    "custody_category": "wanted",
                    "custody_reference": f"B/{n}",
                    "image_taken_on": "2026-01-01",
                    "legal_basis": "s35_5",
                }
                started = time.perf_counter()
                response = session.post(
                    base,
                    data=fields,
                    files={"image": (f"{n}.jpg", data, "image/jpeg")},
                    headers={**headers, "Idempotency-Key": f"bench-{n}"},
                    timeout=60,
                )
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        upload_wall = time.perf_counter() - started
        accepted = statuses.get(202, 0)
        pending_at_end = WatchlistImage.objects.filter(status=ImageStatus.RECEIVED).count()
        deadline = time.monotonic() + args.drain_timeout
        while WatchlistImage.objects.filter(status=ImageStatus.RECEIVED).exists() and time.monotonic() < deadline:
            time.sleep(1)
        drain_wall = time.perf_counter() - started
        by_status = {s: WatchlistImage.objects.filter(status=s).count() for s in ImageStatus.values}
    finally:
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

    done = by_status["enrolled"] + by_status["rejected"]
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    figures = {
        "uploads_per_s": accepted / upload_wall if upload_wall else 0.0,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "enrolled_per_s": done / drain_wall if drain_wall else 0.0,
    }
    report = f"""## Watchlist uploads through the police API (with a real enrolment worker)

`python -m benchmarks.watchlist_upload --uploads {args.uploads} --clients {args.clients} --web-workers {args.web_workers} --enrol-workers {args.enrol_workers}`
run on {date.today():%Y-%m-%d}: {os.cpu_count()} CPUs ({cpu}), PostgreSQL + Redis on the same machine, gunicorn
({args.web_workers} sync workers) and one real Celery worker process (concurrency {args.enrol_workers}) enrolling
with the CPU engine **at the same time** as the uploads (they compete for the same cores).
Images: distinct JPEGs of the dev face set (~10-15 kB, 250x250), each with an `Idempotency-Key`.

| figure | value |
| --- | --- |
| uploads accepted (202) | {accepted} of {args.uploads} (statuses: {dict(sorted(statuses.items()))}) |
| **uploads/s sustained by the API** | **{figures["uploads_per_s"]:.1f}** over {upload_wall:.1f} s |
| upload request latency p50 / **p95** / p99 | {figures["p50_ms"]:.0f} / **{figures["p95_ms"]:.0f}** / {figures["p99_ms"]:.0f} ms (mean {figures["mean_ms"]:.0f} ms) |
| still awaiting enrolment when uploads finished | {pending_at_end} |
| enrolment drained (enrolled + rejected) | {done} in {drain_wall:.1f} s from the first upload ({figures["enrolled_per_s"]:.1f} images/s) |
| final statuses | {by_status} |

What an upload request does (all synchronous): token check (knox digest), rate-limit counter in Redis,
idempotency row, header-first image validation, full decode and metadata-stripping re-encode, SHA-256,
Fernet encryption, one transaction with the agreement row lock (cap and duplicate checks), object
permissions (4 groups), the hash-chained s.62 audit event (serialised by an advisory lock), and the
enrolment task published after commit. Enrolment (detect + embed + encrypted template + audit) runs in
the worker and does not add to the request latency; on this CPU-only machine it is the slower stage,
so the "drained" figure is bounded by the engine, not the API.
"""
    if args.output:
        Path(args.output).write_text(report)
    else:
        record_benchmark("watchlist-uploads", report)
    print(report)


if __name__ == "__main__":
    main()
