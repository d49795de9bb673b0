"""Meaningful human involvement in every confirmed alert (issue 21, item 4; UK GDPR Art. 22, DPA 2018 ss.49-50).

A reviewer confirms only after the review page's image endpoints served them the enrolled watchlist image
beside the camera crop (recorded server-side, never from a client's claim); the review records what each
reviewer was shown; agreement terms under which no reviewer would see the reference cannot be approved; a
sighting after a closed alert opens a new review; the subject access response says what review happened.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance.agreements.models import Agreement, AgreementStatus
from governance.audit.models import AuditEvent
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.subject_access.compile import HUMAN_REVIEW_FACT, NO_DECISION_STATEMENT, _automated_decisions
from governance.subject_access.registry import ItemRef, subject_data_provider
from recognition.deployments.models import Alert, AlertImageShown, AlertReview, AlertStatus
from recognition.deployments.rules import Confirmation, TwoPerson, two_person_rule
from recognition.deployments.services.alerts import Sighting, alert_record_sighting
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.review import alert_review
from tests.conftest import agreement_terms, approved_dpia, signed_pdf
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import (
    confirm,
    reference_picture,
    show_both,
    show_crop,
    show_reference,
)

pytestmark = pytest.mark.django_db


def green_square() -> bytes:
    """The "face" two estate reviewers once confirmed: a plain green square."""
    out = io.BytesIO()
    Image.new("RGB", (96, 96), (0, 160, 0)).save(out, format="JPEG")
    return out.getvalue()


def sight(deployment, image, *, crop: bytes | None = None, seen_at=None, score=0.9):
    from tests.factories import on_watchlist

    on_watchlist(
        deployment, image
    )  # its force puts it on the deployment's watchlist (recognition.deployments.watchlists)
    alert, created = alert_record_sighting(
        sighting=Sighting(
            deployment_id=deployment.pk,
            camera_id=deployment.cameras.first().pk,
            image_id=image.pk,
            score=score,
            threshold=deployment.match_threshold,
            crop_jpeg=crop or green_square(),
            seen_at=seen_at or timezone.now(),
        )
    )
    return alert, created


@pytest.fixture
def image(active_agreement, cast):
    row = enrolled_image_row(active_agreement, cast.camden)
    reference_picture(row)
    return row


@pytest.fixture
def alert(live_deployment, image):
    return sight(live_deployment, image)[0]


def _nothing_stored(alert) -> None:
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PENDING
    assert not AlertReview.objects.filter(alert=alert).exists()
    assert not AuditEvent.objects.filter(event="alert.reviewed", target_id=str(alert.pk)).exists()


# --- no confirmation without the reference -------------------------------------------------------------


def test_a_reviewer_never_shown_the_reference_cannot_confirm(alert, people):
    show_crop(people.reviewer_a, alert)  # the crop alone
    with pytest.raises(PermissionRefused) as refused:
        alert_review(actor=people.reviewer_a, alert=alert, decision="confirm")
    assert refused.value.code == "reference_not_shown" and refused.value.details == {"not_shown": ["reference"]}
    _nothing_stored(alert)


def test_a_reviewer_shown_nothing_or_the_reference_alone_cannot_confirm(alert, people):
    with pytest.raises(PermissionRefused) as refused:
        alert_review(actor=people.police_reviewer, alert=alert, decision="confirm")
    assert refused.value.details == {"not_shown": ["crop", "reference"]}
    show_reference(people.police_reviewer, alert)
    with pytest.raises(PermissionRefused) as refused:
        alert_review(actor=people.police_reviewer, alert=alert, decision="confirm")
    assert refused.value.code == "reference_not_shown" and refused.value.details == {"not_shown": ["crop"]}
    # Another reviewer's viewing does not count for this one.
    show_both(people.reviewer_a, alert)
    with pytest.raises(PermissionRefused):
        alert_review(actor=people.reviewer_b, alert=alert, decision="confirm")
    _nothing_stored(alert)


def test_a_reviewer_shown_both_confirms_and_the_review_records_what_each_was_shown(client, alert, people):
    for reviewer in (people.reviewer_a, people.police_reviewer):
        client.force_login(reviewer)
        page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
        assert "Enrolled watchlist image: not yet shown to you" in page
        crop = client.get(reverse("alert-crop-image", args=[alert.pk]))
        reference = client.get(reverse("alert-reference-image", args=[alert.pk]))
        assert crop.status_code == reference.status_code == 200
        assert crop.content == green_square() and reference["Content-Type"] == "image/jpeg"
        page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
        assert "Camera crop: shown to you" in page and "Enrolled watchlist image: shown to you" in page
        assert 'id="confirm"' in page
        response = client.post(reverse("alert-review", args=[alert.pk]), {"decision": "confirm"})
        assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CONFIRMED
    reviews = list(alert.reviews.order_by("decided_at"))
    assert [r.as_police_reviewer for r in reviews] == [False, True]
    for review in reviews:
        shown = AlertImageShown.objects.filter(alert=alert, reviewer=review.reviewer)
        assert review.crop_shown_at == shown.get(image="crop").shown_at <= review.decided_at
        assert review.reference_shown_at == shown.get(image="reference").shown_at <= review.decided_at
    event = AuditEvent.objects.filter(event="alert.reviewed", target_id=str(alert.pk)).latest("sequence")
    assert event.details["crop_shown"] and event.details["reference_shown"]
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert page.count("crop and watchlist image") == 2  # each decision says what that reviewer saw


def test_a_claim_from_the_browser_is_not_a_showing(client, alert, people):
    client.force_login(people.reviewer_a)
    client.get(reverse("alert-crop-image", args=[alert.pk]))
    response = client.post(
        reverse("alert-review", args=[alert.pk]),
        {"decision": "confirm", "reference_shown": "1", "reference_shown_at": timezone.now().isoformat()},
        follow=True,
    )
    assert "without having been shown the enrolled watchlist image" in response.content.decode()
    _nothing_stored(alert)


def test_the_green_square_cannot_be_confirmed_blind_but_can_be_rejected(client, alert, cast, people, active_agreement):
    """The incident: terms with no police reviewer and operator reviewers not shown the enrolled image;
    two estate reviewers looked at a plain green square. They cannot confirm it; they can reject it."""
    Agreement.objects.filter(pk=active_agreement.pk).update(
        operator_reviewers_see_image=False, police_reviewer_required=False
    )
    for reviewer in (people.reviewer_a, people.reviewer_b):
        client.force_login(reviewer)
        page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
        assert 'id="probe-crop"' in page and 'id="watchlist-thumbnail"' not in page
        assert 'id="confirm"' not in page and "never shown to you: you may reject" in page
        assert client.get(reverse("alert-crop-image", args=[alert.pk])).content == green_square()
        assert client.get(reverse("alert-reference-image", args=[alert.pk])).status_code == 403
        queue = client.get(reverse("review-queue-json")).json()["alerts"]
        assert queue[0]["shown"] == ["crop"] and "not shared with you" in queue[0]["shown_text"]
        with pytest.raises(PermissionRefused) as refused:
            alert_review(actor=reviewer, alert=alert, decision="confirm")
        assert refused.value.code == "reference_not_shown"
    _nothing_stored(alert)
    alert = alert_review(actor=people.reviewer_a, alert=alert, decision="reject", reason="poor_image")
    assert alert.status == AlertStatus.FALSE_ALERT
    review = alert.reviews.get()
    assert review.crop_shown_at is not None and review.reference_shown_at is None
    with pytest.raises(StateConflict) as refused:  # and nothing of it is disclosed to the police
        alert_disclose(
            actor=cast.estate_dpo,
            alert=alert,
            recipient_organisation=cast.camden,
            recipient="Camden LFR desk",
            channel="cjsm_email",
            justification="Should never be possible for a rejected alert.",
        )
    assert refused.value.code == "alert_not_confirmed"


# --- the two-person rule, named once -------------------------------------------------------------------


def test_the_two_person_rule():
    one, two_, police = Confirmation(1, False), Confirmation(2, False), Confirmation(3, True)
    assert two_person_rule(police_reviewer_required=True, confirmations=[one]) is TwoPerson.WAITING
    assert two_person_rule(police_reviewer_required=True, confirmations=[one, one]) is TwoPerson.WAITING
    assert (
        two_person_rule(police_reviewer_required=True, confirmations=[one, two_]) is TwoPerson.POLICE_REVIEWER_MISSING
    )
    assert two_person_rule(police_reviewer_required=True, confirmations=[one, police]) is TwoPerson.CONFIRMED
    assert two_person_rule(police_reviewer_required=False, confirmations=[one, two_]) is TwoPerson.CONFIRMED


# --- agreement terms that would allow a blind confirmation -------------------------------------------------


def _submitted(cast, **terms):
    from governance.agreements import services as agreements

    agreement = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, **terms))
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate() - timedelta(days=3),
        reference="BSCC-9",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    agreement.refresh_from_db()
    return agreement


def test_agreement_terms_under_which_no_reviewer_sees_the_reference_cannot_be_approved(cast):
    from governance.agreements import services as agreements
    from tests.conftest import approved_policy

    approved_policy(cast.met_dpo)  # the supplying force's s.42 document (approval needs it; not what is tested)
    blind = _submitted(cast, operator_reviewers_see_image=False, police_reviewer_required=False)
    with pytest.raises(ValidationFailed) as refused:
        agreements.agreement_approve(actor=cast.met_dpo, agreement=blind)
    assert refused.value.code == "review_without_reference"
    blind.refresh_from_db()
    assert blind.status == AgreementStatus.SUBMITTED and blind.approved_at is None
    assert not AuditEvent.objects.filter(event="agreement.approved", target_id=str(blind.pk)).exists()
    # A police reviewer (who always sees their own force's image) makes the same terms sound.
    sound = _submitted(cast, operator_reviewers_see_image=False, police_reviewer_required=True)
    assert agreements.agreement_approve(actor=cast.met_dpo, agreement=sound).status in {
        AgreementStatus.APPROVED,
        AgreementStatus.ACTIVE,
    }


# --- a new sighting after a closed alert opens a new review ----------------------------------------------


def test_a_sighting_after_a_rejected_alert_raises_a_new_pending_alert(client, live_deployment, image, people):
    first, created = sight(live_deployment, image)
    assert created
    again, created = sight(live_deployment, image, seen_at=timezone.now() + timedelta(seconds=30))
    assert again.pk == first.pk and not created and again.sightings == 2  # still open: it attaches
    alert_review(actor=people.reviewer_a, alert=first, decision="reject", reason="not_the_person")
    later, created = sight(live_deployment, image, seen_at=timezone.now() + timedelta(seconds=60))
    assert created and later.pk != first.pk
    assert later.status == AlertStatus.PENDING and later.sightings == 1
    first.refresh_from_db()
    assert first.status == AlertStatus.FALSE_ALERT and first.sightings == 2  # the closed alert is untouched
    client.force_login(people.reviewer_b)
    assert [row["id"] for row in client.get(reverse("review-queue-json")).json()["alerts"]] == [later.pk]
    assert AuditEvent.objects.filter(event="alert.raised", target_id=str(later.pk)).exists()


def test_a_sighting_after_a_confirmed_alert_raises_a_new_one(live_deployment, image, people):
    first = sight(live_deployment, image)[0]
    confirm(people.reviewer_a, first)
    assert confirm(people.police_reviewer, first).status == AlertStatus.CONFIRMED
    later, created = sight(live_deployment, image, seen_at=timezone.now() + timedelta(seconds=30))
    assert created and later.pk != first.pk and later.status == AlertStatus.PENDING


# --- what the subject access response says about review ------------------------------------------------------


def test_the_subject_access_text_says_what_happened_to_each_alert(cast, people, live_deployment, active_agreement):
    images = [enrolled_image_row(active_agreement, cast.camden, subject=f"KX-SAR-{n}") for n in range(3)]
    for row in images:
        reference_picture(row)
    confirmed, rejected, unreviewed = (sight(live_deployment, row)[0] for row in images)
    confirm(people.reviewer_a, confirmed)
    confirm(people.police_reviewer, confirmed)
    show_crop(people.reviewer_b, rejected)
    alert_review(actor=people.reviewer_b, alert=rejected, decision="reject", reason="false_alert")
    provider = subject_data_provider("alert")
    items = [provider.compile(cast.estate_dpo, ItemRef("alert", str(a.pk))) for a in (confirmed, rejected, unreviewed)]
    told = [dict(item.facts)[HUMAN_REVIEW_FACT] for item in items]
    assert len(set(told)) == 3
    assert "confirmed by 2 different reviewers, one of them a police reviewer" in told[0]
    assert told[0].count("after being shown the camera crop beside the enrolled watchlist image") == 2
    assert "Police reviewer" in told[0] and "Reviewer, " in told[0]
    assert "rejected the match (false alert)" in told[1]
    assert "shown the camera crop but not the enrolled watchlist image" in told[1]
    assert "closed without being confirmed" in told[1] and "two trained" not in told[1]
    assert told[2].startswith("No one has reviewed this alert yet")
    assert _automated_decisions(items) == [f"{item.title}: {text}" for item, text in zip(items, told, strict=True)]
    assert _automated_decisions([]) == [NO_DECISION_STATEMENT]


def test_an_alert_nobody_reviewed_before_it_was_erased_is_told_so(cast, live_deployment, active_agreement):
    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden, subject="KX-SAR-9"))
    Alert.objects.filter(pk=alert.pk).update(erased_at=timezone.now(), probe_crop=b"")
    item = subject_data_provider("alert").compile(cast.estate_dpo, ItemRef("alert", str(alert.pk)))
    assert dict(item.facts)[HUMAN_REVIEW_FACT].startswith("No one reviewed this alert. It was never confirmed")
