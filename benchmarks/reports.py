"""Report benchmark on PostgreSQL: 1,000,000 audit events, 100,000 alerts, 10,000 watchlist images.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_reports_bench python -m benchmarks.reports

Builds its own data in the (dedicated!) database it is pointed at — organisations, users and an
agreement through the services; the bulk rows with ``generate_series`` in the database — then
renders each report as its reader would (Django's test client: selectors, charts, templates, PDF)
and prints seconds per report, with the ``EXPLAIN ANALYZE`` of the slowest query of the slowest
report. Records the figures in BENCHMARKS.md (its own section). Not a test: nothing is asserted.

Governance never imports recognition: recognition's tables are reached through ``apps.get_model``
for the bulk load only, as the data a benchmark needs, not as code it depends on.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import timedelta
from pathlib import Path

import django


def _terms(camden, estate, today) -> dict:
    return {
        "title": "Benchmark watchlist sharing",
        "supplying_organisation": camden,
        "receiving_organisation": estate,
        "purpose": "Benchmark.",
        "data_items": "Facial image, pseudonymous reference.",
        "schedule8_condition": "sch8_1",
        "special_category_data": "Biometric data.",
        "permitted_custody_categories": ["wanted", "suspect"],
        "max_images": 20000,
        "starts_on": today - timedelta(days=200),
        "ends_on": today + timedelta(days=365),
        "review_on": today + timedelta(days=180),
        "individual_rights": "DPO.",
        "security_measures": "Encrypted.",
        "breach_handling": "24 hours.",
        "termination_terms": "30 days.",
        "sanctions": "Suspension.",
    }


def main() -> None:  # noqa: PLR0915 - a straight script
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--output", default="", help="Write here instead of BENCHMARKS.md's section.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from benchmarks.results import record_markdown as record_benchmark
    from governance.agreements import services as agreements
    from governance.organisations.models import OrganisationKind
    from governance.organisations.roles import Role
    from governance.organisations.services import organisation_create, user_create

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("bench"):
        raise SystemExit("Point DATABASE_URL at a dedicated PostgreSQL database whose name ends in 'bench'.")
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    met = organisation_create(
        actor=None, name="Metropolitan Police Service", short_name="met", kind=OrganisationKind.POLICE_FORCE
    )
    camden = organisation_create(
        actor=None, name="Met Camden BCU", short_name="met-camden", kind=OrganisationKind.POLICE_UNIT, parent=met
    )
    estate = organisation_create(
        actor=None, name="King's Cross Estate Operator", short_name="kx-estate", kind=OrganisationKind.OPERATOR
    )
    regulator_org = organisation_create(
        actor=None, name="Biometrics Commissioner", short_name="bscc", kind=OrganisationKind.REGULATOR
    )
    dpo = user_create(actor=None, username="dpo.estate", organisation=estate, roles=[Role.DPO], password="x-bench-1")
    met_dpo = user_create(actor=None, username="dpo.met", organisation=met, roles=[Role.DPO], password="x-bench-1")
    regulator = user_create(
        actor=None, username="regulator", organisation=regulator_org, roles=[Role.REGULATOR], password="x-bench-1"
    )
    today = timezone.localdate()
    agreement = agreements.agreement_draft(actor=dpo, fields=_terms(camden, estate, today))
    agreements.agreement_record_regulator_notification(
        actor=dpo,
        agreement=agreement,
        notified_on=today,
        reference="BSCC-B",
        notified_by="Bench",
        regulator=regulator_org,
    )
    agreements.agreement_attach_signed_document(
        actor=dpo,
        agreement=agreement,
        document=SimpleUploadedFile("signed.pdf", b"%PDF-1.4\n%bench\n%%EOF\n", content_type="application/pdf"),
    )
    agreements.agreement_submit(actor=dpo, agreement=agreement)
    agreements.agreement_countersign(actor=dpo, agreement=agreement)
    agreement = agreements.agreement_approve(actor=met_dpo, agreement=agreement)

    Image = apps.get_model("governance", "WatchlistImage")
    Deployment = apps.get_model("deployments", "Deployment")
    Camera = apps.get_model("deployments", "Camera")
    Alert = apps.get_model("deployments", "Alert")
    Disclosure = apps.get_model("deployments", "Disclosure")
    Counter = apps.get_model("deployments", "FaceScanCounter")
    Review = apps.get_model("deployments", "WatchlistReview")
    AuditEvent = apps.get_model("governance", "AuditEvent")
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Images: 9 in 10 enrolled, the rest withdrawn and erased (half of them late).
        cursor.execute(
            f"""INSERT INTO {Image._meta.db_table} (agreement_id, supplying_organisation_id, supplying_force_id,
                    subject_reference, custody_category, legal_basis, schedule8_condition, custody_reference,
                    image_taken_on, shared_on, transfer_channel, notes, submitted_by_name, submitted_via_token,
                    received_at, sha256, stored_sha256, image_format, status, rejection_reason, rejection_message,
                    enrolled_at, withdrawn_at, withdrawn_by_name, withdrawal_reason, erased_at,
                    recorded_retrospectively)
                SELECT %s, %s, %s, 'B-' || i, CASE WHEN i %% 3 = 0 THEN 'charged' ELSE 'wanted' END, 's35_5', 'sch8_1',
                    'CUST/' || i, %s::date - (i %% 400), %s, 'api', '', 'bench', '', %s, md5(i::text) || md5(i::text),
                    '', 'jpeg', CASE WHEN i %% 10 = 0 THEN 'erased' ELSE 'enrolled' END, '', '', %s,
                    CASE WHEN i %% 10 = 0 THEN %s::timestamptz ELSE NULL END, '', '',
                    CASE WHEN i %% 10 = 0 THEN %s::timestamptz + make_interval(hours => 12 + 24 * (i %% 20 / 10))
                         ELSE NULL END, false
                FROM generate_series(1, %s) AS i""",
            [
                agreement.pk,
                camden.pk,
                met.pk,
                today,
                today,
                now - timedelta(days=100),
                now - timedelta(days=99),
                now - timedelta(days=50),
                now - timedelta(days=50),
                args.images,
            ],
        )
    image_ids = list(Image.objects.values_list("pk", flat=True))
    from django.contrib.auth.models import Group, Permission

    view = Permission.objects.get(codename="view_watchlistimage")
    GroupPerm = apps.get_model("governance", "WatchlistImageGroupObjectPermission")
    groups = [estate.access_group, camden.access_group, Group.objects.get(name="oversight:regulators")]
    GroupPerm.objects.bulk_create(
        [GroupPerm(content_object_id=i, group=g, permission=view) for i in image_ids for g in groups], batch_size=5000
    )

    deployment = Deployment.objects.create(
        reference="BENCH-1",
        name="Report benchmark",
        operator=estate,
        site="Granary Square",
        purpose="Benchmark",
        starts_at=now - timedelta(days=90),
        ends_at=now + timedelta(days=1),
        authorising_officer_name="Bench",
        authorising_officer_rank="Supt",
        authorising_officer_organisation=met,
        authorised_at=now - timedelta(days=91),
        watchlist_justification="Bench",
        location_justification="Bench",
        match_threshold=0.58,
        public_notice="Bench",
        public_notice_given_on=today - timedelta(days=92),
        status="live",
        went_live_at=now - timedelta(days=90),
    )
    deployment.agreements.add(agreement)
    camera = Camera.objects.create(deployment=deployment, name="GS-1", location="Bench", direction="North")
    Review.objects.create(
        deployment=deployment,
        reviewed_by_name="Bench",
        reviewed_at=now - timedelta(days=90),
        image_count=len(image_ids),
        image_ids=[],
        notes="Bench",
        used_for_go_live_at=now - timedelta(days=90),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Alert._meta.db_table} (deployment_id, camera_id, watchlist_image_id, subject_reference,
                    agreement_id, supplying_organisation_id, score, threshold, first_seen_at, last_seen_at, sightings,
                    probe_crop, probe_key_id, retention_due_at, status, close_reason, probe_embedding, probe_backend)
                SELECT %s, %s, %s, 'B-1', %s, %s, 0.7, 0.58, %s::timestamptz + make_interval(secs => i * 77),
                    %s::timestamptz + make_interval(secs => i * 77), 1, '\\x00'::bytea, 'k', %s,
                    CASE WHEN i %% 10 < 7 THEN 'false_alert' WHEN i %% 10 < 9 THEN 'confirmed' ELSE 'pending' END,
                    CASE WHEN i %% 10 < 6 THEN 'false_alert' WHEN i %% 10 = 6 THEN 'poor_image' ELSE '' END,
                    ''::bytea, ''
                FROM generate_series(1, %s) AS i""",
            [
                deployment.pk,
                camera.pk,
                image_ids[0],
                agreement.pk,
                camden.pk,
                now - timedelta(days=89),
                now - timedelta(days=89),
                now + timedelta(days=30),
                args.alerts,
            ],
        )
        cursor.execute(
            f"""INSERT INTO {Disclosure._meta.db_table} (alert_id, recipient_organisation_id, recipient, channel,
                    justification, disclosed_by_name, disclosed_at, outcome, outcome_notes, outcome_reported_by_name)
                SELECT id, %s, 'LFR desk', 'cjsm_email', 'Bench', 'Bench', first_seen_at,
                    CASE WHEN id %% 3 = 0 THEN 'arrested' WHEN id %% 3 = 1 THEN 'not_located' ELSE '' END, '', ''
                FROM {Alert._meta.db_table} WHERE status = 'confirmed'""",
            [camden.pk],
        )
        cursor.execute(
            f"""INSERT INTO {Counter._meta.db_table} (camera_id, hour, faces_scanned, frames_processed, frames_shed,
                    frames_refused, alerts_raised)
                SELECT %s, date_trunc('hour', %s::timestamptz) - make_interval(hours => h), 2000 + (h %% 500), 7200,
                    0, 0, 46 FROM generate_series(1, 24 * 89) AS h""",
            [camera.pk, now],
        )
        # Audit events: the table size a real deployment reaches (reports read other tables; the
        # chain's hashes here are placeholders, never verified).
        first = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        cursor.execute(
            f"""INSERT INTO {AuditEvent._meta.db_table} (sequence, occurred_at, action, event, actor_username,
                    actor_organisation, justification, recipient, target_type, target_id, target_label, details,
                    field_digests, content_digest, previous_hash, chain_hash, signature)
                SELECT %s + i, %s::timestamptz + make_interval(secs => i * 7), 'consultation', 'bench.event', 'bench',
                    'bench', '', '', 'deployments.alert', (i %% 100000)::text, '', '{{}}'::jsonb, '{{}}'::jsonb,
                    md5(i::text) || md5(i::text), '', md5((i + 1)::text) || md5((-i)::text), ''
                FROM generate_series(1, %s) AS i""",
            [first, now - timedelta(days=89), args.events],
        )
        for table in (Image, Alert, Disclosure, Counter, AuditEvent):
            cursor.execute(f"ANALYZE {table._meta.db_table}")
    load_seconds = time.perf_counter() - started
    print(
        f"Loaded {args.images:,} images, {args.alerts:,} alerts, {args.events:,} audit events in {load_seconds:.0f} s"
    )

    from governance.reports.selectors import quarter_of
    from governance.reports.services import transparency_report_publish

    start, end = quarter_of(now)
    published = transparency_report_publish(actor=dpo, operator=estate, start=start, end=end)

    pages = [
        ("Agreement report (page)", dpo, f"/reports/agreement/{agreement.pk}/"),
        ("Agreement report (PDF)", dpo, f"/reports/agreement/{agreement.pk}/?format=pdf"),
        ("Deployment report (page)", dpo, f"/reports/deployment/{deployment.pk}/"),
        ("Deployment report (PDF)", dpo, f"/reports/deployment/{deployment.pk}/?format=pdf"),
        ("Transparency report (preview page)", dpo, "/reports/transparency/"),
        ("Published transparency report (public page)", None, f"/published/{published.slug}/"),
        ("Regulator pack (page)", regulator, "/reports/regulator-pack/"),
        ("Regulator pack (PDF)", regulator, "/reports/regulator-pack/?format=pdf"),
    ]
    results, slowest = [], None
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["*"]):
        for label, user, url in pages:
            client = Client()
            if user:
                client.force_login(user)
            reset_queries()
            begun = time.perf_counter()
            response = client.get(url)
            seconds = time.perf_counter() - begun
            queries = list(connection.queries)
            assert response.status_code == 200, (url, response.status_code)
            worst = max(queries, key=lambda q: float(q["time"])) if queries else None
            results.append((label, seconds, len(queries)))
            print(f"{label}: {seconds:.2f} s, {len(queries)} queries")
            if worst and (slowest is None or seconds > slowest[1]):
                slowest = (label, seconds, worst)
    plan = ""
    if slowest:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + slowest[2]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"Slowest: {slowest[0]}; its slowest query ({float(slowest[2]['time']):.3f} s):\n{plan}")

    cpu = platform.processor() or platform.machine()
    lines = [
        "## Reports (PostgreSQL: 1,000,000 audit events, 100,000 alerts, 10,000 watchlist images)",
        "",
        f"- Command: `DATABASE_URL=postgres://…/oversight_reports_bench python -m benchmarks.reports "
        f"--events {args.events} --alerts {args.alerts} --images {args.images}`",
        f"- Machine: {os.cpu_count()} CPU cores ({cpu}, shared), PostgreSQL {connection.pg_version // 10000} on the "
        f"same host; date {timezone.localtime():%Y-%m-%d %H:%M}. Data loaded in {load_seconds:.0f} s.",
        "- Each report rendered once through Django's test client, as its reader (targets: ≤ 5 s a page, ≤ 20 s the "
        "regulator pack PDF):",
        "",
        "| Report | Seconds | Queries |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {seconds:.2f} | {n} |" for label, seconds, n in results],
        "",
    ]
    if slowest:
        lines += [f"- Slowest: {slowest[0]}; `EXPLAIN ANALYZE` of its slowest query:", "", "```", plan, "```", ""]
    if args.output:
        Path(args.output).write_text("\n".join(lines))
    else:
        record_benchmark("reports", "\n".join(lines))


if __name__ == "__main__":
    main()
