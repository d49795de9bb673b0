"""API tokens for police forces: issued per force or unit, hashed, expiring, revocable, audited.

Tokens are django-rest-knox tokens: knox stores only a SHA-512 digest of the secret and an expiry,
and refuses (and deletes) an expired token. Each token belongs to a *service account* user of one
force or unit holding the force-submitter role, so everything done with it is done as that
organisation, and object permissions apply exactly as for a person.

``ApiToken`` (governance.api.models) is the register beside knox's table: issued by whom, when, until
when, revoked by whom and why, last use and a use counter. Revoking deletes knox's row, so the token
stops working on the next request in every process.

Auditing token use — decided, and kept cheap: every personal-data action taken with a token writes
its own s.62 event (collection, consultation, erasure...) naming the actor *and* the token's public
key prefix; a token's **first** use writes an ``api_token.first_used`` event; after that only the
register's last-use time and counter are updated, at most once a minute per token (gated in the
shared cache), so authentication never takes the audit chain's lock on the hot path.

Rate limits: ``TokenRateThrottle`` counts requests per token in fixed windows in the shared cache
(``CACHE_URL`` — Redis when scaled out, so the limit holds across every web process), and answers
429 with ``Retry-After`` when a token goes over ``OVERSIGHT_API_RATE_LIMIT``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import BaseThrottle

from governance.api.models import ApiToken
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from governance.organisations.roles import Role
from governance.ratelimit import rate_hit

USE_RECORD_INTERVAL_S = 60
MAX_TOKEN_DAYS = 366


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _require_token_administrator(actor: User | None, organisation_id: int) -> None:
    """A platform operator (a command: ``actor`` None; or a superuser), or an administrator of the
    organisation (a force's administrators also for its units). Another organisation's token or
    account is "not found"."""
    if actor is None or actor.is_superuser:
        return
    from governance.administration.access import administers, administration_require

    try:
        administration_require(actor)
    except PermissionRefused:
        raise PermissionRefused(
            "Only an administrator issues and revokes API tokens.", code="cannot_issue_tokens"
        ) from None
    if not administers(actor, organisation_id):
        raise NotFound("No such organisation.")


def api_token_issue(
    *,
    actor: User | None,
    organisation: Organisation,
    user: User,
    days: int = 90,
    label: str = "",
) -> tuple[ApiToken, str]:
    """Issue a token for a force's or unit's service account; returns (register entry, secret).

    The secret is shown once and never stored. Transaction: its own; audited (``alteration`` of
    who may act for the organisation). ``actor`` None means a management command run by an operator
    of the platform; otherwise the actor administers the organisation (``governance.administration``).
    """
    _require_token_administrator(actor, organisation.pk)
    if not organisation.is_police:
        raise ValidationFailed("API tokens are issued to police forces and units.", code="not_police")
    if user.organisation_id != organisation.pk:
        raise ValidationFailed(f"{user.username} is not a member of {organisation.short_name}.", code="user_not_member")
    if not user.has_role(Role.FORCE_SUBMITTER):
        raise ValidationFailed(f"{user.username} does not hold the force submitter role.", code="role_mismatch")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(f"A token lasts between 1 and {MAX_TOKEN_DAYS} days.", code="invalid_expiry")
    with transaction.atomic():
        knox_token, secret = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        entry = ApiToken.objects.create(
            digest=knox_token.digest,
            token_key=knox_token.token_key,
            organisation=organisation,
            user=user,
            label=label,
            issued_at=timezone.now(),
            issued_by_name=_name(actor),
            expires_at=knox_token.expiry,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="api_token.issued",
            actor=actor,
            target=entry,
            details={
                "organisation": organisation.short_name,
                "user": user.username,
                "token": entry.token_key,
                "expires_at": entry.expires_at.isoformat(),
            },
        )
    return entry, secret


def api_token_revoke(*, actor: User | None, entry: ApiToken, reason: str) -> ApiToken:
    """Revoke a token at once (knox's row is deleted); the register entry keeps who, when and why."""
    _require_token_administrator(actor, entry.organisation_id)
    if not reason.strip():
        raise ValidationFailed("Give a reason for revoking the token.", code="reason_required")
    with transaction.atomic():
        entry = lock_rows(ApiToken.objects).get(pk=entry.pk)
        if entry.revoked_at:
            raise StateConflict("This token is already revoked.", code="already_revoked")
        AuthToken.objects.filter(digest=entry.digest).delete()
        entry.revoked_at = timezone.now()
        entry.revoked_by_name = _name(actor)
        entry.revocation_reason = reason
        entry.save(update_fields=["revoked_at", "revoked_by_name", "revocation_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="api_token.revoked",
            actor=actor,
            target=entry,
            justification=reason,
            details={"organisation": entry.organisation.short_name, "token": entry.token_key},
        )
    return entry


def _record_use(auth_token: AuthToken) -> None:
    gate = f"api-token-used:{auth_token.digest[:32]}"
    if not cache.add(gate, 1, timeout=USE_RECORD_INTERVAL_S):
        return
    now = timezone.now()
    with transaction.atomic():
        entry = lock_rows(ApiToken.objects).filter(digest=auth_token.digest).first()
        if entry is None:
            return
        first = entry.last_used_at is None
        ApiToken.objects.filter(pk=entry.pk).update(last_used_at=now, use_count=F("use_count") + 1)
        if first:
            audit_record(
                action=AuditAction.CONSULTATION,
                event="api_token.first_used",
                actor=auth_token.user,
                target=entry,
                details={"organisation": entry.organisation.short_name, "token": entry.token_key},
            )


class RegisteredTokenAuthentication(TokenAuthentication):
    """knox authentication plus the register's use record (cheap; see the module docstring)."""

    def authenticate_credentials(self, token: bytes):
        """A token is printable ASCII (knox's are hex): bytes that do not decode, or a NUL or other
        control character (PostgreSQL refuses NUL in a query: a 500), are an invalid token — 401."""
        if not (token.isascii() and token.decode("ascii").isprintable()):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _record_use(result[1])
        return result


def request_token_key(request) -> str:
    auth = getattr(request, "auth", None)
    return getattr(auth, "token_key", "") or ""


class TokenRateThrottle(BaseThrottle):
    """Fixed-window request counter per token (or per signed-in user) in the shared cache."""

    def allow_request(self, request, view) -> bool:
        auth = getattr(request, "auth", None)
        if getattr(auth, "digest", None):
            ident = f"token:{auth.digest[:32]}"
        elif getattr(request.user, "is_authenticated", False):
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        allowed, self._wait = rate_hit(ident, settings.OVERSIGHT_API_RATE_LIMIT)
        return allowed

    def wait(self) -> float:
        return max(1.0, getattr(self, "_wait", 1.0))


try:  # the OpenAPI schema names the token scheme (drf-spectacular's knox support only matches knox's own class)
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class RegisteredTokenScheme(OpenApiAuthenticationExtension):
        target_class = "governance.api.tokens.RegisteredTokenAuthentication"
        name = "apiToken"

        def get_security_definition(self, auto_schema):
            return {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": 'A force or unit API token: "Authorization: Token <secret>", the secret being 64 '
                "hexadecimal characters shown once when it is issued (manage.py issue_api_token). "
                'In "Authorize", enter the whole value, "Token 9f3c…".',
            }
except ImportError:  # pragma: no cover
    pass
