"""Organisations, users and their roles. Every change is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import ValidationFailed
from governance.organisations.models import Organisation, OrganisationKind, User
from governance.organisations.roles import REGULATORS_GROUP_NAME, Role, role_groups_sync


def organisation_create(
    *,
    actor: User | None,
    name: str,
    short_name: str,
    kind: OrganisationKind | str,
    parent: Organisation | None = None,
    contact_email: str = "",
) -> Organisation:
    """Create an organisation and the access group its members share."""
    if kind == OrganisationKind.POLICE_UNIT and (parent is None or parent.kind != OrganisationKind.POLICE_FORCE):
        raise ValidationFailed("A police unit must belong to a police force.", code="unit_needs_force")
    if kind != OrganisationKind.POLICE_UNIT and parent is not None:
        raise ValidationFailed("Only police units have a parent organisation.", code="unexpected_parent")
    with transaction.atomic():
        group = Group.objects.create(name=f"org:{short_name}")
        organisation = Organisation(
            name=name, short_name=short_name, kind=kind, parent=parent, access_group=group, contact_email=contact_email
        )
        organisation.full_clean()
        organisation.save()
        if organisation.kind == OrganisationKind.POLICE_UNIT:
            from governance.agreements.services import agreements_grant_to_new_unit

            agreements_grant_to_new_unit(unit=organisation)
        audit_record(
            action=AuditAction.COLLECTION,
            event="organisation.created",
            actor=actor,
            target=organisation,
            details={"kind": str(kind), "parent": parent.short_name if parent else None},
        )
    return organisation


def role_refusal(*, role: Role, organisation: Organisation) -> ValidationFailed | None:
    """Whether a role fits an organisation (``None``: it does). One rule for creating accounts and
    for an administrator giving a role: police roles are police, the regulator role a regulator's."""
    if role == Role.REGULATOR and organisation.kind != OrganisationKind.REGULATOR:
        return ValidationFailed("Only members of a regulator can hold the regulator role.", code="role_mismatch")
    if role == Role.AUTHORISING_OFFICER and organisation.kind != OrganisationKind.POLICE_FORCE:
        # APP: the Authorising Officer is a senior officer of the force (a unit's deployments are
        # authorised at force level, like its agreements).
        return ValidationFailed(
            "Only members of a police force can hold the Authorising Officer role.",
            code="authorising_officer_not_force",
        )
    if role in {Role.POLICE_REVIEWER, Role.FORCE_SUBMITTER} and not organisation.is_police:
        return ValidationFailed("Police roles belong to members of a police force or unit.", code="role_mismatch")
    return None


def role_groups(roles: Iterable[Role]) -> list[Group]:
    """The groups that carry these roles (the regulator role also joins every regulator's group)."""
    roles = list(roles)
    groups = list(Group.objects.filter(name__in=[r.group_name for r in roles]))
    if Role.REGULATOR in roles:
        groups.append(Group.objects.get(name=REGULATORS_GROUP_NAME))
    return groups


def user_create(
    *,
    actor: User | None,
    username: str,
    organisation: Organisation,
    roles: Iterable[Role],
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    job_title: str = "",
    rank: str = "",
) -> User:
    """Create a user in an organisation with the given roles.

    Roles must fit the organisation: police reviewers and force submitters are police, regulator
    read-only users belong to a regulator.
    """
    roles = list(roles)
    for role in roles:
        refusal = role_refusal(role=role, organisation=organisation)
        if refusal is not None:
            raise refusal
    if rank and not organisation.is_police:
        raise ValidationFailed("Only police officers have a rank.", code="rank_not_police")
    with transaction.atomic():
        role_groups_sync()
        user = User(
            username=username,
            organisation=organisation,
            first_name=first_name,
            last_name=last_name,
            email=email,
            job_title=job_title,
            rank=rank,
            # Not Django staff unless the installation's operator says so (issue 26).
            is_staff=Role.ADMIN in roles and bool(getattr(settings, "OVERSIGHT_ADMINISTRATORS_ARE_STAFF", False)),
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as error:  # e.g. a username taken: said on the field, in words
            raise ValidationFailed("The account is not valid.", details=error.message_dict) from error
        user.save()
        user.groups.set([organisation.access_group, *role_groups(roles)])
        audit_record(
            action=AuditAction.COLLECTION,
            event="user.created",
            actor=actor,
            target=user,
            details={"organisation": organisation.short_name, "roles": [r.value for r in roles], "rank": rank or None},
        )
    return user
