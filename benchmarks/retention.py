"""Retention sweep benchmark: 1,000,000 due alerts on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench python -m benchmarks.retention

Creates its own scenario in the (dedicated!) database it is pointed at, bulk-loads N alerts whose
retention has passed, shows the sweep query's plan (it must use ``alert_retention_due_idx``, not a
sequential scan), then runs the real ``retention_sweep`` and prints items erased per second.
Prints figures and records them in BENCHMARKS.md (its own section). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import timedelta
from pathlib import Path

import django

from benchmarks.results import record_markdown as record_benchmark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--output", default="", help="Write here instead of BENCHMARKS.md's section.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("bench"):
        raise SystemExit("Point DATABASE_URL at a dedicated PostgreSQL database whose name ends in 'bench'.")
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("load_scenario", verbosity=0)

    from governance.agreements.models import Agreement, AgreementStatus
    from governance.organisations.models import Organisation
    from governance.retention.services import retention_sweep
    from recognition.deployments.models import Alert, Camera, Deployment

    agreement = Agreement.objects.get(status=AgreementStatus.ACTIVE, recorded_retrospectively=False)
    now = timezone.now()
    deployment = Deployment.objects.create(
        reference="BENCH-1",
        name="Retention benchmark",
        operator=agreement.receiving_organisation,
        site="Bench",
        purpose="Benchmark",
        starts_at=now - timedelta(days=60),
        ends_at=now - timedelta(days=59),
        authorising_officer_name="Bench",
        authorising_officer_rank="Supt",
        authorising_officer_organisation=Organisation.objects.get(short_name="met"),
        authorised_at=now,
        watchlist_justification="Bench",
        location_justification="Bench",
        match_threshold=0.58,
        public_notice="Bench",
        public_notice_given_on=now.date(),
        status="ended",
    )
    camera = Camera.objects.create(deployment=deployment, name="Bench camera", location="Bench", direction="North")
    supplier = agreement.supplying_organisation  # every alert is of an image the agreement's supplier sent
    crop = os.urandom(180)  # about the size of a Fernet token of a small face crop, per alert below

    started = time.perf_counter()
    # Loaded in the database (generate_series) rather than through the ORM: a million rows in seconds.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Alert._meta.db_table} (deployment_id, camera_id, subject_reference, agreement_id, score,
                    threshold, first_seen_at, last_seen_at, sightings, probe_crop, probe_key_id, retention_due_at,
                    status, close_reason, supplying_organisation_id, probe_embedding, probe_backend)
                SELECT %s, %s, 'KX-SUBJ-0001', %s, 0.9, 0.58, %s, %s, 1, %s, 'k',
                       %s + make_interval(days => 30 + (i %% 5)), 'pending', '', %s, ''::bytea, ''
                FROM generate_series(1, %s) AS i""",
            [
                deployment.pk,
                camera.pk,
                agreement.pk,
                now - timedelta(days=40),
                now - timedelta(days=40),
                crop,
                now - timedelta(days=40),
                supplier.pk,
                args.alerts,
            ],
        )
    load_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE deployments_alert")
    from governance.retention.registry import retention_rule

    rule = retention_rule("alert.match_retention")

    def first_batch_plan(at) -> str:
        due = rule.due(at).order_by(*rule.order).select_for_update(skip_locked=True, of=("self",))
        with transaction.atomic():
            return due[: args.batch_size].explain(analyze=True)

    plan = first_batch_plan(now)
    print(f"Loaded {args.alerts:,} due alerts in {load_seconds:.0f} s. Sweep query plan:\n{plan}\n")

    started = time.perf_counter()
    run = retention_sweep(batch_size=args.batch_size, triggered_by="benchmark")
    seconds = time.perf_counter() - started
    erased = run.erased_counts["alert.match_retention"]
    rate = erased / seconds
    remaining = Alert.objects.filter(erased_at__isnull=True).count()
    print(f"Erased {erased:,} alerts in {seconds:.1f} s: {rate:,.0f} alerts/s; {remaining} left unerased.")

    # The usual state of a real table: many alerts not yet due, a few due. The next batch must come
    # straight from the index, not from scanning the rows that are not due.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Alert._meta.db_table} (deployment_id, camera_id, subject_reference, agreement_id, score,
                    threshold, first_seen_at, last_seen_at, sightings, probe_crop, probe_key_id, retention_due_at,
                    status, close_reason, supplying_organisation_id, probe_embedding, probe_backend)
                SELECT %s, %s, 'KX-SUBJ-0001', %s, 0.9, 0.58, %s, %s, 1, %s, 'k',
                       %s + make_interval(days => CASE WHEN i %% 1000 = 0 THEN -1 ELSE 20 END), 'pending', '',
                       %s, ''::bytea, ''
                FROM generate_series(1, %s) AS i""",
            [deployment.pk, camera.pk, agreement.pk, now, now, crop, now, supplier.pk, args.alerts],
        )
        cursor.execute("ANALYZE deployments_alert")
    selective_plan = first_batch_plan(timezone.now())
    print(f"With {args.alerts:,} more alerts of which 1 in 1,000 is due:\n{selective_plan}\n")

    cpu = platform.processor() or platform.machine()
    lines = [
        "## Retention sweep (PostgreSQL, 1,000,000 due alerts)",
        "",
        f"- Command: `DATABASE_URL=postgres://…/oversight_bench python -m benchmarks.retention "
        f"--alerts {args.alerts} --batch-size {args.batch_size}`",
        f"- Machine: {os.cpu_count()} CPU cores ({cpu}), PostgreSQL {connection.pg_version // 10000} on the same host; "
        f"date {timezone.localtime():%Y-%m-%d %H:%M}",
        f"- Due alerts: {args.alerts:,} (loaded in {load_seconds:.0f} s); batch size {args.batch_size}.",
        f"- **Sweep throughput: {rate:,.0f} alerts erased per second** ({erased:,} in {seconds:.1f} s, one "
        f"transaction per batch: lock rows, bulk-insert certificates, one UPDATE, one s.62 erasure event); "
        f"unerased afterwards: {remaining}.",
        "- The sweep's batch query (keyset-paged on `(retention_due_at, id)`), `EXPLAIN ANALYZE` of the first batch "
        "with every alert due:",
        "",
        "```",
        plan,
        "```",
        "",
        f"- The same query after adding {args.alerts:,} alerts of which 1 in 1,000 is due (the usual state of a "
        "large table): it reads only due rows from the partial index `alert_retention_due_idx`, never the rest:",
        "",
        "```",
        selective_plan,
        "```",
        "",
    ]
    if args.output:
        Path(args.output).write_text("\n".join(lines))
    else:
        record_benchmark("retention-sweep", "\n".join(lines))


if __name__ == "__main__":
    main()
