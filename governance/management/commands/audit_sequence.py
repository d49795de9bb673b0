from django.core.management.base import BaseCommand

from governance.audit.sequencer import BATCH_SIZE, audit_sequence, audit_sequence_all, audit_sequence_loop


class Command(BaseCommand):
    help = (
        "Run the audit log's sequencer now: committed events get their leaves and a signed tree head "
        "(committing writers and beat do this). One at a time: a second sequencer meanwhile does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="events per batch (one head each)")
        parser.add_argument("--once", action="store_true", help="one batch only")
        parser.add_argument(
            "--loop", action="store_true", help="keep sequencing (a dedicated sequencer; stop with Ctrl-C or SIGTERM)"
        )
        parser.add_argument("--poll", type=float, default=0.2, help="with --loop: seconds to sleep when idle")

    def handle(self, *args, **options):
        if options["loop"]:
            try:
                audit_sequence_loop(poll_seconds=options["poll"])
            except KeyboardInterrupt:
                return
        if options["once"]:
            head = audit_sequence(batch_size=options["batch_size"])
        else:
            head = audit_sequence_all(batch_size=options["batch_size"])
        self.stdout.write(f"Tree head: {head.tree_size} events." if head else "Nothing to sequence.")
