from django.core.management.base import BaseCommand

from governance.audit.sequencer import BATCH_SIZE, audit_sequence, audit_sequence_all


class Command(BaseCommand):
    help = (
        "Run the audit log's sequencer now: committed events get their leaves and a signed tree head "
        "(beat does this every few seconds). One at a time: a second sequencer meanwhile does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="events per batch (one head each)")
        parser.add_argument("--once", action="store_true", help="one batch only")

    def handle(self, *args, **options):
        if options["once"]:
            head = audit_sequence(batch_size=options["batch_size"])
        else:
            head = audit_sequence_all(batch_size=options["batch_size"])
        self.stdout.write(f"Tree head: {head.tree_size} events." if head else "Nothing to sequence.")
