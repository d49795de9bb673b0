"""Who administers what: one organisation's accounts, roles, API tokens and cameras.

An administrator administers their own organisation. A **force's** administrator also administers
its **units** (``answerable_ids``): a unit such as a borough command unit is part of the force, not
a separate body — the chief officer is the controller for both, the force answers for its units'
records in the audit log, and a unit often has no administrator of its own. A unit's administrator
administers only that unit (never the force or a sibling unit); an operator's or a regulator's,
only their own organisation.

The same shape as ``governance.access``: one ``<entity>_for(actor, pk)`` per kind, raising
``NotFound`` alike for a missing record and another organisation's; a role that administers
nothing gets ``PermissionRefused`` (403) whatever the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from governance.access import _organisation, answerable_ids, page_predicate_register, role_allows
from governance.api.models import ApiToken
from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import Organisation, OrganisationKind, User

ADMINISTER = "governance.administer_organisation"


def can_administer(actor: Any) -> bool:
    return role_allows(actor, ADMINISTER)


def administration_require(actor: Any) -> None:
    if not can_administer(actor):
        raise PermissionRefused("Only an administrator manages accounts, API tokens and cameras.")


def administered_organisation_ids(actor: Any) -> frozenset[int]:
    """The organisations whose accounts, tokens and cameras the actor administers (none: not an administrator)."""
    if not can_administer(actor):
        return frozenset()
    return answerable_ids(_organisation(actor))


def administers(actor: Any, organisation_id: int | None) -> bool:
    return organisation_id is not None and organisation_id in administered_organisation_ids(actor)


@dataclass(frozen=True)
class AdministrationScope:
    organisation: Organisation
    units: list[Organisation]
    explanation: str

    @property
    def organisations(self) -> list[Organisation]:
        return [self.organisation, *self.units]


def administration_scope(actor: Any) -> AdministrationScope:
    """What the administration page says about its own reach, in words."""
    administration_require(actor)
    organisation = actor.organisation
    units = list(Organisation.objects.filter(pk__in=administered_organisation_ids(actor) - {organisation.pk}))
    if organisation.kind == OrganisationKind.POLICE_FORCE:
        explanation = (
            f"You administer {organisation} and its units ({', '.join(u.name for u in units) or 'none yet'}). "
            "A unit is part of the force, not a separate body: the force is the controller for both and "
            "answers for its units' records, so the force's administrators look after the units' accounts too."
        )
    elif organisation.kind == OrganisationKind.POLICE_UNIT:
        explanation = (
            f"You administer {organisation} only. {organisation.parent}'s own accounts, and other units', are "
            "administered by the force."
        )
    else:
        explanation = f"You administer {organisation} only."
    return AdministrationScope(organisation=organisation, units=units, explanation=explanation)


# --- accounts -------------------------------------------------------------------------------------


def users_administered_by(actor: Any) -> QuerySet[User]:
    return (
        User.objects.filter(organisation_id__in=administered_organisation_ids(actor))
        .select_related("organisation")
        .prefetch_related("groups")
        .order_by("organisation__name", "username")
    )


def managed_user_for(actor: Any, pk: Any) -> User:
    administration_require(actor)
    try:
        return users_administered_by(actor).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such account.") from None


def administered_organisation_for(actor: Any, pk: Any) -> Organisation:
    administration_require(actor)
    try:
        return Organisation.objects.get(pk=pk, pk__in=administered_organisation_ids(actor))
    except (Organisation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such organisation.") from None


# --- API tokens -----------------------------------------------------------------------------------


def api_tokens_administered_by(actor: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(organisation_id__in=administered_organisation_ids(actor)).select_related(
        "organisation", "user"
    )


def api_token_for(actor: Any, pk: Any) -> ApiToken:
    administration_require(actor)
    try:
        return api_tokens_administered_by(actor).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such API token.") from None


page_predicate_register("administer", can_administer)
