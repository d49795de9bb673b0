import json

from django.core.management.base import BaseCommand, CommandError

from governance.audit.services import (
    audit_checkpoint_create,
    audit_checkpoint_public_key,
)


class Command(BaseCommand):
    help = (
        "Write the latest signed tree head of the audit log (JSON, after sequencing what is pending) to "
        "publish or hand to the regulator; --public-key prints the key that verifies heads (publish it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--public-key", action="store_true", help="print the checkpoint public key (PEM) instead")

    def handle(self, *args, **options):
        if options["public_key"]:
            text = audit_checkpoint_public_key()
        else:
            cp = audit_checkpoint_create()
            if cp is None:
                raise CommandError("The audit log is empty: nothing to checkpoint.")
            text = json.dumps(cp, indent=2) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
