from django.core.management.base import BaseCommand, CommandError

from governance.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the whole audit log (events, the old chain's links, the Merkle tree, signed tree heads, seals); "
        "name the first broken event."
    )

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit log intact: {report.events_checked} events ({report.pending} waiting for the "
                    f"sequencer), {report.heads_checked} signed tree heads, {report.seals_checked} seals verified."
                )
            )
            return
        for problem in report.problems[:50]:
            self.stderr.write(problem)
        raise CommandError(
            f"Audit chain BROKEN: first broken event #{report.first_broken_sequence} "
            f"({len(report.problems)} problems, {report.events_checked} events checked)."
        )
