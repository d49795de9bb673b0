"""What consultation logging (DPA 2018 s.62, ``governance.audit.consultation``) costs a page, on PostgreSQL with a
large audit log: ``python -m benchmarks.consultation_logging``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_consult_bench \\
        .venv/bin/python -m benchmarks.consultation_logging [--events 1000000] [--requests 200]

Needs a dedicated PostgreSQL database whose name ends in ``bench`` (flushed, migrated, the King's Cross scenario
loaded). Then ``--events`` audit events are inserted straight into the log in bulk (one ``INSERT ... SELECT`` over
``generate_series``, numbered from the log's own sequence, each with its organisation scope row), so the appends
the pages make land in a log of that size. Each personal-data page is then requested through Django's test client
(in process: the figure is the server's time for the request, middleware, sign-in session and template included)
as the user it is for, ``--requests`` times with consultation logging on and as many with it off
(``OVERSIGHT_CONSULTATION_LOGGING=False``, a setting that exists for this benchmark), in alternating blocks so a
drift of the machine's load falls on both; p50 and p95 of each. Writes ``benchmarks/results/consultation_logging.json``
and its section of BENCHMARKS.md (``benchmarks/results.py``). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

NAME = "consultation_logging"
PURPOSE = "Benchmark: the cost of recording a consultation"


def _seed_events(count: int, organisation_ids: list[int]) -> float:
    """``count`` consultation-like events, inserted in batches of 100,000 with SQL (not through the service)."""
    from django.db import connection, transaction

    from governance.audit.models import AuditEvent, AuditEventOrganisation
    from governance.audit.sequencer import ENTRY_SEQUENCE

    events, scope = AuditEvent._meta.db_table, AuditEventOrganisation._meta.db_table
    started = time.perf_counter()
    done = 0
    while done < count:
        batch = min(100_000, count - done)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH e AS (
                    INSERT INTO {events} (sequence, occurred_at, action, event, actor_id, actor_username,
                        actor_organisation, justification, recipient, target_type, target_id, target_label, details,
                        field_digests, content_digest, previous_hash, chain_hash, signature, signature_key_id)
                    SELECT nextval('{ENTRY_SEQUENCE}'), now() - (g || ' seconds')::interval, 'consultation',
                        'bench.seeded', NULL, 'bench.seed', 'Bench', 'Seeded for the benchmark', '',
                        'deployments.alert', (g %% 50000)::text, 'Alert #' || (g %% 50000), '{{}}'::jsonb, '{{}}'::jsonb,
                        md5(g::text) || md5('c' || g), '', md5('h' || g || clock_timestamp()) || md5('x' || g),
                        md5('s' || g) || md5('t' || g), ''
                    FROM generate_series(%s, %s) AS g
                    RETURNING id
                )
                INSERT INTO {scope} (event_id, organisation_id)
                SELECT e.id, (%s::bigint[])[1 + (e.id %% %s)] FROM e
                """,
                [done + 1, done + batch, organisation_ids, len(organisation_ids)],
            )
        done += batch
        print(f"seeded {done:,} events", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {events}")
        cursor.execute(f"ANALYZE {scope}")
    return time.perf_counter() - started


def _alerts_and_disclosures(count: int) -> None:
    """``count`` alerts on the scenario's deployment (half pending, half confirmed and disclosed to the supplying
    force), inserted as rows: the scenario has none, and the pages read rows, not how they came to be."""
    from datetime import timedelta

    from django.utils import timezone

    from governance import encryption
    from governance.organisations.models import User
    from governance.watchlist.models import WatchlistImage
    from recognition.deployments.models import Alert, Deployment, Disclosure

    deployment = Deployment.objects.order_by("pk").first()
    camera = deployment.cameras.order_by("pk").first()
    images = list(WatchlistImage.objects.order_by("pk"))
    now = timezone.now()
    crop = encryption.encrypt(b"\xff\xd8\xff-bench-crop")
    alerts = Alert.objects.bulk_create(
        [
            Alert(
                deployment=deployment,
                camera=camera,
                watchlist_image=images[n % len(images)],
                subject_reference=images[n % len(images)].subject_reference,
                agreement_id=images[n % len(images)].agreement_id,
                supplying_organisation_id=images[n % len(images)].supplying_organisation_id,
                score=0.7,
                threshold=0.5,
                first_seen_at=now - timedelta(minutes=n),
                last_seen_at=now - timedelta(minutes=n),
                sightings=1,
                probe_crop=crop,
                probe_key_id=encryption.key_fingerprint(),
                retention_due_at=now + timedelta(days=30),
                status="pending" if n % 2 else "confirmed",
            )
            for n in range(count)
        ]
    )
    dpo = User.objects.get(username="dpo.estate")
    Disclosure.objects.bulk_create(
        [
            Disclosure(
                alert=alert,
                recipient_organisation_id=alert.supplying_organisation_id,
                recipient="LFR desk (CJSM)",
                channel="cjsm_email",
                justification="Benchmark disclosure",
                disclosed_by=dpo,
                disclosed_by_name="dpo.estate",
                disclosed_at=now,
            )
            for alert in alerts
            if alert.status == "confirmed"
        ]
    )


def _timed(client, url: str, n: int, headers: dict) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return times


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }


