"""Self-service administration: invitations, roles, deactivation and API tokens, each scoped to the
administrator's organisation (a force's: its units too) and audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.administration import services
from governance.administration.access import administered_organisation_ids, users_administered_by
from governance.administration.models import Invitation
from governance.api.models import ApiToken
from governance.api.tokens import api_token_issue, api_token_revoke
from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.organisations.models import User
from governance.organisations.roles import Role
from governance.organisations.services import user_create
from tests.recognition.deployments.conftest import People

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-for-tests-7"


@pytest.fixture
def admins(cast):
    def admin(name, org):
        return user_create(actor=None, username=name, organisation=org, roles=[Role.ADMIN], password=cast.password)

    class Admins:
        estate = admin("admin.estate", cast.estate)
        other = admin("admin.other", cast.other_operator)
        met = admin("admin.met", cast.met)
        camden = admin("admin.camden", cast.camden)
        btp = admin("admin.btp", cast.btp)

    return Admins


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def events(name: str, **filters):
    return AuditEvent.objects.filter(event=name, **filters)


# --- scope --------------------------------------------------------------------------------------


def test_a_force_administers_its_units_and_a_unit_only_itself(cast, admins):
    assert administered_organisation_ids(admins.met) == {cast.met.pk, cast.camden.pk}
    assert administered_organisation_ids(admins.camden) == {cast.camden.pk}
    assert administered_organisation_ids(admins.estate) == {cast.estate.pk}
    assert administered_organisation_ids(cast.estate_dpo) == frozenset()  # a DPO administers nothing
    assert cast.camden_dpo in users_administered_by(admins.met)
    assert cast.met_dpo not in users_administered_by(admins.camden)


def test_the_page_says_whether_a_forces_units_are_included(cast, admins):
    page = signed_in(admins.met).get(reverse("administration-home")).content.decode()
    assert "and its units (Met Camden BCU)" in page and "dpo.camden" in page
    page = signed_in(admins.camden).get(reverse("administration-home")).content.decode()
    assert "You administer Met Camden BCU only" in page and "dpo.met" not in page


def test_another_organisations_accounts_are_not_found(cast, admins):
    estate = signed_in(admins.estate)
    home = estate.get(reverse("administration-home")).content.decode()
    assert "dpo.other" not in home and "dpo.estate" in home
    assert estate.get(reverse("administration-user", args=[cast.other_dpo.pk])).status_code == 404
    response = estate.post(
        reverse("administration-user-action", args=[cast.other_dpo.pk]), {"action": "deactivate", "reason": "x"}
    )
    assert response.status_code == 404
    cast.other_dpo.refresh_from_db()
    assert cast.other_dpo.is_active
    # A unit's administrator cannot reach the force's people.
    assert signed_in(admins.camden).get(reverse("administration-user", args=[cast.met_dpo.pk])).status_code == 404
    with pytest.raises(NotFound):
        services.user_role_assign(actor=admins.estate, user=cast.other_dpo, role=Role.REVIEWER)
    with pytest.raises(NotFound):
        services.user_invite(actor=admins.estate, organisation=cast.other_operator, username="x", roles=[Role.DPO])


def test_a_role_without_administration_gets_403(cast):
    client = signed_in(cast.estate_dpo)
    assert client.get(reverse("administration-home")).status_code == 403
    assert client.get(reverse("administration-user", args=[cast.estate_reviewer.pk])).status_code == 403
    with pytest.raises(PermissionRefused):
        services.user_role_assign(actor=cast.estate_dpo, user=cast.estate_reviewer, role=Role.DPO)


def test_another_organisations_tokens_are_not_found(cast, admins, people):
    entry, _ = api_token_issue(actor=admins.btp, organisation=cast.btp, user=people.btp_submitter)
    met = signed_in(admins.met)
    assert entry.token_key not in met.get(reverse("administration-home")).content.decode()
    response = met.post(reverse("administration-token-revoke", args=[entry.pk]), {"reason": "not ours"})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.revoked_at is None
    with pytest.raises(NotFound):
        api_token_revoke(actor=admins.met, entry=entry, reason="not ours")
    with pytest.raises(NotFound):
        api_token_issue(actor=admins.met, organisation=cast.btp, user=people.btp_submitter)
    with pytest.raises(PermissionRefused):
        api_token_issue(actor=cast.btp_dpo, organisation=cast.btp, user=people.btp_submitter)


# --- invitations -----------------------------------------------------------------------------------


def test_an_invitation_sets_a_password_once_and_is_audited(cast, admins):
    user, secret = services.user_invite(
        actor=admins.estate, organisation=cast.estate, username="new.reviewer", roles=[Role.REVIEWER]
    )
    assert not user.has_usable_password()
    assert secret not in str(list(AuditEvent.objects.values_list("details", flat=True)))  # never in the log
    assert Invitation.objects.get(user=user).digest != secret
    anonymous = Client()
    link = reverse("invitation-accept", args=[secret])
    url = reverse("invitation-accept", args=["set-password"])
    # The secret moves into the session at once: the page is shown at a URL without it.
    response = anonymous.get(link)
    assert response.status_code == 302 and response["Location"] == url
    assert anonymous.get(url).status_code == 200
    assert Client().get(url).status_code == 404  # without the link, nothing
    # Plain-words field errors: a short password, and two that differ.
    response = anonymous.post(url, {"password": "short", "password_again": "short"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    response = anonymous.post(url, {"password": PASSWORD, "password_again": PASSWORD + "x"})
    assert "The two passwords differ." in response.content.decode()
    response = anonymous.post(url, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # Single use: the link is spent.
    assert anonymous.get(link).status_code == 404
    assert anonymous.get(url).status_code == 404
    with pytest.raises(NotFound):
        services.invitation_accept(secret=secret, password="another-long-passphrase-8")
    assert events("user.created", target_id=str(user.pk), actor_username="admin.estate").exists()
    assert events("user.invited", target_id=str(user.pk), actor_username="admin.estate").exists()
    assert events("user.invitation_accepted", target_id=str(user.pk), actor_username="new.reviewer").exists()


def test_an_expired_or_replaced_invitation_does_not_work(cast, admins, settings):
    user, first = services.user_invite(
        actor=admins.estate, organisation=cast.estate, username="late.joiner", roles=[Role.REVIEWER]
    )
    second = services.invitation_issue(actor=admins.estate, user=user)
    assert services.invitation_for_secret(first) is None  # replaced
    Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    assert Client().get(reverse("invitation-accept", args=[second])).status_code == 404
    assert Client().get(reverse("invitation-accept", args=["inv_nonsense"])).status_code == 404


def test_an_invitation_with_a_taken_username_says_so_on_the_field(cast, admins):
    client = signed_in(admins.estate)
    response = client.post(
        reverse("administration-user-invite"),
        {"organisation": cast.estate.pk, "username": "dpo.estate", "roles": ["reviewer"]},
    )
    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()
    # Roles must fit the organisation (the rule account creation uses).
    response = client.post(
        reverse("administration-user-invite"),
        {"organisation": cast.estate.pk, "username": "not.police", "roles": ["police_reviewer"]},
    )
    assert "Police roles belong to members of a police force or unit." in response.content.decode()
    assert not User.objects.filter(username="not.police").exists()


# --- roles and deactivation ------------------------------------------------------------------------


def test_roles_are_given_and_taken_through_the_page_and_audited(cast, admins):
    client = signed_in(admins.estate)
    url = reverse("administration-user-action", args=[cast.estate_reviewer.pk])
    client.post(url, {"action": "assign_role", "role": "dpo"})
    assert cast.estate_reviewer.has_role(Role.DPO)
    client.post(url, {"action": "remove_role", "role": "reviewer"})
    assert not cast.estate_reviewer.has_role(Role.REVIEWER)
    assert events("user.role_assigned", target_id=str(cast.estate_reviewer.pk), details__role="dpo").exists()
    assert events("user.role_removed", target_id=str(cast.estate_reviewer.pk), details__role="reviewer").exists()
    with pytest.raises(ValidationFailed):
        services.user_role_assign(actor=admins.estate, user=cast.estate_reviewer, role=Role.POLICE_REVIEWER)
    with pytest.raises(StateConflict):
        services.user_role_remove(actor=admins.estate, user=admins.estate, role=Role.ADMIN)


def test_deactivation_stops_sign_in_and_revokes_the_accounts_tokens(cast, admins, people):
    entry, secret = api_token_issue(actor=admins.met, organisation=cast.camden, user=people.camden_submitter)
    assert Client().get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200
    session = signed_in(people.camden_submitter)
    services.user_deactivate(actor=admins.met, user=people.camden_submitter, reason="Left the force")
    entry.refresh_from_db()
    assert entry.revoked_at is not None
    assert Client().get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 401
    assert session.get(reverse("dashboard")).status_code == 302  # signed out: back to sign-in
    assert not Client().login(username="api.camden", password=cast.password)
    assert events("user.deactivated", target_id=str(people.camden_submitter.pk), justification="Left the force")
    with pytest.raises(StateConflict):
        services.user_deactivate(actor=admins.met, user=admins.met, reason="oops")


def test_the_token_commands_and_the_page_share_the_service(cast, admins, people):
    """An administrator issues a token from the page; revoke_api_token (the command) revokes it."""
    from django.core.management import call_command

    client = signed_in(admins.met)
    response = client.post(
        reverse("administration-token-issue"), {"user": people.camden_submitter.pk, "days": 30, "label": "custody"}
    )
    assert response.status_code == 302
    entry = ApiToken.objects.get(label="custody")
    page = client.get(reverse("administration-home")).content.decode()
    secret = page.split('id="secret-value">')[1].split("<")[0]
    assert entry.digest not in page and secret.startswith(entry.token_key)
    assert 'id="secret-value"' not in client.get(reverse("administration-home")).content.decode()  # once
    assert events("api_token.issued", target_id=str(entry.pk), actor_username="admin.met").exists()
    call_command("revoke_api_token", token_key=entry.token_key, reason="rotated")
    assert Client().get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 401


@pytest.fixture
def people(cast) -> People:
    return People(cast)
