"""Sign-in services: the second factor and the audit record of every sign-in event.

Each service writes its audit event in its own transaction (sign-in events concern no other
change). Tokens, TOTP secrets and recovery codes never reach the audit log or the logs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.signin.client import client_address

RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DEVICE_NAME = "Authenticator app"


# --- rules --------------------------------------------------------------------------------------


def second_factor_required(user) -> bool:
    """Whether this user must pass a second factor before reaching anything.

    Every role reaches personal data: DPOs and regulators the audit log and the ledger, submitters
    watchlist images, reviewers camera crops and watchlist thumbnails, administrators the admin.
    So in production (``OVERSIGHT_REQUIRE_SECOND_FACTOR``, on by default there) it is everyone; in
    the demo it is only those who chose to enrol one.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return settings.OVERSIGHT_REQUIRE_SECOND_FACTOR or second_factor_enrolled(user)


def second_factor_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_verified(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_verified", lambda: False)())


# --- audit of sign-in events -----------------------------------------------------------------------


def _user_target(user=None, username: str = "") -> tuple[str, str, str]:
    if user is not None:
        return ("governance.user", str(user.pk), user.get_username())
    return ("governance.user", "-", username[:150])


def signin_event_record(*, request: HttpRequest, event: str, user=None, username: str = "", **details) -> None:
    """Record one sign-in event (``signin.succeeded``, ``signin.failed``, ``signin.locked_out``, …).

    The attempted username of a failure is kept (truncated), as every security log does; the
    password, tokens and codes never are. Its own transaction.
    """
    with transaction.atomic():
        audit_record(
            action=AuditAction.AUTHENTICATION,
            event=event,
            actor=user,
            target=_user_target(user, username),
            details={"address": client_address(request) or "unknown", **details},
        )


# --- enrolment --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingTotp:
    device: TOTPDevice

    @property
    def secret(self) -> str:
        """The key as authenticator apps take it typed in: base32, no padding."""
        return base64.b32encode(self.device.bin_key).decode().rstrip("=")

    @property
    def provisioning_uri(self) -> str:
        return self.device.config_url


def totp_pending_for(*, user) -> PendingTotp:
    """The user's unconfirmed TOTP device, created on first use (one per user, idempotent)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return PendingTotp(device)


def recovery_codes_issue(*, user, request: HttpRequest) -> list[str]:
    """Replace the user's recovery codes with a fresh set, shown once. Each works once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(settings.OVERSIGHT_RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        audit_record(
            action=AuditAction.AUTHENTICATION,
            event="second_factor.recovery_codes_issued",
            actor=user,
            target=_user_target(user),
            details={"address": client_address(request) or "unknown", "count": len(codes)},
        )
    return codes


def totp_confirm(*, request: HttpRequest, token: str) -> list[str] | None:
    """Confirm the pending device with a first code from the app; returns fresh recovery codes.

    Wrong code: nothing changes, the failure is recorded and None returned. Right code: the
    device is confirmed (any older device goes), this session counts as verified, and a set of
    recovery codes is issued.
    """
    user = request.user
    pending = totp_pending_for(user=user)
    if not pending.device.verify_token(token.strip().replace(" ", "")):
        signin_event_record(request=request, event="second_factor.enrol_failed", user=user)
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=pending.device.pk).delete()
        pending.device.confirmed = True
        pending.device.save(update_fields=["confirmed"])
        audit_record(
            action=AuditAction.AUTHENTICATION,
            event="second_factor.enrolled",
            actor=user,
            target=_user_target(user),
            details={"address": client_address(request) or "unknown", "kind": "totp"},
        )
    _verified_login(request, pending.device)
    return recovery_codes_issue(user=user, request=request)


def _verified_login(request: HttpRequest, device) -> None:
    """The session is verified by ``device`` and gets a new key (issue 26): a session id seen or
    planted before the second factor was passed is worth nothing after it."""
    request.session.cycle_key()
    otp_login(request, device)


def second_factor_verify(*, request: HttpRequest, token: str) -> bool:
    """Check a code from the app or a recovery code; on success this session is verified.

    django-otp throttles each device (the wait doubles after every wrong code) and refuses a TOTP
    code already used, so a code seen over a shoulder cannot be replayed. A recovery code is
    deleted when used.
    """
    user = request.user
    device = match_token(user, token.strip().replace(" ", ""))
    if device is None:
        signin_event_record(request=request, event="second_factor.failed", user=user)
        return False
    _verified_login(request, device)
    kind = "recovery_code" if isinstance(device, StaticDevice) else "totp"
    remaining = StaticToken.objects.filter(device__user=user).count()
    signin_event_record(
        request=request, event="second_factor.verified", user=user, kind=kind, recovery_codes_left=remaining
    )
    return True
