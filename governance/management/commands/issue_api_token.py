"""Issue an API token for a force's or unit's service account (created if missing).

    manage.py issue_api_token --organisation met-camden --user api.met-camden [--days 90] [--label "..."]

Prints the secret once; only its SHA-512 digest is stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.api.tokens import api_token_issue
from governance.errors import ApplicationError
from governance.organisations.models import Organisation, User
from governance.organisations.roles import Role
from governance.organisations.services import user_create


class Command(BaseCommand):
    help = "Issue an expiring API token for a police force's or unit's service account."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="Short name of the force or unit")
        parser.add_argument(
            "--user", required=True, help="Service account username (created with the force submitter role if missing)"
        )
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--label", default="")

    def handle(self, *args, organisation: str, user: str, days: int, label: str, **options):
        org = Organisation.objects.filter(short_name=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with short name {organisation!r}.")
        try:
            account = User.objects.filter(username=user).first()
            if account is None:
                account = user_create(
                    actor=None,
                    username=user,
                    organisation=org,
                    roles=[Role.FORCE_SUBMITTER],
                    job_title="API service account",
                )
                self.stdout.write(f"Created service account {user} in {org.short_name}.")
            entry, secret = api_token_issue(actor=None, organisation=org, user=account, days=days, label=label)
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"Token {entry.token_key}… for {org.short_name}/{account.username}, expires {entry.expires_at:%Y-%m-%d %H:%M %Z}."
        )
        self.stdout.write("Secret (shown once; send it as 'Authorization: Token <secret>'):")
        self.stdout.write(secret)
