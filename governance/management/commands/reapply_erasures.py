from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.retention.journal import erasure_journal_export, erasure_journal_replay, journal_path


class Command(BaseCommand):
    help = (
        "After restoring a backup: re-apply every erasure in the erasure journal that the restored database does "
        "not reflect (idempotent: safe to run again), then run a retention sweep for what fell due meanwhile, "
        "then append the new erasures to the journal. Run it before the web, worker and beat start."
    )

    def add_arguments(self, parser):
        parser.add_argument("--journal", help="Journal file (default: OVERSIGHT_ERASURE_JOURNAL).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be re-applied; change nothing.")
        parser.add_argument("--no-sweep", action="store_true", help="Skip the retention sweep afterwards.")

    def handle(self, *args, **options):
        path = Path(options["journal"]) if options["journal"] else journal_path()
        if not path.exists():
            raise CommandError(f"No erasure journal at {path}: nothing can be re-applied (set --journal).")
        result = erasure_journal_replay(path=path, dry_run=options["dry_run"])
        verb = "would be" if options["dry_run"] else "were"
        outcomes = ", ".join(f"{name} {n}" for name, n in sorted(result.outcomes.items())) or "none"
        self.stdout.write(f"{result.entries} journal entries; records: {outcomes}.")
        if result.lost_head:
            self.stdout.write(
                f"The restored audit chain lacks journalled erasures up to event #{result.lost_head['sequence']} "
                f"of the lost stretch ({result.lost_head['occurred_at']}); {result.reapplied} record(s) {verb} "
                "erased again."
            )
        if result.unknown_kinds:
            raise CommandError(
                f"Journal entries of unknown kinds (not re-applied): {sorted(set(result.unknown_kinds))}"
            )
        if options["dry_run"]:
            return
        if not options["no_sweep"]:
            from governance.retention.services import SweepAlreadyRunning, retention_sweep

            try:
                run = retention_sweep(triggered_by="restore")
            except SweepAlreadyRunning:
                raise CommandError("A retention sweep is running: stop beat and the workers first.") from None
            self.stdout.write(f"Retention sweep after the restore erased {run.total_erased} item(s).")
        appended = erasure_journal_export(path=path).appended
        self.stdout.write(self.style.SUCCESS(f"Done; {appended} new erasure(s) appended to the journal."))