def _markdown(figures: dict) -> str:
    lines = [
        "## Consultation logging: page latency with and without it",
        "",
        f"PostgreSQL, {figures['events_in_log']:,} audit events in the log (seeded in bulk in "
        f"{figures['seed_seconds']:.0f} s); {figures['requests']} requests per page and setting, in alternating blocks, "
        "through Django's test client (server-side time: middleware, session, queries, template). "
        "Each page with logging on writes one consultation event (its record, or the list page naming its rows).",
        "",
        "| Page | As | p50 off (ms) | p50 on (ms) | p95 off (ms) | p95 on (ms) | Added at p50 (ms) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for page in figures["pages"]:
        off, on = page["off"], page["on"]
        lines.append(
            f"| {page['page']} | {page['user']} | {off['p50_ms']} | {on['p50_ms']} | {off['p95_ms']} | "
            f"{on['p95_ms']} | {on['p50_ms'] - off['p50_ms']:.2f} |"
        )
    lines += [
        "",
        f"Events written while measuring: {figures['events_written']:,} "
        f"(expected {figures['events_expected']:,}: one per request with logging on).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--block", type=int, default=20, help="requests per alternating block")
    parser.add_argument("--alerts", type=int, default=100, help="alerts on the scenario's deployment (half disclosed)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    from benchmarks.results import record
    from governance.audit.models import AuditAction, AuditEvent
    from governance.organisations.models import Organisation, User
    from governance.watchlist.models import WatchlistImage
    from recognition.deployments.models import Alert

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("bench"):
        raise SystemExit("Point DATABASE_URL at a dedicated PostgreSQL database whose name ends in 'bench'.")
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("load_scenario", verbosity=0)
    _alerts_and_disclosures(args.alerts)
    seed_seconds = _seed_events(args.events, list(Organisation.objects.values_list("pk", flat=True)))

    alert = Alert.objects.filter(erased_at__isnull=True, status="confirmed").order_by("pk").first()
    image = WatchlistImage.objects.order_by("pk").first()
    pages = [
        ("Alert page", "dpo.estate", reverse("alert-detail", args=[alert.pk])),
        ("Disclosures list", "dpo.estate", reverse("disclosure-list")),
        ("Watchlist ledger", "dpo.estate", reverse("watchlist-ledger")),
        ("Watchlist image page", "dpo.estate", reverse("watchlist-image-detail", args=[image.pk])),
        ("Review queue", "reviewer.estate", reverse("review-queue")),
        ("Disclosures API", "dpo.camden", reverse("api-disclosure-list")),
        ("Watchlist images API", "submitter.camden", reverse("api-watchlist-image-list")),
    ]
    headers = {"HTTP_X_OVERSIGHT_PURPOSE": PURPOSE}
    consultations = AuditEvent.objects.filter(action=AuditAction.CONSULTATION).exclude(event="bench.seeded")
    written_before = consultations.count()
    results = []
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        for label, username, url in pages:
            client = Client()
            client.force_login(User.objects.get(username=username))
            _timed(client, url, 5, headers)  # warm: templates, sessions, plans
            timings = {"on": [], "off": []}
            for _ in range(max(1, args.requests // args.block)):
                for setting in ("off", "on"):
                    with override_settings(OVERSIGHT_CONSULTATION_LOGGING=setting == "on"):
                        timings[setting] += _timed(client, url, args.block, headers)
            row = {"page": label, "user": username, "url": url} | {k: _summary(v) for k, v in timings.items()}
            print(row, flush=True)
            results.append(row)
    blocks = max(1, args.requests // args.block) * args.block
    figures = {
        "events_in_log": AuditEvent.objects.count(),
        "seeded_events": args.events,
        "seed_seconds": round(seed_seconds, 1),
        "requests": blocks,
        "pages": results,
        "events_written": consultations.count() - written_before,
        "events_expected": (blocks + 5) * len(pages),
    }
    command = "python -m benchmarks.consultation_logging " + " ".join(sys.argv[1:])
    record(NAME, command=command.strip(), figures=figures, markdown=_markdown(figures))
    print(_markdown(figures))


if __name__ == "__main__":
    main()
