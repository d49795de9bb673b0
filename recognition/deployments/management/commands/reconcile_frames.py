"""``manage.py reconcile_frames``: does every accepted frame have exactly one counted outcome?

Prints, per camera and hour, frames accepted, processed, dropped (by reason) and outstanding; exits
1 when a settled hour does not add up (accepted != processed + dropped). ``--hours N`` looks back N
hours (default 48); ``--include-unsettled`` also fails on recent hours whose frames may still be in
flight (tests use it once the queue is empty)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recognition.deployments.selectors import frame_accounting


class Command(BaseCommand):
    help = "Check that accepted frames = processed + dropped for every camera and hour."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=48)
        parser.add_argument("--include-unsettled", action="store_true")

    def handle(self, *args, hours: int, include_unsettled: bool, **options):
        rows = frame_accounting(since=timezone.now() - timedelta(hours=hours))
        bad = 0
        for row in rows:
            wrong = row["outstanding"] != 0 or not row["drops_match"]
            failing = wrong and (row["settled"] or include_unsettled)
            bad += failing
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(row["dropped_by_reason"].items())) or "-"
            state = "MISMATCH" if failing else ("in flight" if wrong else "ok")
            self.stdout.write(
                f"camera {row['camera_id']} {row['hour']:%Y-%m-%d %H}:00  accepted {row['accepted']}  "
                f"processed {row['processed']}  dropped {row['dropped']} ({reasons})  "
                f"outstanding {row['outstanding']}  [{state}]"
            )
        if bad:
            raise CommandError(f"{bad} camera-hour(s) do not reconcile.")
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} camera-hour(s) reconcile."))
