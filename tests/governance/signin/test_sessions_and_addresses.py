"""Sessions and addresses (issue 26): the session key is renewed when the second factor is passed,
and the client address comes from the configured trusted proxies only — never from a header the
client sets itself (the lockout and the audit log both use it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from governance.signin.client import client_address
from tests.governance.signin.test_signin import enrol, sign_in, signin_events

pytestmark = pytest.mark.django_db


def _session_key(client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def test_passing_the_second_factor_gives_the_session_a_new_key(client, cast, settings):
    settings.OVERSIGHT_REQUIRE_SECOND_FACTOR = True
    _, codes = enrol(client, cast, cast.estate_dpo)
    client.post(reverse("logout"))
    sign_in(client, cast.estate_dpo.username, cast.password)
    before = _session_key(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert client.post(reverse("second-factor"), {"token": codes[0]}).status_code == 302
    after = _session_key(client)
    assert after != before
    assert client.get(reverse("dashboard")).status_code == 200
    # The key seen before the second factor opens nothing now.
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before
    assert client.get(reverse("dashboard")).status_code == 302


def test_enrolling_the_second_factor_gives_the_session_a_new_key(client, cast, settings):
    settings.OVERSIGHT_REQUIRE_SECOND_FACTOR = True
    response = sign_in(client, cast.estate_dpo.username, cast.password)
    assert response["Location"].startswith(reverse("second-factor-setup"))
    before = _session_key(client)
    client.cookies.clear()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before
    import re

    from tests.governance.signin.totp import totp_code

    page = client.get(reverse("second-factor-setup")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.post(reverse("second-factor-setup"), {"token": totp_code(secret)}).status_code == 200
    assert _session_key(client) != before


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.OVERSIGHT_TRUSTED_PROXIES = []
    assert client_address(_request("203.0.113.9", "198.51.100.2, 9.9.9.9")) == "203.0.113.9"


def test_a_client_reaching_gunicorn_directly_cannot_name_another_address(settings):
    """The finding: production trusted the right-most entry even from a direct client."""
    settings.OVERSIGHT_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    assert client_address(_request("203.0.113.9", "198.51.100.2, 9.9.9.9")) == "203.0.113.9"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client(settings):
    settings.OVERSIGHT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"
    # Junk stops the walk at the last trusted hop: never an address the client chose.
    assert client_address(_request("10.0.0.2", "6.6.6.6, not-an-ip")) == "10.0.0.2"
    assert client_address(_request("10.0.0.2", "")) == "10.0.0.2"
    assert client_address(_request("junk")) is None


def test_a_locked_address_stays_locked_whatever_it_forwards_and_the_audit_log_records_its_own_address(
    client, cast, settings
):
    """The finding: a locked address signed in again with ``X-Forwarded-For: 198.51.100.2, 9.9.9.9``,
    and the audit log recorded 9.9.9.9."""
    settings.OVERSIGHT_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"nobody-{i}", "guess", REMOTE_ADDR="203.0.113.77", HTTP_X_FORWARDED_FOR=f"9.9.9.{i}")
    response = sign_in(
        client,
        cast.met_dpo.username,
        cast.password,
        REMOTE_ADDR="203.0.113.77",
        HTTP_X_FORWARDED_FOR="198.51.100.2, 9.9.9.9",
    )
    assert response.status_code == 429
    addresses = {event.details.get("address") for event in signin_events()}
    assert addresses == {"203.0.113.77"}
