"""Scope follows supply: the unit that supplied an image is inside its review and disclosure loop,
and another force supplying the same deployment never sees it (issue 10, findings 1 and 2)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse

from governance.agreements import services as agreements
from governance.errors import NotFound, PermissionRefused
from governance.organisations.roles import Role
from governance.organisations.services import organisation_create, user_create
from recognition.deployments import access
from recognition.deployments.models import AlertStatus, DisclosureChannel
from recognition.deployments.services.cameras import camera_add
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.planning import deployment_plan, watchlist_review_record
from recognition.deployments.services.review import alert_review
from tests.conftest import agreement_terms, approved_dpia, approved_policy, signed_pdf
from tests.factories import compose_watchlist
from tests.recognition.deployments.conftest import deployment_fields, enrolled_image_row, go_live, raise_alert
from tests.recognition.deployments.review_helpers import confirm, reference_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Pages that show personal data are asked with a purpose (s.62, issue 22), as the purpose form would set it."""
    from django.test import Client

    return Client(HTTP_X_OVERSIGHT_PURPOSE="Reviewing and disclosing alerts")


@pytest.fixture
def btp_agreement(cast):
    agreement = agreements.agreement_draft(
        actor=cast.estate_dpo, fields=agreement_terms(cast, title="BTP sharing", supplying_organisation=cast.btp)
    )
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=date.today() - timedelta(days=3),
        reference="BSCC-2",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.btp_dpo)
    return agreements.agreement_approve(actor=cast.btp_dpo, agreement=agreement)


class TwoForces:
    def __init__(self, cast, people, camden_agreement, btp_agreement):
        self.deployment = deployment_plan(
            actor=cast.estate_dpo, agreements=[camden_agreement, btp_agreement], fields=deployment_fields(cast)
        )
        camera_add(
            actor=cast.estate_dpo, deployment=self.deployment, name="GS-1", location="North steps", direction="South"
        )
        self.camden_image = enrolled_image_row(camden_agreement, cast.camden, subject="MET-W-0001")
        self.btp_image = enrolled_image_row(btp_agreement, cast.btp, subject="BTP-W-0001")
        go_live(cast, self.deployment)
        self.deployment.refresh_from_db()
        self.camden_alert = raise_alert(self.deployment, self.camden_image)
        self.btp_alert = raise_alert(self.deployment, self.btp_image)
        self.btp_reviewer = user_create(
            actor=None,
            username="reviewer.btp",
            organisation=cast.btp,
            roles=[Role.POLICE_REVIEWER],
            password=cast.password,
        )


@pytest.fixture
def two(cast, people, active_agreement, btp_agreement) -> TwoForces:
    return TwoForces(cast, people, active_agreement, btp_agreement)


def _queue(client, user) -> list[int]:
    client.force_login(user)
    return [row["id"] for row in json.loads(client.get(reverse("review-queue-json")).content)["alerts"]]


def test_the_supplying_unit_sees_the_deployment_its_alerts_and_the_queue(client, cast, people, two):
    for user in (people.police_reviewer, cast.camden_dpo):
        assert access.deployment_for(user, two.deployment.pk) == two.deployment
        assert access.alert_for(user, two.camden_alert.pk) == two.camden_alert
        client.force_login(user)
        assert client.get(reverse("alert-detail", args=[two.camden_alert.pk])).status_code == 200
        assert client.get(reverse("deployment-detail", args=[two.deployment.pk])).status_code == 200
    assert _queue(client, people.police_reviewer) == [two.camden_alert.pk]
    # The force sees what its unit supplied (a unit created later is covered the same way).
    assert access.alert_for(cast.met_dpo, two.camden_alert.pk) == two.camden_alert
    westminster = organisation_create(
        actor=None, name="Met Westminster BCU", short_name="met-westminster", kind="police_unit", parent=cast.met
    )
    sibling = user_create(
        actor=None,
        username="reviewer.westminster",
        organisation=westminster,
        roles=[Role.POLICE_REVIEWER],
        password=cast.password,
    )
    with pytest.raises(NotFound):  # a sibling unit supplied nothing of it
        access.alert_for(sibling, two.camden_alert.pk)


def test_another_force_never_sees_or_reviews_an_alert_on_images_it_did_not_supply(client, cast, people, two):
    for user in (two.btp_reviewer, cast.btp_dpo):
        with pytest.raises(NotFound):
            access.alert_for(user, two.camden_alert.pk)
        client.force_login(user)
        assert client.get(reverse("alert-detail", args=[two.camden_alert.pk])).status_code == 404
    for user in (people.police_reviewer, cast.camden_dpo, cast.met_dpo):
        with pytest.raises(NotFound):
            access.alert_for(user, two.btp_alert.pk)
    assert _queue(client, two.btp_reviewer) == [two.btp_alert.pk]
    assert set(_queue(client, people.reviewer_a)) == {two.camden_alert.pk, two.btp_alert.pk}
    with pytest.raises(NotFound):
        alert_review(actor=two.btp_reviewer, alert=two.camden_alert, decision="confirm")
    # The operator discloses only to the supplier of the matched image (or its force).
    assert {o.pk for o in access.disclosure_recipients(two.camden_alert)} == {cast.camden.pk, cast.met.pk}
    assert {o.pk for o in access.disclosure_recipients(two.btp_alert)} == {cast.btp.pk}


