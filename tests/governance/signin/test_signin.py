"""Sign-in: second factor where due, lockout of repeated failures per account and per address, idle
timeout, and every sign-in event in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from governance.audit.models import AuditAction, AuditEvent
from governance.audit.services import audit_chain_verify
from tests.governance.signin.totp import totp_code

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def signin_events(event=None):
    events = AuditEvent.objects.filter(action=AuditAction.AUTHENTICATION)
    return list(events.filter(event=event) if event else events)


def enrol(client, cast, user) -> tuple[str, list[str]]:
    """Sign in and enrol an authenticator app; returns the secret and the recovery codes."""
    response = sign_in(client, user.username, cast.password)
    assert response.status_code == 302 and response["Location"].startswith(reverse("second-factor-setup"))
    page = client.get(reverse("second-factor-setup")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post(reverse("second-factor-setup"), {"token": totp_code(secret)})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]+)</li>", response.content.decode())
    return secret, codes


@pytest.fixture
def production_second_factor(settings):
    settings.OVERSIGHT_REQUIRE_SECOND_FACTOR = True


def test_production_requires_a_second_factor_before_anything(client, cast, production_second_factor, active_agreement):
    response = sign_in(client, cast.estate_dpo.username, cast.password)
    assert response["Location"].startswith(reverse("second-factor-setup"))
    # Signed in with the password only: no page, no API call, no admin.
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("second-factor-setup"))
    assert client.get(reverse("agreement-detail", args=[active_agreement.pk])).status_code == 302
    api = client.get("/api/v1/agreements/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"
    assert client.get("/admin/").status_code == 302
    assert [e.event for e in signin_events()] == ["signin.password_accepted"]


def test_enrolment_then_the_app_code_opens_the_session(client, cast, production_second_factor):
    secret, codes = enrol(client, cast, cast.estate_dpo)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("dashboard")).status_code == 200
    events = [e.event for e in signin_events()]
    assert events == ["signin.password_accepted", "second_factor.enrolled", "second_factor.recovery_codes_issued"]
    # Neither the secret nor a code is in the audit log.
    for event in signin_events():
        text = str(event.details) + event.justification + event.target_label
        assert secret not in text and not any(code in text for code in codes)


def test_wrong_code_is_refused_and_recorded_and_a_recovery_code_works_once(client, cast, production_second_factor):
    _, codes = enrol(client, cast, cast.estate_dpo)
    client.post(reverse("logout"))
    sign_in(client, cast.estate_dpo.username, cast.password)
    response = client.post(reverse("second-factor"), {"token": "000000"})
    assert response.status_code == 400
    assert client.get(reverse("dashboard")).status_code == 302
    assert len(signin_events("second_factor.failed")) == 1
    # django-otp throttles every device after a failure: even the right code is refused at once...
    assert client.post(reverse("second-factor"), {"token": codes[0]}).status_code == 400
    # ...and accepted once the wait (1 s after one failure, doubling) has passed.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        response = client.post(reverse("second-factor"), {"token": codes[0]})
        assert response.status_code == 302
        assert client.get(reverse("dashboard")).status_code == 200
    [verified] = signin_events("second_factor.verified")
    assert verified.details["kind"] == "recovery_code" and verified.details["recovery_codes_left"] == 9
    client.post(reverse("logout"))
    sign_in(client, cast.estate_dpo.username, cast.password)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):  # past the throttle of the failure above
        assert client.post(reverse("second-factor"), {"token": codes[0]}).status_code == 400


def test_a_stolen_password_cannot_replace_the_enrolled_device(client, cast, production_second_factor):
    enrol(client, cast, cast.estate_dpo)
    client.post(reverse("logout"))
    sign_in(client, cast.estate_dpo.username, cast.password)
    response = client.get(reverse("second-factor-setup"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("second-factor"))


def test_demo_signs_in_with_the_password_alone_and_records_it(client, cast):
    response = sign_in(client, cast.estate_dpo.username, cast.password)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    [event] = signin_events("signin.succeeded")
    assert event.actor_id == cast.estate_dpo.pk and event.details["address"] == "127.0.0.1"


def test_failed_sign_in_is_recorded_without_the_password(client, cast):
    response = sign_in(client, cast.estate_dpo.username, "wrong-password-123")
    assert response.status_code == 200 and b"didn't match" in response.content
    [event] = signin_events("signin.failed")
    assert event.target_label == cast.estate_dpo.username and "wrong-password-123" not in str(event.details)
    assert audit_chain_verify().ok


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, cast, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, cast.estate_dpo.username, f"guess-{i}", REMOTE_ADDR=f"10.0.0.{i + 1}")
    response = sign_in(client, cast.estate_dpo.username, cast.password, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429 and b"Signing in is paused" in response.content
    assert "_auth_user_id" not in client.session
    assert signin_events("signin.locked_out")
    # Another account is not affected.
    assert sign_in(client, cast.met_dpo.username, cast.password, REMOTE_ADDR="10.0.1.2").status_code == 302
    # After the cool-off the right password works again.
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert sign_in(client, cast.estate_dpo.username, cast.password, REMOTE_ADDR="10.0.1.1").status_code == 302


def test_repeated_failures_from_one_address_lock_that_address(client, cast, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"nobody-{i}", "guess", REMOTE_ADDR="192.0.2.7")
    assert sign_in(client, cast.met_dpo.username, cast.password, REMOTE_ADDR="192.0.2.7").status_code == 429
    assert sign_in(client, cast.met_dpo.username, cast.password, REMOTE_ADDR="192.0.2.8").status_code == 302


def test_behind_the_proxy_the_forwarded_address_is_counted_not_the_proxy(client, cast, settings):
    settings.OVERSIGHT_TRUSTED_PROXIES = ["10.9.9.9"]
    for i in range(settings.AXES_FAILURE_LIMIT):
        # The client's own claim (left of the proxy's entry) is ignored.
        sign_in(client, f"nobody-{i}", "guess", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.5")
    assert (
        sign_in(
            client, cast.met_dpo.username, cast.password, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.5"
        ).status_code
        == 429
    )
    assert (
        sign_in(
            client, cast.met_dpo.username, cast.password, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.6"
        ).status_code
        == 302
    )


def test_idle_session_is_signed_out_and_background_polling_does_not_keep_it(client, cast, settings):
    settings.OVERSIGHT_SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, cast.estate_reviewer.username, cast.password)
        assert client.get(reverse("dashboard")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert client.get(reverse("dashboard")).status_code == 200  # activity: the clock restarts
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get(reverse("review-queue-json")).status_code == 200  # the page polling by itself
    with time_machine.travel(start + timedelta(minutes=51), tick=False):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    [event] = signin_events("signin.idle_timeout")
    assert event.actor_id == cast.estate_reviewer.pk
