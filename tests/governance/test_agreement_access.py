"""Who sees which agreements, through the web pages and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.agreements import services
from governance.audit.models import AuditEvent
from tests.conftest import agreement_terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def btp_agreement(cast):
    return services.agreement_draft(actor=cast.btp_dpo, fields=agreement_terms(cast, supplying_organisation=cast.btp))


def login(client, user, cast):
    assert client.login(username=user.username, password=cast.password)
    return client


def test_anonymous_is_sent_to_sign_in(client, active_agreement):
    for url in (
        reverse("dashboard"),
        reverse("agreement-list"),
        reverse("agreement-detail", args=[active_agreement.pk]),
        reverse("audit-log"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_anonymous_api_is_401(client, active_agreement):
    assert client.get("/api/v1/agreements/").status_code == 401
    body = client.get(f"/api/v1/agreements/{active_agreement.pk}/").json()
    assert body["error"]["code"] == "not_authenticated"


def test_another_organisations_agreement_is_404(client, cast, active_agreement, btp_agreement):
    login(client, cast.other_dpo, cast)
    assert client.get(reverse("agreement-detail", args=[active_agreement.pk])).status_code == 404
    assert client.get(f"/api/v1/agreements/{active_agreement.pk}/").status_code == 404
    assert client.get("/api/v1/agreements/").json()["count"] == 0
    # Same answer as for an agreement that does not exist at all.
    assert client.get(reverse("agreement-detail", args=[999999])).status_code == 404


def test_force_sees_its_units_agreements_but_not_other_forces(client, cast, active_agreement, btp_agreement):
    login(client, cast.met_dpo, cast)
    refs = {a["reference"] for a in client.get("/api/v1/agreements/").json()["results"]}
    assert refs == {active_agreement.reference}
    response = client.get(reverse("agreement-list"))
    assert active_agreement.reference in response.content.decode()
    assert btp_agreement.reference not in response.content.decode()


def test_regulator_reads_every_register_entry_but_cannot_change_any(client, cast, active_agreement, btp_agreement):
    login(client, cast.regulator, cast)
    refs = {a["reference"] for a in client.get("/api/v1/agreements/").json()["results"]}
    assert refs == {active_agreement.reference, btp_agreement.reference}
    assert client.get(reverse("agreement-detail", args=[btp_agreement.pk])).status_code == 200
    # Attempted edits through the pages are refused and change nothing.
    response = client.post(
        reverse("agreement-action", args=[active_agreement.pk]), {"action": "terminate", "reason": "x"}, follow=True
    )
    active_agreement.refresh_from_db()
    assert active_agreement.status == "active"
    assert "does not allow" in response.content.decode()
    assert client.get(reverse("agreement-create")).status_code == 403
    assert client.get(reverse("agreement-edit", args=[btp_agreement.pk])).status_code == 403


def test_regulator_cannot_edit_a_draft(client, cast, btp_agreement):
    login(client, cast.regulator, cast)
    response = client.post(
        reverse("agreement-edit", args=[btp_agreement.pk]),
        agreement_terms(cast)
        | {"supplying_organisation": cast.btp.pk, "receiving_organisation": cast.estate.pk, "max_images": 99},
    )
    btp_agreement.refresh_from_db()
    assert btp_agreement.max_images == 20
    assert response.status_code == 403


def test_dpo_walks_the_lifecycle_through_the_pages(client, cast, submitted_agreement):
    login(client, cast.met_dpo, cast)
    response = client.post(
        reverse("agreement-action", args=[submitted_agreement.pk]), {"action": "approve"}, follow=True
    )
    assert "Approved" in response.content.decode()
    submitted_agreement.refresh_from_db()
    assert submitted_agreement.status == "active"
    page = client.get(reverse("agreement-detail", args=[submitted_agreement.pk])).content.decode()
    assert "agreement.approved" in page and "agreement.activated" in page


def test_unit_dpo_sees_refusal_message_not_an_error_page(client, cast, submitted_agreement):
    login(client, cast.camden_dpo, cast)
    response = client.post(
        reverse("agreement-action", args=[submitted_agreement.pk]), {"action": "approve"}, follow=True
    )
    assert response.status_code == 200
    assert "above local level" in response.content.decode()


def test_audit_log_search_requires_justification_and_is_itself_audited(client, cast, active_agreement):
    login(client, cast.estate_dpo, cast)
    response = client.post(reverse("audit-log"), {"text": "agreement"})
    assert "Say why" in response.content.decode()
    before = AuditEvent.objects.count()
    # The justification never travels in a URL: a GET carrying one searches nothing and records nothing.
    response = client.get(reverse("audit-log"), {"text": "agreement", "justification": "Quarterly self-monitoring"})
    assert 'method="post"' in response.content.decode() and "agreement.approved" not in response.content.decode()
    assert AuditEvent.objects.count() == before
    response = client.post(reverse("audit-log"), {"text": "agreement", "justification": "Quarterly self-monitoring"})
    assert "agreement.approved" in response.content.decode()
    consult = AuditEvent.objects.order_by("-sequence").first()
    assert AuditEvent.objects.count() == before + 1
    assert (consult.event, consult.action, consult.justification) == (
        "audit_log.searched",
        "consultation",
        "Quarterly self-monitoring",
    )
    csv_response = client.post(reverse("audit-log"), {"justification": "Export for the regulator", "format": "csv"})
    body = b"".join(csv_response.streaming_content).decode()
    assert body.splitlines()[0].startswith("sequence,occurred_at,action")
    assert AuditEvent.objects.order_by("-sequence").first().event == "audit_log.exported"


def test_reviewer_cannot_read_the_audit_log(client, cast):
    login(client, cast.estate_reviewer, cast)
    assert client.get(reverse("audit-log")).status_code == 403


def test_deleting_an_agreement_removes_its_object_permissions(cast, btp_agreement):
    from governance.agreements.models import AgreementGroupObjectPermission

    assert AgreementGroupObjectPermission.objects.filter(content_object=btp_agreement).exists()
    pk = btp_agreement.pk
    btp_agreement.delete()
    assert not AgreementGroupObjectPermission.objects.filter(content_object_id=pk).exists()


def test_units_read_their_forces_agreements_but_cannot_act_on_them(client, cast):
    from governance.errors import PermissionRefused
    from governance.organisations.models import OrganisationKind
    from governance.organisations.services import organisation_create

    force_agreement = services.agreement_draft(
        actor=cast.met_dpo, fields=agreement_terms(cast, supplying_organisation=cast.met)
    )
    login(client, cast.camden_dpo, cast)
    assert client.get(f"/api/v1/agreements/{force_agreement.pk}/").status_code == 200
    with pytest.raises(PermissionRefused):
        services.agreement_submit(actor=cast.camden_dpo, agreement=force_agreement)
    # A unit created later reads the force's existing agreements too; another force's unit does not.
    islington = organisation_create(
        actor=None,
        name="Met Islington BCU",
        short_name="met-islington",
        kind=OrganisationKind.POLICE_UNIT,
        parent=cast.met,
    )
    assert islington.access_group.agreementgroupobjectpermission_set.filter(content_object=force_agreement).exists()
    btp_unit = organisation_create(
        actor=None, name="BTP London", short_name="btp-london", kind=OrganisationKind.POLICE_UNIT, parent=cast.btp
    )
    assert not btp_unit.access_group.agreementgroupobjectpermission_set.exists()
