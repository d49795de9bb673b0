"""Who may give a role that reads personal data (issue 26: no self-granted access).

An organisation's administrator gave itself the DPO role in one request and downloaded a watchlist
image: no second person, and the only trace an event whose actor and target were the same.

The rule chosen: a role that reads personal data — data protection officer, reviewer, police
reviewer, force submitter (and the Authorising Officer role where one exists) — is **never given
to oneself**, by any administrator (refused, ``own_personal_data_role``); given to *another*
account by one of its organisation's administrators, it takes effect at once and is audited as a
role change naming the actor and the approver (the administrator who approved it, never the
account that receives it). Two people are therefore always involved — the administrator who grants
and the person who holds the role — and both are on the record. A pending second-administrator
approval was not chosen: many units have a single administrator, and such a queue would leave them
unable to staff a DPO without the platform's operator, for no gain over refusing the one
grant nobody else witnesses (the self-grant).

Organisation administrators are not Django staff (the admin site is the installation's, not an
organisation's) unless the installation's operator sets ``OVERSIGHT_ADMINISTRATORS_ARE_STAFF``.
"""

from __future__ import annotations

from django.conf import settings

from governance.errors import PermissionRefused
from governance.organisations.models import User
from governance.organisations.roles import Role

# Every role but the regulator's read-only one and the administrator's reads personal data; a
# role added later (the Authorising Officer's) is covered unless it is listed as not reading any.
ROLES_WITHOUT_PERSONAL_DATA = frozenset({Role.ADMIN, Role.REGULATOR})


def reads_personal_data(role: Role) -> bool:
    return role not in ROLES_WITHOUT_PERSONAL_DATA


def role_grant_refusal(*, actor: User | None, user: User, role: Role) -> PermissionRefused | None:
    """The refusal for ``actor`` giving ``role`` to ``user``, or None. ``actor`` None is the
    installation's operator (a management command)."""
    if actor is not None and actor.pk == user.pk and reads_personal_data(role):
        return PermissionRefused(
            f"You cannot give yourself the role {role.label}: it reads personal data. "
            "Another administrator of your organisation can give it to you.",
            code="own_personal_data_role",
        )
    return None


def grant_record(*, actor: User | None, role: Role) -> dict:
    """The audit details of a role change: the role, who did it and who approved it."""
    name = (actor.get_full_name() or actor.get_username()) if actor else "installation operator"
    return {
        "role": role.value,
        "reads_personal_data": reads_personal_data(role),
        "actor": actor.pk if actor else None,
        "approver": actor.pk if actor else None,
        "approver_name": name,
    }


def administrators_are_staff() -> bool:
    return bool(getattr(settings, "OVERSIGHT_ADMINISTRATORS_ARE_STAFF", False))
