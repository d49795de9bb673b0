from django.core.management.base import BaseCommand

from governance.audit.sequencer import audit_sequence_all
from governance.audit.services import audit_integrity_export


class Command(BaseCommand):
    help = (
        "Write the audit log's integrity export (JSON lines: signed tree heads, then every leaf's digests, "
        "leaf hash and non-personal fields) for the standalone verifier governance/audit/tlog.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", required=True, help="file to write")
        parser.add_argument("--start", type=int, default=0, help="first leaf (a slice; default the whole log)")

    def handle(self, *args, **options):
        audit_sequence_all()  # what has committed gets its leaf first, so the export is complete
        count = -1
        with open(options["output"], "w", encoding="utf-8") as handle:
            for line in audit_integrity_export(start=options["start"]):
                handle.write(line + "\n")
                count += 1
        self.stdout.write(f"Exported {count} events to {options['output']}.")