def test_the_london_loop_closes_police_reviewer_confirms_dpo_discloses_unit_token_reports(client, cast, people, two):
    alert = two.camden_alert
    confirm(people.reviewer_a, alert)
    with pytest.raises(PermissionRefused) as refused:  # the agreement requires a police reviewer
        confirm(people.reviewer_b, alert)
    assert refused.value.code == "police_reviewer_required"
    client.force_login(people.police_reviewer)
    reference_picture(alert.watchlist_image)
    for image in ("alert-crop-image", "alert-reference-image"):  # what the page's two <img> fetch
        assert client.get(reverse(image, args=[alert.pk])).status_code == 200
    response = client.post(reverse("alert-review", args=[alert.pk]), {"decision": "confirm", "notes": "Same person."})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CONFIRMED

    client.force_login(cast.estate_dpo)
    response = client.post(
        reverse("alert-disclose", args=[alert.pk]),
        {
            "recipient_organisation": cast.camden.pk,
            "recipient": "Camden LFR desk (CJSM)",
            "channel": DisclosureChannel.CJSM_EMAIL,
            "justification": "Confirmed match of a person wanted on warrant.",
        },
    )
    assert response.status_code == 302
    disclosure = alert.disclosures.get()

    from governance.api.tokens import api_token_issue

    _, secret = api_token_issue(actor=None, organisation=cast.camden, user=people.camden_submitter)
    api = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    listed = client.get(reverse("api-disclosure-list"), **api)
    assert [d["id"] for d in listed.json()["results"]] == [disclosure.pk]
    reported = client.post(
        reverse("api-disclosure-outcome", args=[disclosure.pk]),
        data={"outcome": "arrested", "notes": "Arrested on warrant."},
        content_type="application/json",
        **api,
    )
    assert reported.status_code == 200 and reported.json()["outcome"] == "arrested"
    # BTP's token finds nothing of Camden's.
    btp_submitter = people.btp_submitter
    _, btp_secret = api_token_issue(actor=None, organisation=cast.btp, user=btp_submitter)
    assert client.get(reverse("api-disclosure-list"), HTTP_AUTHORIZATION=f"Token {btp_secret}").json()["results"] == []
    assert (
        client.get(
            reverse("api-disclosure-detail", args=[disclosure.pk]), HTTP_AUTHORIZATION=f"Token {btp_secret}"
        ).status_code
        == 404
    )


def test_police_record_an_outcome_in_the_web_ui(client, cast, people, two):
    alert = two.camden_alert
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert)
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.met,
        recipient="Met LFR desk",
        channel=DisclosureChannel.CJSM_EMAIL,
        justification="Confirmed match of a person wanted on warrant.",
    )
    client.force_login(cast.btp_dpo)
    assert client.post(reverse("disclosure-outcome", args=[disclosure.pk]), {"outcome": "arrested"}).status_code == 404
    client.force_login(people.camden_submitter)  # addressed to the force: the supplying unit sees it too
    page = client.get(reverse("disclosure-list")).content.decode()
    assert 'class="outcome-form"' in page
    response = client.post(
        reverse("disclosure-outcome", args=[disclosure.pk]),
        {"outcome": "spoken_to", "notes": "Spoken to, not the person wanted.", "next": "list"},
    )
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.outcome == "spoken_to" and disclosure.outcome_reported_by == people.camden_submitter


def test_an_image_enrolled_after_go_live_joins_only_through_a_new_review(client, cast, people, two, active_agreement):
    from recognition.deployments.services.planning import matched_watchlist

    later = enrolled_image_row(active_agreement, cast.camden, subject="MET-W-0009")
    compose_watchlist(two.deployment, [later])  # the Met puts it on the live deployment's watchlist
    review_id, _ = matched_watchlist(two.deployment)
    from recognition.deployments.models import WatchlistReview

    assert later.pk not in WatchlistReview.objects.get(pk=review_id).image_ids
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("deployment-detail", args=[two.deployment.pk])).content.decode()
    assert "1 added since that review is not matched" in page
    watchlist_review_record(
        actor=cast.met_dpo, deployment=two.deployment, notes="New image checked: current, charged, necessary."
    )
    two.deployment.refresh_from_db()
    review_id, _ = matched_watchlist(two.deployment)
    assert later.pk in WatchlistReview.objects.get(pk=review_id).image_ids


def test_an_erased_alert_opens_as_a_record_not_a_500(client, cast, people, two):
    from django.db import transaction

    from recognition.deployments.retention import alerts_erase_batch

    with transaction.atomic():
        alerts_erase_batch([access.alerts_visible_to(cast.regulator).get(pk=two.camden_alert.pk)], None)
    client.force_login(people.reviewer_a)
    response = client.get(reverse("alert-detail", args=[two.camden_alert.pk]))
    assert response.status_code == 200
    assert "images were erased" in response.content.decode()


def test_a_rejection_says_why_and_the_notes_are_shown(client, cast, people, two):
    alert_review(
        actor=people.reviewer_a,
        alert=two.camden_alert,
        decision="reject",
        reason="poor_image",
        notes="Face turned away, motion blur.",
    )
    client.force_login(people.reviewer_a)
    page = client.get(reverse("alert-detail", args=[two.camden_alert.pk])).content.decode()
    assert "Closed: image too poor to judge" in page
    assert "Face turned away, motion blur." in page
