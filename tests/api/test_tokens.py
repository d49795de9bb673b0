"""API tokens: hashed, expiring, revocable, issued by command, use recorded; per-token rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from governance.api.models import ApiToken
from governance.api.tokens import api_token_revoke
from governance.audit.models import AuditEvent
from tests.governance.watchlist.support import error_code, token_client, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _client(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return api


def test_command_issues_a_hashed_token_for_a_service_account(cast, active_agreement, capsys):
    call_command("issue_api_token", "--organisation", "met-camden", "--user", "svc.camden", "--days", "7")
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    entry = ApiToken.objects.get(user__username="svc.camden")
    assert entry.organisation == cast.camden
    assert not AuthToken.objects.filter(digest=secret).exists() and secret not in entry.digest
    assert timedelta(days=6, hours=23) < entry.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEvent.objects.filter(event="api_token.issued", target_id=str(entry.pk)).exists()
    api = _client(secret)
    assert upload(api, active_agreement).status_code == 202
    entry.refresh_from_db()
    assert entry.use_count == 1 and entry.last_used_at is not None
    assert AuditEvent.objects.filter(event="api_token.first_used").count() == 1


def test_command_refuses_a_non_police_organisation(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("issue_api_token", "--organisation", "kx-estate", "--user", "svc.estate")


def test_expired_token_refused(camden_submitter, active_agreement):
    api = token_client(camden_submitter, days=1)
    assert api.get("/api/v1/watchlist-images/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        cache.clear()
        response = api.get("/api/v1/watchlist-images/")
    assert response.status_code == 401


def test_revoked_token_refused_at_once(camden_submitter, active_agreement):
    api = token_client(camden_submitter)
    assert api.get("/api/v1/watchlist-images/").status_code == 200
    api_token_revoke(actor=None, entry=api.token_entry, reason="Laptop lost")
    assert api.get("/api/v1/watchlist-images/").status_code == 401
    assert upload(api, active_agreement).status_code == 401
    entry = ApiToken.objects.get(pk=api.token_entry.pk)
    assert entry.revoked_at and entry.revocation_reason == "Laptop lost"
    assert AuditEvent.objects.filter(event="api_token.revoked").exists()


def test_revoke_command(camden_submitter):
    api = token_client(camden_submitter)
    call_command("revoke_api_token", "--token-key", api.token_entry.token_key, "--reason", "rotation")
    assert api.get("/api/v1/watchlist-images/").status_code == 401


def test_garbage_token_is_401():
    assert _client("not-a-token").get("/api/v1/watchlist-images/").status_code == 401


def test_rate_limit_per_token_with_retry_after(camden_submitter, settings):
    settings.OVERSIGHT_API_RATE_LIMIT = "3/minute"
    api = token_client(camden_submitter)
    other = token_client(camden_submitter)
    statuses = [api.get("/api/v1/watchlist-images/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/api/v1/watchlist-images/")
    assert limited.status_code == 429 and error_code(limited) == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert other.get("/api/v1/watchlist-images/").status_code == 200  # another token has its own budget
