from django.core.management.base import BaseCommand, CommandError

from governance.retention.registry import retention_rules
from governance.retention.services import SweepAlreadyRunning, retention_preview, retention_sweep


class Command(BaseCommand):
    help = "Erase everything whose retention has passed (what beat runs), or --dry-run to preview."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show what is due and held; erase nothing.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        titles = {rule.code: rule.title for rule in retention_rules()}
        if dry_run:
            preview = retention_preview()
            for code, title in titles.items():
                self.stdout.write(f"{title}: {preview.due[code]} due, {preview.held[code]} held")
            self.stdout.write("Dry run: nothing erased.")
            return
        try:
            run = retention_sweep(batch_size=batch_size, triggered_by="enforce_retention command")
        except SweepAlreadyRunning as error:
            raise CommandError(error.message) from error
        for code, title in titles.items():
            self.stdout.write(f"{title}: {run.erased_counts.get(code, 0)} erased, {run.held_counts.get(code, 0)} held")
        self.stdout.write(self.style.SUCCESS(f"Retention run {run.run_id} finished."))
