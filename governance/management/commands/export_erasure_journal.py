from django.core.management.base import BaseCommand

from governance.retention.journal import erasure_journal_export, journal_path


class Command(BaseCommand):
    help = (
        "Append every erasure not yet in the erasure journal (OVERSIGHT_ERASURE_JOURNAL; beat does this every "
        "minute). Run it once more before a planned restore while the old database is still readable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--journal", help="Journal file (default: OVERSIGHT_ERASURE_JOURNAL).")

    def handle(self, *args, **options):
        from pathlib import Path

        path = Path(options["journal"]) if options["journal"] else journal_path()
        result = erasure_journal_export(path=path)
        self.stdout.write(f"{result.appended} erasure(s) appended to {path}.")
        if result.skipped_unknown:
            self.stderr.write(f"No journal kind registered for: {', '.join(sorted(set(result.skipped_unknown)))}")
