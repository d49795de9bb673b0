"""Administration services: invitations, roles, deactivation. Each checks that the actor administers
the account's organisation (``access``), changes state, and writes its audit event in the same
transaction. API tokens are issued and revoked by ``governance.api.tokens`` (the same services the
``issue_api_token`` / ``revoke_api_token`` commands call), which apply the same scope.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.administration.access import administers, administration_require
from governance.administration.grants import administrators_are_staff, grant_record, role_grant_refusal
from governance.administration.models import Invitation
from governance.api.models import ApiToken
from governance.api.tokens import api_token_revoke
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import NotFound, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from governance.organisations.roles import Role
from governance.organisations.services import role_groups, role_refusal, user_create

INVITATION_PREFIX = "inv_"


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_administers(actor: User, organisation_id: int | None) -> None:
    administration_require(actor)
    if not administers(actor, organisation_id):
        raise NotFound("No such account.")


# --- invitations ------------------------------------------------------------------------------------


def invitation_issue(*, actor: User, user: User) -> str:
    """A fresh invitation link secret for an account that has not set a password yet (earlier pending
    invitations are withdrawn, so only the newest link works). Returns the secret once."""
    _require_administers(actor, user.organisation_id)
    if user.has_usable_password():
        raise StateConflict("This person has already set a password.", code="already_accepted")
    if not user.is_active:
        raise StateConflict("The account is deactivated; reactivate it first.", code="account_inactive")
    secret = INVITATION_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(
            withdrawn_at=now
        )
        invitation = Invitation.objects.create(
            user=user,
            digest=_digest(secret),
            created_at=now,
            invited_by_name=_name(actor),
            expires_at=now + timedelta(hours=settings.OVERSIGHT_INVITATION_HOURS),
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="user.invited",
            actor=actor,
            target=user,
            details={"expires_at": invitation.expires_at.isoformat(), "email": bool(user.email)},
        )
    return secret


def user_invite(
    *,
    actor: User,
    organisation: Organisation,
    username: str,
    roles: Iterable[Role],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    job_title: str = "",
) -> tuple[User, str]:
    """Create an account without a password in an organisation the actor administers, and an
    invitation to set one. Returns (user, invitation secret); the secret is shown once."""
    _require_administers(actor, organisation.pk)
    roles = list(roles)
    if not roles:
        raise ValidationFailed(
            "Give the person at least one role.", code="role_required", details={"roles": ["Choose at least one role."]}
        )
    with transaction.atomic():
        user = user_create(
            actor=actor,
            username=username.strip(),
            organisation=organisation,
            roles=roles,
            email=email.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            job_title=job_title.strip(),
        )
        secret = invitation_issue(actor=actor, user=user)
    return user, secret


def invitation_for_secret(secret: str) -> Invitation | None:
    """The pending invitation this secret opens (``None``: unknown, used, withdrawn or expired)."""
    if not secret.startswith(INVITATION_PREFIX) or len(secret) > 100:
        return None
    invitation = Invitation.objects.select_related("user").filter(digest=_digest(secret)).first()
    if invitation is None or not invitation.is_pending or not invitation.user.is_active:
        return None
    return invitation


def invitation_accept(*, secret: str, password: str) -> User:
    """Set the invited account's first password. Single use: the invitation is spent in the same
    transaction (a second request with the link finds nothing). The password meets the same
    validators as every password (``AUTH_PASSWORD_VALIDATORS``)."""
    with transaction.atomic():
        invitation = invitation_for_secret(secret)
        if invitation is not None:
            invitation = lock_rows(Invitation.objects).select_related("user").get(pk=invitation.pk)
        if invitation is None or not invitation.is_pending:
            raise NotFound(
                "This invitation link is not valid: it was used, withdrawn or has expired. Ask your administrator "
                "for a new one.",
                code="invitation_invalid",
            )
        user = invitation.user
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(
                "Choose another password.", code="password_rejected", details={"password": list(error.messages)}
            ) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(action=AuditAction.AUTHENTICATION, event="user.invitation_accepted", actor=user, target=user)
    return user


# --- roles and accounts -------------------------------------------------------------------------------


def _user_roles(user: User) -> set[Role]:
    names = set(user.groups.values_list("name", flat=True))
    return {role for role in Role if role.group_name in names}


def user_role_assign(*, actor: User, user: User, role: Role) -> User:
    _require_administers(actor, user.organisation_id)
    refusal = role_refusal(role=role, organisation=user.organisation) or role_grant_refusal(
        actor=actor, user=user, role=role
    )
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        user = lock_rows(User.objects).get(pk=user.pk)
        if role in _user_roles(user):
            return user
        user.groups.add(*role_groups([role]))
        if role == Role.ADMIN and not user.is_staff and administrators_are_staff():
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="user.role_assigned",
            actor=actor,
            target=user,
            details=grant_record(actor=actor, role=role),
        )
    return user


def user_role_remove(*, actor: User, user: User, role: Role) -> User:
    _require_administers(actor, user.organisation_id)
    if role == Role.ADMIN and user.pk == actor.pk:
        raise StateConflict(
            "You cannot remove your own administrator role; another administrator can.", code="own_admin_role"
        )
    with transaction.atomic():
        user = lock_rows(User.objects).get(pk=user.pk)
        if role not in _user_roles(user):
            return user
        user.groups.remove(*role_groups([role]))
        if role == Role.ADMIN and user.is_staff and not user.is_superuser:
            user.is_staff = False
            user.save(update_fields=["is_staff"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="user.role_removed",
            actor=actor,
            target=user,
            details=grant_record(actor=actor, role=role),
        )
    return user


def user_deactivate(*, actor: User, user: User, reason: str) -> User:
    """Deactivate an account: it can no longer sign in (its sessions stop working on their next
    request), its live API tokens are revoked and its pending invitations withdrawn. The account
    and its history stay (audit events name it)."""
    _require_administers(actor, user.organisation_id)
    if not reason.strip():
        raise ValidationFailed(
            "Say why the account is deactivated.", code="reason_required", details={"reason": ["Give a reason."]}
        )
    if user.pk == actor.pk:
        raise StateConflict("You cannot deactivate your own account.", code="own_account")
    with transaction.atomic():
        user = lock_rows(User.objects).get(pk=user.pk)
        if not user.is_active:
            raise StateConflict("The account is already deactivated.", code="already_inactive")
        user.is_active = False
        user.save(update_fields=["is_active"])
        Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now()
        )
        revoked = []
        for entry in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
            api_token_revoke(actor=actor, entry=entry, reason=f"Account deactivated: {reason.strip()}")
            revoked.append(entry.token_key)
        audit_record(
            action=AuditAction.ALTERATION,
            event="user.deactivated",
            actor=actor,
            target=user,
            justification=reason.strip(),
            details={"tokens_revoked": revoked},
        )
    return user


def user_reactivate(*, actor: User, user: User) -> User:
    _require_administers(actor, user.organisation_id)
    with transaction.atomic():
        user = lock_rows(User.objects).get(pk=user.pk)
        if user.is_active:
            raise StateConflict("The account is active.", code="already_active")
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(action=AuditAction.ALTERATION, event="user.reactivated", actor=actor, target=user)
    return user
