"""Run the product on the embedded default: web UI + API, tasks in-process, beat on a thread."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from governance.scheduler import EmbeddedBeat
from governance.serving import serve_hooks_start, serve_hooks_stop, web_warm_ups_start


class Command(BaseCommand):
    help = "Serve Oversight with the embedded scheduler (demo / single machine)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        from governance.management.commands.load_scenario import DEMO_PASSWORD
        from governance.organisations.models import User

        # What the apps need warm before the first request (recognition: the face engine and its frame worker).
        stops = serve_hooks_start(stdout=self.stdout)
        web_warm_ups_start()  # in the background (e.g. the face search's decrypted probes)
        beat = EmbeddedBeat()
        beat.start()
        host, _, port = addrport.rpartition(":")
        self.stdout.write(self.style.SUCCESS(f"\nOversight is running at http://{host or '127.0.0.1'}:{port}/"))
        if not settings.PRODUCTION and User.objects.filter(username="dpo.estate").exists():
            self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
            for user in (
                User.objects.filter(organisation__isnull=False)
                .select_related("organisation")
                .order_by("organisation__name", "username")
            ):
                self.stdout.write(f"  {user.username:<18} {', '.join(user.role_names):<32} {user.organisation}")
        self.stdout.write(
            f"Tasks run in-process: {settings.CELERY_TASK_ALWAYS_EAGER}; scheduled jobs: {', '.join(settings.CELERY_BEAT_SCHEDULE)}\n"
        )
        try:
            call_command("runserver", addrport, use_reloader=False, skip_checks=True)
        finally:
            beat.stopped.set()
            serve_hooks_stop(stops)
