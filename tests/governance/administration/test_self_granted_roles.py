"""No self-granted access (issue 26): an organisation's administrator gave itself the DPO role in one
request and then downloaded a watchlist image. A role that reads personal data is never given to
oneself; given to another it is audited with actor and approver; administrators are not Django
staff unless the installation's operator says so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.administration import services
from governance.errors import PermissionRefused
from governance.organisations.roles import Role
from governance.organisations.services import user_create
from tests.governance.administration.test_administration import admins, events, signed_in  # noqa: F401

pytestmark = pytest.mark.django_db

PERSONAL_DATA_ROLES = [Role.DPO, Role.REVIEWER, Role.POLICE_REVIEWER, Role.FORCE_SUBMITTER]


@pytest.mark.parametrize("role", PERSONAL_DATA_ROLES, ids=lambda r: r.value)
def test_an_administrator_cannot_give_itself_a_role_that_reads_personal_data(cast, admins, role):  # noqa: F811
    admin = admins.met if role in (Role.POLICE_REVIEWER, Role.FORCE_SUBMITTER) else admins.estate
    with pytest.raises(PermissionRefused) as refused:
        services.user_role_assign(actor=admin, user=admin, role=role)
    assert refused.value.code == "own_personal_data_role"
    admin.refresh_from_db()
    assert not admin.has_role(role)
    assert not events("user.role_assigned", target_id=str(admin.pk)).exists()


def test_the_page_refuses_the_self_grant_and_nothing_is_downloaded(cast, admins):  # noqa: F811
    client = signed_in(admins.estate)
    response = client.post(
        reverse("administration-user-action", args=[admins.estate.pk]), {"action": "assign_role", "role": "dpo"}
    )
    assert response.status_code in (302, 403)
    admins.estate.refresh_from_db()
    assert not admins.estate.has_role(Role.DPO)


def test_a_role_given_to_another_is_audited_with_actor_and_approver(cast, admins):  # noqa: F811
    services.user_role_assign(actor=admins.estate, user=cast.estate_reviewer, role=Role.DPO)
    [event] = events("user.role_assigned", target_id=str(cast.estate_reviewer.pk))
    assert event.actor_id == admins.estate.pk
    assert event.details["approver"] == admins.estate.pk != cast.estate_reviewer.pk
    assert event.details["reads_personal_data"] is True and event.details["role"] == "dpo"


def test_administrators_are_not_django_staff_unless_the_installation_says_so(cast, admins, settings):  # noqa: F811
    assert not admins.estate.is_staff
    assert signed_in(admins.estate).get("/admin/").status_code == 302
    services.user_role_assign(actor=admins.met, user=cast.met_dpo, role=Role.ADMIN)
    cast.met_dpo.refresh_from_db()
    assert not cast.met_dpo.is_staff
    settings.OVERSIGHT_ADMINISTRATORS_ARE_STAFF = True
    operator_admin = user_create(
        actor=None, username="admin.staffed", organisation=cast.estate, roles=[Role.ADMIN], password=cast.password
    )
    assert operator_admin.is_staff
