from django.core.management.base import BaseCommand

from governance.audit.services import audit_seal_chain_head


class Command(BaseCommand):
    help = "Seal the audit chain head now (beat does this every few minutes)."

    def handle(self, *args, **options):
        seal = audit_seal_chain_head()
        self.stdout.write(
            f"Sealed the tree head of {seal.sequence} events." if seal else "Tree head already sealed (or empty)."
        )
