from django.core.management.base import BaseCommand

from governance.audit.services import audit_integrity_export


class Command(BaseCommand):
    help = (
        "Write the audit log's integrity export (JSON lines: digests, links, non-personal fields) for "
        "python -m governance.audit.offline_verify."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", required=True, help="file to write")

    def handle(self, *args, **options):
        count = -1
        with open(options["output"], "w", encoding="utf-8") as handle:
            for line in audit_integrity_export():
                handle.write(line + "\n")
                count += 1
        self.stdout.write(f"Exported {count} events to {options['output']}.")
