"""``python manage.py switch_engine DETECTOR+EMBEDDER [--reenrol-only] [--by NAME]``: change the live face model.

Re-enrols every enrolled watchlist image under the target backend beside the live templates (resumable; one audit
event per template), then switches live matching, enrolment and search over in one audited step while matching
continues (``recognition.switchover``). Switching back is the same command with the old backend: its templates are
kept, so the switch is immediate. ``--status`` prints the live backend and template counts per backend.
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from governance.errors import ApplicationError


class Command(BaseCommand):
    help = "Re-enrol every image under another engine backend (e.g. yunet+sface) and switch over to it, audited."

    def add_arguments(self, parser) -> None:
        parser.add_argument("backend", nargs="?", help='DETECTOR+EMBEDDER, e.g. "yunet+sface" or "mtcnn+facenet".')
        parser.add_argument("--reenrol-only", action="store_true", help="Make the templates, do not switch.")
        parser.add_argument("--by", default="", help="Who asked for the change (recorded in the audit log).")
        parser.add_argument("--status", action="store_true", help="Show the live backend and templates per backend.")

    def handle(self, *args, backend: str | None, reenrol_only: bool, by: str, status: bool, **options) -> None:
        from recognition.models import FaceTemplate
        from recognition.selectors import live_backend
        from recognition.switchover import (
            engine_reenrol_all,
            engine_switch,
            images_lacking,
        )

        if status or not backend:
            self.stdout.write(f"live backend: {live_backend()}")
            for row in FaceTemplate.objects.values("backend").annotate(n=Count("pk")).order_by("backend"):
                self.stdout.write(f"  {row['backend']}: {row['n']} template(s)")
            return
        try:
            report = engine_reenrol_all(choice=backend)
        except ValueError as error:
            raise CommandError(str(error)) from None
        done = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing to do"
        self.stdout.write(f"re-enrolment under {report.backend}: {done}")
        if report.no_face:
            self.stdout.write(f"  no face found under the new backend in image(s): {report.no_face}")
        if reenrol_only:
            return
        lacking = images_lacking(report.backend)
        if lacking:
            raise CommandError(
                f"Not switching: {len(lacking)} enrolled image(s) have no template under "
                f"{report.backend} ({lacking[:20]}); withdraw or replace them, then run again."
            )
        try:
            row = engine_switch(choice=backend, actor_name=by or f"manage.py switch_engine ({getpass.getuser()})")
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"live backend: {row.backend}"))
