"""Revoke an API token at once: manage.py revoke_api_token --token-key KEY --reason "..."  (or --organisation X --all)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.api.models import ApiToken
from governance.api.tokens import api_token_revoke
from governance.errors import ApplicationError


class Command(BaseCommand):
    help = "Revoke API tokens (by public key prefix, or every live token of an organisation)."

    def add_arguments(self, parser):
        parser.add_argument("--token-key", default="")
        parser.add_argument("--organisation", default="")
        parser.add_argument("--all", action="store_true", help="With --organisation: every unrevoked token")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, token_key: str, organisation: str, all: bool, reason: str, **options):
        live = ApiToken.objects.filter(revoked_at__isnull=True)
        if token_key:
            entries = list(live.filter(token_key=token_key))
        elif organisation and all:
            entries = list(live.filter(organisation__short_name=organisation))
        else:
            raise CommandError("Give --token-key, or --organisation with --all.")
        if not entries:
            raise CommandError("No live token matches.")
        for entry in entries:
            try:
                api_token_revoke(actor=None, entry=entry, reason=reason)
            except ApplicationError as error:
                raise CommandError(f"{error.code}: {error.message}") from None
            self.stdout.write(f"Revoked {entry.token_key}… ({entry.organisation.short_name}).")
