import io
from contextlib import redirect_stdout

from django.core.management.base import BaseCommand, CommandError

from governance.audit import tlog


class Command(BaseCommand):
    help = (
        "Verify offline an audit log export (or a slice), signed tree heads and inclusion / consistency "
        "proofs against published head keys: the same checks as the standalone governance/audit/tlog.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", nargs="?", help="the JSON-lines export (manage.py export_audit_log)")
        parser.add_argument("--public-key", action="append", default=[], help="a published head key, PEM (repeat)")
        parser.add_argument("--head", action="append", default=[], help="a signed tree head kept earlier (repeat)")
        parser.add_argument("--proof", action="append", default=[], help="an inclusion or consistency proof (repeat)")
        parser.add_argument("--pack", help="a pack's audit-log evidence (JSON); with --head, the previous pack's head")
        parser.add_argument("--proofs", action="append", default=[], help="a bundle of proofs (a response's appendix)")

    def handle(self, *args, **options):
        argv = [options["export"]] if options["export"] else []
        if options["pack"]:
            argv += ["--pack", options["pack"]]
        for name in ("public_key", "head", "proof", "proofs"):
            for value in options[name]:
                argv += [f"--{name.replace('_', '-')}", value]
        output = io.StringIO()
        with redirect_stdout(output):
            status = tlog.main(argv)
        self.stdout.write(output.getvalue(), ending="")
        if status:
            raise CommandError(output.getvalue().strip().splitlines()[-1])
