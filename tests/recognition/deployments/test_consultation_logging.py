"""Consultation logging (DPA 2018 s.62, issue 22): every read of personal data writes exactly one event
of the right kind, with the justification given at the point of access; none for a 404; the purpose
form; the API header; who looked at a record, scoped like the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.audit.models import AuditAction, AuditEvent
from recognition.deployments.services.disclosure import alert_disclose
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import confirm

pytestmark = pytest.mark.django_db

PURPOSE = "Checking the alerts of the week for the monthly oversight report"
HEADER = {"HTTP_X_OVERSIGHT_PURPOSE": PURPOSE}


@pytest.fixture
def image(active_agreement, cast):
    return enrolled_image_row(active_agreement, cast.camden, subject="CONSULT-SUBJ-1")


@pytest.fixture
def alert(live_deployment, image):
    return raise_alert(live_deployment, image)


@pytest.fixture
def uploaded(cast, active_agreement):
    """An image supplied through the service (with its object permissions), as a force supplies it."""
    from datetime import timedelta

    from django.utils import timezone

    from governance.watchlist.services import Provenance, watchlist_image_upload
    from tests.governance.watchlist.support import make_submitter, synthetic_jpeg

    submitter = make_submitter(cast, cast.camden, "api.camden.supply")
    return watchlist_image_upload(
        actor=submitter,
        agreement_id=active_agreement.pk,
        image_bytes=synthetic_jpeg(seed=5),
        provenance=Provenance(
            subject_reference="SUPPLY-1",
            custody_category="wanted",
            custody_reference="CUST/55/1",
            image_taken_on=timezone.localdate() - timedelta(days=20),
        ),
    )


@pytest.fixture
def disclosure(alert, cast, people):
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert)
    return alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )


def consultations():
    return AuditEvent.objects.filter(action=AuditAction.CONSULTATION)


def new_events(before: int) -> list[AuditEvent]:
    """The consultations since ``before`` (a token's first use, recorded once per token, is not one of ours)."""
    return [e for e in consultations().order_by("sequence")[before:] if e.event != "api_token.first_used"]


def token_client(user):
    from governance.api.tokens import api_token_issue

    _entry, secret = api_token_issue(actor=None, organisation=user.organisation, user=user, days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- one event per read, with its justification -----------------------------------------------------


@pytest.mark.parametrize("who", ["estate_dpo", "regulator", "met_dpo", "camden_dpo"])
def test_an_alert_page_is_one_consultation_of_that_alert_with_the_purpose(client, cast, alert, who):
    client.force_login(getattr(cast, who))
    before = consultations().count()
    page = client.get(reverse("alert-detail", args=[alert.pk]), **HEADER)
    assert page.status_code == 200
    [event] = new_events(before)
    assert (event.event, event.target_type, event.target_id) == ("alert.viewed", "deployments.alert", str(alert.pk))
    assert event.justification == PURPOSE and event.actor_id == getattr(cast, who).pk
    assert event.details["subject_reference"] == "CONSULT-SUBJ-1" and "score" in event.details["shown"]


def test_a_missing_or_unseen_alert_writes_nothing(client, cast, alert):
    client.force_login(cast.btp_dpo)  # another supplier: the alert is not theirs
    before = consultations().count()
    assert client.get(reverse("alert-detail", args=[alert.pk]), **HEADER).status_code == 404
    assert client.get(reverse("alert-detail", args=[alert.pk + 999]), **HEADER).status_code == 404
    assert consultations().count() == before


def test_a_reviewers_purpose_follows_from_the_task(client, alert, people):
    client.force_login(people.reviewer_a)
    before = consultations().count()
    assert client.get(reverse("alert-detail", args=[alert.pk])).status_code == 200  # no form for a reviewer
    [event] = new_events(before)
    assert event.justification == "Reviewing alerts in the live review queue"


def test_the_review_queue_is_one_event_naming_the_alerts_shown_and_its_poll_no_noise(client, alert, people):
    client.force_login(people.reviewer_a)
    before = consultations().count()
    assert client.get(reverse("review-queue")).status_code == 200
    [event] = new_events(before)
    assert event.event == "review_queue.viewed" and event.details["records"] == [alert.pk]
    assert event.details["subject_references"] == ["CONSULT-SUBJ-1"]
    before = consultations().count()
    for _ in range(3):  # polled every 2 s: the same alerts are recorded once
        assert client.get(reverse("review-queue-json")).status_code == 200
    assert [e.event for e in new_events(before)] == ["review_queue.polled"]


def test_the_disclosures_list_is_one_batch_event(client, cast, disclosure):
    client.force_login(cast.estate_dpo)
    before = consultations().count()
    assert client.get(reverse("disclosure-list"), **HEADER).status_code == 200
    [event] = new_events(before)
    assert (event.event, event.target_id, event.details["records"]) == ("disclosures.listed", "list", [disclosure.pk])
    assert event.justification == PURPOSE
    # It concerns the recipient force too: Camden's DPO reads it in the audit log.
    assert event.organisation_links.filter(organisation=cast.camden).exists()


def test_the_disclosure_api_records_each_read_and_refuses_a_bad_filter(disclosure, people):
    camden = token_client(people.camden_submitter)
    before = consultations().count()
    detail = camden.get(f"/api/v1/disclosures/{disclosure.pk}/", HTTP_X_OVERSIGHT_PURPOSE="Arrest enquiry 14:20")
    assert detail.status_code == 200
    [event] = new_events(before)
    assert (event.event, event.target_id, event.justification) == (
        "disclosure.viewed",
        str(disclosure.pk),
        "Arrest enquiry 14:20",
    )
    before = consultations().count()
    listing = camden.get("/api/v1/disclosures/")
    assert listing.status_code == 200
    [event] = new_events(before)
    assert event.details["records"] == [disclosure.pk]
    assert event.justification == "Acting on disclosures our force received"
    before = consultations().count()
    assert camden.get(f"/api/v1/disclosures/{disclosure.pk + 999}/").status_code == 404
    for bad in ({"deployment": "abc"}, {"outcome": "whatever"}):
        refused = camden.get("/api/v1/disclosures/", bad)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_filter"
    assert consultations().count() == before
    only = camden.get("/api/v1/disclosures/", {"deployment": disclosure.alert.deployment_id + 1})
    assert only.status_code == 200 and only.json()["results"] == []


def test_the_watchlist_ledger_and_image_page(client, cast, uploaded):
    image = uploaded
    client.force_login(cast.camden_dpo)
    before = consultations().count()
    assert client.get(reverse("watchlist-ledger"), **HEADER).status_code == 200
    assert client.get(reverse("watchlist-image-detail", args=[image.pk]), **HEADER).status_code == 200
    ledger, detail = new_events(before)
    assert ledger.event == "watchlist.ledger_viewed" and image.pk in ledger.details["records"]
    assert (detail.event, detail.target_id, detail.justification) == ("watchlist_image.viewed", str(image.pk), PURPOSE)


def test_the_watchlist_api_a_force_reads_its_own_others_must_say_why(cast, uploaded, people):
    image = uploaded
    camden = token_client(people.camden_submitter)
    before = consultations().count()
    assert camden.get("/api/v1/watchlist-images/").status_code == 200
    assert camden.get(f"/api/v1/watchlist-images/{image.pk}/").status_code == 200
    listed, read = new_events(before)
    assert listed.event == "watchlist_images.listed" and read.event == "watchlist_image.viewed"
    assert read.justification == "Managing our force's own watchlist images"
    regulator = APIClient()
    regulator.force_authenticate(cast.regulator)
    before = consultations().count()
    refused = regulator.get(f"/api/v1/watchlist-images/{image.pk}/")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "purpose_required"
    assert refused.json()["error"]["details"]["header"] == "X-Oversight-Purpose"
    assert consultations().count() == before
    said = regulator.get(f"/api/v1/watchlist-images/{image.pk}/", HTTP_X_OVERSIGHT_PURPOSE="Inspection IR-2026-04")
    assert said.status_code == 200 and new_events(before)[0].justification == "Inspection IR-2026-04"


# --- the purpose form -------------------------------------------------------------------------------


def test_the_purpose_form_asks_once_per_session_then_returns(client, cast, alert):
    client.force_login(cast.estate_dpo)
    url = reverse("alert-detail", args=[alert.pk])
    before = consultations().count()
    asked = client.get(url)
    assert asked.status_code == 302 and asked["Location"].startswith(reverse("consultation-purpose"))
    form = client.get(asked["Location"])
    assert form.status_code == 200 and b"Why are you looking at alerts?" in form.content
    assert consultations().count() == before  # nothing shown yet
    empty = client.post(asked["Location"], {"purpose": "other", "purpose_text": "  "})
    assert empty.status_code == 400 and b"it is recorded" in empty.content
    chosen = client.post(asked["Location"], {"purpose": "other", "purpose_text": "Complaint C-88 about camera GS-1"})
    assert chosen.status_code == 302 and chosen["Location"] == url
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # remembered: no second question
    events = new_events(before)
    assert [e.justification for e in events] == ["Complaint C-88 about camera GS-1"] * 2


def test_another_partys_image_asks_every_time(client, cast, uploaded):
    image = uploaded
    client.force_login(cast.estate_dpo)
    url = reverse("watchlist-image-detail", args=[image.pk])
    asked = client.get(url)
    assert asked.status_code == 302 and "other_party_image" in asked["Location"]
    client.post(asked["Location"], {"purpose": "Checking provenance for DPIA review"})
    before = consultations().count()
    assert client.get(url).status_code == 200
    assert new_events(before)[0].justification == "Checking provenance for DPIA review"
    assert client.get(url).status_code == 302  # asked again: free text each time


def test_the_purpose_form_never_redirects_off_site(client, cast):
    client.force_login(cast.estate_dpo)
    path = reverse("consultation-purpose") + "?kind=alerts&next=https://evil.example/"
    done = client.post(path, {"purpose": "Reviewing alerts on a deployment"})
    assert done.status_code == 302 and done["Location"] == reverse("dashboard")
    assert client.get(reverse("consultation-purpose") + "?kind=nothing").status_code == 404


# --- who looked ---------------------------------------------------------------------------------------


def test_who_looked_at_an_alert_and_a_subject_scoped_like_the_audit_log(client, cast, alert):
    client.force_login(cast.regulator)
    assert client.get(reverse("alert-detail", args=[alert.pk]), **HEADER).status_code == 200
    client.force_login(cast.camden_dpo)
    page = client.get(reverse("record-consultations", args=["alert", alert.pk]))
    assert page.status_code == 200 and PURPOSE.encode() in page.content
    subject = client.get(reverse("subject-consultations", args=["CONSULT-SUBJ-1"]))
    assert subject.status_code == 200 and PURPOSE.encode() in subject.content
    client.force_login(cast.btp_dpo)  # another organisation's record: not found
    assert client.get(reverse("record-consultations", args=["alert", alert.pk])).status_code == 404
    assert client.get(reverse("subject-consultations", args=["CONSULT-SUBJ-1"])).status_code == 404
    client.force_login(cast.estate_reviewer)  # no audit role
    assert client.get(reverse("record-consultations", args=["alert", alert.pk])).status_code == 403


def test_logging_can_be_switched_off_for_the_benchmark_only(client, cast, alert, settings):
    settings.OVERSIGHT_CONSULTATION_LOGGING = False
    client.force_login(cast.estate_dpo)
    before = consultations().count()
    assert client.get(reverse("alert-detail", args=[alert.pk]), **HEADER).status_code == 200
    assert consultations().count() == before


# --- subject requests: the page says what it showed, and decrypts nothing ----------------------------------


def test_a_subject_request_page_is_one_event_and_decrypts_no_crop(client, cast, alert, monkeypatch):
    from governance import encryption
    from governance.subject_access import services as sars
    from tests.governance.subject_access.conftest import intake

    sar = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(subject_references=["CONSULT-SUBJ-1"]))
    sars.subject_request_decide(
        actor=cast.estate_dpo, request=sar, decisions=[(f"alert:{alert.pk}", "confirmed", "subject reference")]
    )
    decrypted = []
    real_decrypt = encryption.decrypt
    monkeypatch.setattr(encryption, "decrypt", lambda token: decrypted.append(1) or real_decrypt(token))
    client.force_login(cast.estate_dpo)
    before = consultations().count()
    page = client.get(reverse("subject-request-detail", args=[sar.pk]))
    assert page.status_code == 200
    [event] = new_events(before)
    assert (event.event, event.target_id) == ("subject_request.viewed", str(sar.pk))
    assert event.justification == f"Answering subject request #{sar.pk}" and "no images" in event.details["shown"]
    assert decrypted == []  # the page shows no image, so none is decrypted (nor logged as seen)
    before = consultations().count()
    assert client.get(reverse("subject-request-detail", args=[sar.pk + 999])).status_code == 404
    assert consultations().count() == before


def test_a_refused_photo_search_is_on_the_record(client, cast, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from governance.subject_access import services as sars
    from tests.governance.subject_access.conftest import intake

    sar = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake())
    client.force_login(cast.estate_dpo)
    before = consultations().count()
    refused = client.post(
        reverse("subject-request-search", args=[sar.pk]),
        {
            "justification": "Photo supplied with the SAR by the requester.",
            "photo": SimpleUploadedFile("me.jpg", b"not a picture at all", content_type="image/jpeg"),
        },
    )
    assert refused.status_code == 400
    [event] = new_events(before)
    assert event.event == "subject_request.search_refused"
    assert event.justification == "Photo supplied with the SAR by the requester." and event.details["by_face"]


# --- the force's supply is the force's disclosure -----------------------------------------------------------


def test_an_upload_is_the_operators_collection_and_the_forces_disclosure(uploaded, active_agreement):
    events = AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(uploaded.pk))
    collection = events.get(action=AuditAction.COLLECTION)
    disclosure = events.get(action=AuditAction.DISCLOSURE)
    assert collection.event == "watchlist_image.received"
    assert disclosure.event == "watchlist_image.disclosed_to_operator"
    assert disclosure.recipient == active_agreement.receiving_organisation.name
    assert active_agreement.reference in disclosure.justification
    assert disclosure.actor_username == "api.camden.supply"
