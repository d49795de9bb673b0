"""Subject access benchmark on PostgreSQL: compile and render the response for a subject with 100
alerts in a database of 1,000,000 audit events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<dedicated db> \\
        python -m benchmarks.subject_search --flush-this-database

Builds its own data in the (dedicated!) database it is pointed at (it is flushed): organisations and
a DPO through the services, 1,000,000 audit events with ``generate_series`` (ten per alert id over
100,000 alert ids, target type ``deployments.alert``, as recognition writes them). Recognition's
alert provider is not part of governance; so that the benchmark measures governance's part of the
work — the compilation loop, the indexed audit lookup, redaction calls, the PDF and the JSON — it
registers a provider that compiles each of the 100 alerts with a real camera-sized JPEG, and the
real Pillow blur as the face redactor. Prints seconds and peak memory, and the ``EXPLAIN ANALYZE``
of the audit lookup; records them in BENCHMARKS.md (its own section). Not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import time
from datetime import timedelta

import django


def _jpeg(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), (30 + seed % 50, 40, 50))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 30, 80, 120), fill=(220, 180, 150))
    draw.ellipse((95, 30, 150, 120), fill=(210, 170, 140))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _blur(jpeg: bytes, keep_box) -> bytes:
    from PIL import Image, ImageFilter

    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    blurred = image.filter(ImageFilter.GaussianBlur(10))
    if keep_box:
        blurred.paste(image.crop(keep_box), keep_box[:2])
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=88)
    return out.getvalue()


def main() -> None:  # noqa: PLR0915 - a straight script
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=100, help="Alerts about the subject")
    parser.add_argument("--alert-ids", type=int, default=100_000, help="Distinct alert ids the events are about")
    parser.add_argument("--flush-this-database", action="store_true", help="Required: the database is emptied.")
    parser.add_argument("--output", default="", help="Write here instead of BENCHMARKS.md's section.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from benchmarks.results import record_markdown as record_benchmark
    from governance.audit.models import AuditEvent
    from governance.organisations.models import OrganisationKind
    from governance.organisations.roles import Role
    from governance.organisations.services import organisation_create, user_create
    from governance.subject_access import registry
    from governance.subject_access import services as sars
    from governance.subject_access.compile import audit_events_about, compile_response
    from governance.subject_access.documents import response_json, response_pdf

    if connection.vendor != "postgresql" or not args.flush_this_database:
        raise SystemExit("Point DATABASE_URL at a dedicated PostgreSQL database and pass --flush-this-database.")
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    estate = organisation_create(
        actor=None, name="King's Cross Estate Operator", short_name="kx-estate", kind=OrganisationKind.OPERATOR
    )
    dpo = user_create(actor=None, username="dpo.estate", organisation=estate, roles=[Role.DPO], password="x-bench-1")
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        first = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        cursor.execute(
            f"""INSERT INTO {AuditEvent._meta.db_table} (sequence, occurred_at, action, event, actor_username,
                    actor_organisation, justification, recipient, target_type, target_id, target_label, details,
                    field_digests, content_digest, previous_hash, chain_hash, signature, signature_key_id)
                SELECT %s + i, %s::timestamptz + make_interval(secs => i * 7),
                    CASE WHEN i %% 4 = 0 THEN 'disclosure' ELSE 'consultation' END, 'alert.reviewed', 'bench',
                    'King''s Cross Estate Operator', 'Bench review', CASE WHEN i %% 4 = 0 THEN 'LFR desk' ELSE '' END,
                    'deployments.alert', (i %% %s)::text, '', '{{}}'::jsonb, '{{}}'::jsonb,
                    md5(i::text) || md5(i::text), '', md5((i + 1)::text) || md5((-i)::text), '', ''
                FROM generate_series(1, %s) AS i""",
            [first, now - timedelta(days=89), args.alert_ids, args.events],
        )
        if connection.vendor == "postgresql":  # the rows above took numbers outside the entry sequence
            from governance.audit.sequencer import ENTRY_SEQUENCE

            cursor.execute(
                f"SELECT setval(%s, (SELECT max(sequence) FROM {AuditEvent._meta.db_table}))", [ENTRY_SEQUENCE]
            )
        cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
    load_seconds = time.perf_counter() - started
    print(f"Loaded {args.events:,} audit events over {args.alert_ids:,} alert ids in {load_seconds:.0f} s")

    photos = {str(i): _jpeg(i) for i in range(1, args.alerts + 1)}

    def compile_alert(actor, ref):
        return registry.SubjectItem(
            ref=ref,
            section="Alerts",
            title=f"Alert #{ref.key}",
            facts=[("Camera", "GS-1"), ("Score", "0.71"), ("Reviewed", "Confirmed by two reviewers")],
            pictures=[registry.Picture(jpeg=photos[ref.key], caption="Camera crop", subject_box=(20, 30, 80, 120))],
            source="Camera GS-1",
            recipients=["Met Camden BCU"],
            retention="31 days after the match.",
            audit_targets=[("deployments.alert", ref.key)],
        )

    registry.subject_data_provider_register(
        registry.SubjectDataProvider(
            kind="bench-alert",
            title="Alerts",
            section="Alerts",
            search=lambda actor, query: [],
            compile=compile_alert,
        )
    )
    registry.face_redactor_register(_blur)
    request = sars.subject_request_receive(
        actor=dpo,
        fields={
            "regime": "uk_gdpr",
            "right": "access",
            "requester_name": "Bench Requester",
            "requester_contact": "bench@example.org",
            "request_text": "Everything.",
            "received_on": timezone.localdate(),
            "identity_verified_how": "Bench",
            "identity_verified_by_name": "Bench",
        },
    )
    sars.subject_request_decide(
        actor=dpo, request=request, decisions=[(f"bench-alert:{key}", "confirmed", "face") for key in photos]
    )
    targets = [("deployments.alert", key) for key in photos]
    with connection.cursor() as cursor:
        query, params = audit_events_about(targets).query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timings = {}
    started = time.perf_counter()
    response = compile_response(actor=dpo, request=request)
    timings["compile (100 items, audit lookup, redaction)"] = time.perf_counter() - started
    started = time.perf_counter()
    pdf = response_pdf(response)
    timings["render PDF"] = time.perf_counter() - started
    started = time.perf_counter()
    data = response_json(response)
    timings["render JSON"] = time.perf_counter() - started
    total = sum(timings.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    lines = [
        "## Subject access: compile and render (PostgreSQL, 1,000,000 audit events)",
        "",
        f"`DATABASE_URL=postgres://... python -m benchmarks.subject_search --flush-this-database` on "
        f"{platform.node()} ({os.cpu_count()} CPUs), {timezone.now():%Y-%m-%d}. {args.events:,} audit events over "
        f"{args.alert_ids:,} alert ids; a subject with {args.alerts} alerts (each with a 160x160 camera crop through "
        "a Pillow-blur redactor). The alert provider is a stand-in registered by the script (recognition's own is "
        "not part of governance); the audit lookup, compilation loop, redaction calls, PDF and JSON are the "
        "production code.",
        "",
        "| Step | Seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in timings.items()],
        f"| **total** (target ≤ 60 s) | **{total:.2f}** |",
        "",
        f"Response: {response.item_count} items, {len(response.events):,} audit events, {response.picture_count} "
        f"pictures; PDF {len(pdf) / 1e6:.1f} MB, {pages} pages; JSON {len(data) / 1e6:.1f} MB. Peak resident memory "
        f"of the process {peak_mb:.0f} MB (before compiling: {rss_before / 1024:.0f} MB).",
        "",
        "The audit lookup (`audit_events_about`, served by `audit_target_idx` on (target_type, target_id, sequence)):",
        "",
        "```",
        plan,
        "```",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text)
    else:
        record_benchmark("subject-access", text)


if __name__ == "__main__":
    main()
