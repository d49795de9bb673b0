"""Alerts: dedup, two-person review, independence of reviewers, disclosure, outcomes through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from governance.agreements.models import Agreement
from governance.audit.models import AuditAction, AuditEvent
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.deployments.models import Alert, AlertStatus, Disclosure
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.review import alert_probe_crop, alert_review
from tests.recognition.deployments.conftest import TEST_CROP_JPEG, enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import confirm, reference_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Pages that show personal data are asked with a purpose (s.62, issue 22), as the purpose form would set it."""
    from django.test import Client

    return Client(HTTP_X_OVERSIGHT_PURPOSE="Reviewing and disclosing alerts")


@pytest.fixture
def image(active_agreement, cast):
    return enrolled_image_row(active_agreement, cast.camden)


@pytest.fixture
def alert(live_deployment, image):
    return raise_alert(live_deployment, image)


def confirmed(alert, people):
    confirm(people.reviewer_a, alert)
    return confirm(people.police_reviewer, alert)


def token_client(user):
    from governance.api.tokens import api_token_issue

    _entry, secret = api_token_issue(actor=None, organisation=user.organisation, user=user, days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- alerts ------------------------------------------------------------------------------------


def test_repeat_sightings_within_the_window_attach_to_one_alert(live_deployment, image, settings):
    first = raise_alert(live_deployment, image, score=0.7)
    again = raise_alert(live_deployment, image, score=0.8, seen_at=timezone.now() + timedelta(minutes=5))
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.sightings == 2 and again.score == pytest.approx(0.8)
    later = raise_alert(
        live_deployment,
        image,
        seen_at=timezone.now() + timedelta(minutes=5 + settings.OVERSIGHT_ALERT_DEDUP_MINUTES + 1),
    )
    assert later.pk != first.pk
    assert Alert.objects.count() == 2
    assert AuditEvent.objects.filter(event="alert.raised", action=AuditAction.COMBINATION).count() == 2


def test_retention_clock_comes_from_the_agreement(live_deployment, image, active_agreement):
    alert = raise_alert(live_deployment, image)
    assert alert.retention_due_at == alert.first_seen_at + timedelta(days=active_agreement.match_retention_days)


def test_probe_crop_is_encrypted_at_rest(alert, people):
    raw = bytes(Alert.objects.get(pk=alert.pk).probe_crop)
    assert b"\xff\xd8\xff" not in raw
    assert alert_probe_crop(actor=people.reviewer_a, alert=alert) == TEST_CROP_JPEG
    assert AuditEvent.objects.filter(event="alert.probe_viewed", action=AuditAction.CONSULTATION).count() == 1


def test_a_withdrawn_image_raises_no_alert(live_deployment, image):
    WatchlistImage.objects.filter(pk=image.pk).update(status=ImageStatus.WITHDRAWN)
    assert raise_alert(live_deployment, image) is None
    assert not Alert.objects.exists()


# --- two-person review -------------------------------------------------------------------------------


def test_the_same_reviewer_twice_is_refused(alert, people):
    confirm(people.reviewer_a, alert)
    with pytest.raises(StateConflict) as refused:
        confirm(people.reviewer_a, alert)
    assert refused.value.code == "already_reviewed"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PENDING


def test_a_police_reviewer_is_required_when_the_agreement_says_so(alert, people):
    assert alert.agreement.police_reviewer_required
    confirm(people.reviewer_a, alert)
    with pytest.raises(PermissionRefused) as refused:
        confirm(people.reviewer_b, alert)
    assert refused.value.code == "police_reviewer_required"
    alert = confirm(people.police_reviewer, alert)
    assert alert.status == AlertStatus.CONFIRMED
    events = list(
        AuditEvent.objects.filter(target_type="deployments.alert", target_id=str(alert.pk))
        .exclude(action=AuditAction.CONSULTATION)  # each reviewer's view of the crop
        .values_list("event", flat=True)
    )
    assert events == ["alert.raised", "alert.reviewed", "alert.reviewed", "alert.confirmed"]


def test_two_operator_reviewers_suffice_when_no_police_reviewer_is_required(alert, people, active_agreement):
    Agreement.objects.filter(pk=active_agreement.pk).update(police_reviewer_required=False)
    confirm(people.reviewer_a, alert)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PENDING
    assert confirm(people.reviewer_b, alert).status == AlertStatus.CONFIRMED


def test_one_rejection_with_a_reason_closes_the_alert_as_false(alert, people):
    with pytest.raises(ValidationFailed):
        alert_review(actor=people.reviewer_a, alert=alert, decision="reject", reason="")
    confirm(people.police_reviewer, alert)
    alert = alert_review(actor=people.reviewer_a, alert=alert, decision="reject", reason="not_the_person")
    assert alert.status == AlertStatus.FALSE_ALERT and alert.close_reason == "not_the_person"
    with pytest.raises(StateConflict):
        confirm(people.reviewer_b, alert)


def test_non_reviewers_and_other_organisations_cannot_review(alert, cast, people):
    from governance.errors import NotFound

    with pytest.raises(NotFound):
        alert_review(actor=cast.other_dpo, alert=alert, decision="confirm")
    with pytest.raises(PermissionRefused):
        alert_review(actor=cast.regulator, alert=alert, decision="confirm")
    with pytest.raises(PermissionRefused):
        alert_review(actor=cast.estate_dpo, alert=alert, decision="confirm")


def test_a_reviewer_does_not_see_the_other_decision_before_making_their_own(client, alert, people, cast):
    confirm(people.reviewer_a, alert, notes="Same scar.")
    client.force_login(people.reviewer_b)
    queue = client.get(reverse("review-queue-json")).json()["alerts"]
    assert [row["id"] for row in queue] == [alert.pk]
    assert queue[0]["my_decision"] is None
    assert "confirm" not in str(queue) and "reviews" not in str(queue)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "Same scar" not in page and people.reviewer_a.username not in page
    # Once the first reviewer has decided, they see their own decision.
    client.force_login(people.reviewer_a)
    assert client.get(reverse("review-queue-json")).json()["alerts"][0]["my_decision"] == "confirm"
    client.force_login(people.police_reviewer)
    reference_picture(alert.watchlist_image)
    for image in ("alert-crop-image", "alert-reference-image"):  # what the page's two <img> fetch
        assert client.get(reverse(image, args=[alert.pk])).status_code == 200
    client.post(reverse("alert-review", args=[alert.pk]), {"decision": "confirm"})
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "reviewer.estate" in page or str(people.reviewer_a) in page
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CONFIRMED


def test_review_queue_access(client, alert, cast, people):
    assert client.get(reverse("review-queue")).status_code == 302
    client.force_login(cast.regulator)
    assert client.get(reverse("review-queue-json")).status_code == 403
    client.force_login(cast.other_dpo)
    assert client.get(reverse("alert-detail", args=[alert.pk])).status_code == 404
    client.force_login(people.police_reviewer)  # the supplying unit's police reviewer sees it
    assert [a["id"] for a in client.get(reverse("review-queue-json")).json()["alerts"]] == [alert.pk]


# --- disclosure and outcome ------------------------------------------------------------------------------


def test_disclosure_needs_a_confirmed_alert_and_the_supplying_force(alert, cast, people):
    kwargs = dict(
        recipient="LFR desk, lfr.camden@met.cjsm.net",
        channel="cjsm_email",
        justification="Subject is wanted on warrant; location and time needed to arrest.",
    )
    with pytest.raises(StateConflict):
        alert_disclose(actor=cast.estate_dpo, alert=alert, recipient_organisation=cast.camden, **kwargs)
    confirmed(alert, people)
    with pytest.raises(ValidationFailed) as refused:
        alert_disclose(actor=cast.estate_dpo, alert=alert, recipient_organisation=cast.btp, **kwargs)
    assert refused.value.code == "recipient_not_supplier"
    with pytest.raises(PermissionRefused):
        alert_disclose(actor=people.reviewer_a, alert=alert, recipient_organisation=cast.camden, **kwargs)
    disclosure = alert_disclose(actor=cast.estate_dpo, alert=alert, recipient_organisation=cast.camden, **kwargs)
    event = AuditEvent.objects.get(event="alert.disclosed")
    assert event.action == AuditAction.DISCLOSURE
    assert "Met Camden BCU" in event.recipient and "lfr.camden@met.cjsm.net" in event.recipient
    assert event.justification.startswith("Subject is wanted")
    assert event.details["disclosure"] == disclosure.pk


def test_police_read_their_disclosures_and_report_the_outcome_through_the_api(alert, cast, people):
    confirmed(alert, people)
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    camden = token_client(people.camden_submitter)
    listing = camden.get("/api/v1/disclosures/")
    assert listing.status_code == 200
    rows = listing.json()["results"]
    assert [r["id"] for r in rows] == [disclosure.pk] and rows[0]["subject_reference"] == alert.subject_reference
    assert rows[0]["outcome"] == ""

    btp = token_client(people.btp_submitter)
    assert btp.get("/api/v1/disclosures/").json()["results"] == []
    assert (
        btp.post(f"/api/v1/disclosures/{disclosure.pk}/outcome/", {"outcome": "arrested"}, format="json").status_code
        == 404
    )
    assert APIClient().get("/api/v1/disclosures/").status_code == 401
    reviewer = APIClient()
    reviewer.force_authenticate(people.reviewer_a)
    assert reviewer.get("/api/v1/disclosures/").status_code == 403

    bad = camden.post(f"/api/v1/disclosures/{disclosure.pk}/outcome/", {"outcome": "vanished"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_failed"
    done = camden.post(
        f"/api/v1/disclosures/{disclosure.pk}/outcome/",
        {"outcome": "arrested", "notes": "Arrested on warrant at 14:20."},
        format="json",
    )
    assert done.status_code == 200 and done.json()["outcome"] == "arrested"
    again = camden.post(f"/api/v1/disclosures/{disclosure.pk}/outcome/", {"outcome": "no_action"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "outcome_already_reported"
    assert AuditEvent.objects.filter(event="disclosure.outcome_reported", actor=people.camden_submitter).count() == 1


def test_unreported_outcomes_are_chased_on_the_dashboard(client, alert, cast, people, settings):
    confirmed(alert, people)
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    client.force_login(cast.estate_dpo)
    assert "unreported-outcomes" not in client.get(reverse("dashboard")).content.decode()
    Disclosure.objects.filter(pk=disclosure.pk).update(
        disclosed_at=timezone.now() - timedelta(days=settings.OVERSIGHT_OUTCOME_CHASE_DAYS + 1)
    )
    page = client.get(reverse("dashboard")).content.decode()
    assert "unreported-outcomes" in page and f"Alert #{alert.pk}" in page
