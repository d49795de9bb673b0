"""The live review desk (issue 25): the queue's thumbnails follow the review page's rules and are recorded
and audited, but do not count as the comparison a confirmation needs; each deployment's review service
level (set by the operator's DPO) gives the time waiting and marks overdue alerts; the queue's JSON holds
what the page shows and no more."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance.agreements.models import Agreement
from governance.audit.models import AuditAction, AuditEvent
from governance.errors import PermissionRefused, ValidationFailed
from recognition.deployments import review_desk, rules, selectors
from recognition.deployments.models import AlertImageShown, Deployment, ReviewImage
from recognition.deployments.services.review import alert_review
from tests.recognition.deployments.conftest import deployment_fields, enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import reference_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(live_deployment, active_agreement, cast):
    image = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0042")
    reference_picture(image)
    return raise_alert(live_deployment, image, seen_at=timezone.now() - timedelta(minutes=3, seconds=10))


def _share_images_with_reviewers(agreement, allowed: bool) -> None:
    Agreement.objects.filter(pk=agreement.pk).update(operator_reviewers_see_image=allowed)


def _thumbnail(client, name, alert):
    return client.get(reverse(name, args=[alert.pk]))


# --- thumbnails ------------------------------------------------------------------------------------


def test_queue_thumbnails_are_small_no_store_recorded_and_audited(client, alert, people, active_agreement):
    _share_images_with_reviewers(active_agreement, True)
    client.force_login(people.reviewer_a)
    page = client.get(reverse("review-queue")).content.decode()
    crop_url = reverse("alert-queue-crop-thumbnail", args=[alert.pk])
    reference_url = reverse("alert-queue-reference-thumbnail", args=[alert.pk])
    assert f'src="{crop_url}"' in page and f'src="{reference_url}"' in page
    assert not AlertImageShown.objects.exists()  # the page alone showed nothing
    for url, kind in ((crop_url, ReviewImage.CROP_THUMBNAIL), (reference_url, ReviewImage.REFERENCE_THUMBNAIL)):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "no-store"
        picture = Image.open(io.BytesIO(response.content))
        assert picture.format == "JPEG" and max(picture.size) <= review_desk.QUEUE_THUMBNAIL_PX
        assert AlertImageShown.objects.filter(alert=alert, reviewer=people.reviewer_a, image=kind).count() == 1
    crop_event = AuditEvent.objects.get(event="alert.probe_viewed", target_id=str(alert.pk))
    reference_event = AuditEvent.objects.get(
        event="watchlist_image.viewed_for_review", target_id=str(alert.watchlist_image_id)
    )
    for event in (crop_event, reference_event):
        assert event.action == AuditAction.CONSULTATION and event.justification == review_desk.QUEUE_JUSTIFICATION
        assert event.details == {"alert": alert.pk, "thumbnail": True}


def test_a_thumbnail_is_not_the_comparison_a_confirmation_needs(alert, people, active_agreement):
    _share_images_with_reviewers(active_agreement, True)
    for image in ("crop", "reference"):
        review_desk.alert_queue_thumbnail(actor=people.reviewer_a, alert=alert, image=image)
    shown = rules.shown_to(alert=alert, reviewer=people.reviewer_a)
    assert not rules.reviewer_shown_both(shown)
    with pytest.raises(PermissionRefused) as refused:
        alert_review(actor=people.reviewer_a, alert=alert, decision="confirm")
    assert refused.value.code == "reference_not_shown"
    row = selectors.review_queue(user=people.reviewer_a)[0]
    assert row["shown"] == [] and row["shown_text"] == "nothing yet"


def test_the_operator_reviewer_gets_no_watchlist_thumbnail_unless_the_agreement_allows(
    client, alert, people, active_agreement
):
    _share_images_with_reviewers(active_agreement, False)
    client.force_login(people.reviewer_a)
    row = selectors.review_queue(user=people.reviewer_a)[0]
    assert row["reference_thumbnail"] is None and row["crop_thumbnail"]
    page = client.get(reverse("review-queue")).content.decode()
    assert reverse("alert-queue-reference-thumbnail", args=[alert.pk]) not in page
    assert "no watchlist image for you" in page
    assert _thumbnail(client, "alert-queue-reference-thumbnail", alert).status_code == 403
    assert not AlertImageShown.objects.filter(image=ReviewImage.REFERENCE_THUMBNAIL).exists()
    assert not AuditEvent.objects.filter(event="watchlist_image.viewed_for_review").exists()
    # The supplying force's police reviewer always sees its own image.
    client.force_login(people.police_reviewer)
    assert selectors.review_queue(user=people.police_reviewer)[0]["reference_thumbnail"]
    assert _thumbnail(client, "alert-queue-reference-thumbnail", alert).status_code == 200


def test_another_organisation_and_other_roles_get_no_thumbnail(client, alert, cast):
    client.force_login(cast.btp_dpo)  # another force: the alert does not exist for it
    assert _thumbnail(client, "alert-queue-crop-thumbnail", alert).status_code == 404
    client.force_login(cast.estate_dpo)  # sees the alert, does not review it
    assert _thumbnail(client, "alert-queue-crop-thumbnail", alert).status_code == 403
    assert not AlertImageShown.objects.exists()


def test_an_erased_watchlist_image_has_no_thumbnail(client, alert, people, active_agreement):
    from governance.watchlist.models import WatchlistImageContent

    _share_images_with_reviewers(active_agreement, True)
    WatchlistImageContent.objects.filter(image_id=alert.watchlist_image_id).delete()
    assert selectors.review_queue(user=people.reviewer_a)[0]["reference_thumbnail"] is None
    client.force_login(people.reviewer_a)
    assert _thumbnail(client, "alert-queue-reference-thumbnail", alert).status_code == 404
    assert not AlertImageShown.objects.exists()


# --- time waiting against the service level -------------------------------------------------------


def test_waiting_is_counted_against_the_deployments_service_level(alert, people, live_deployment, cast):
    assert live_deployment.review_service_level_minutes == 5  # the default
    row = selectors.review_queue(user=people.reviewer_a)[0]
    assert row["waiting_text"] == "waiting 3 min — service level 5 min" and row["overdue"] is False
    review_desk.deployment_review_service_level_set(actor=cast.estate_dpo, deployment=live_deployment, minutes="2")
    row = selectors.review_queue(user=people.reviewer_a)[0]
    assert row["waiting_text"] == "waiting 3 min — service level 2 min (overdue)" and row["overdue"] is True
    event = AuditEvent.objects.get(event="deployment.review_service_level_set")
    assert event.action == AuditAction.ALTERATION and event.details == {"minutes": 2, "before": 5}


def test_the_queue_is_oldest_first_and_overdue_alerts_are_highlighted(client, alert, people, live_deployment, cast):
    newer = raise_alert(live_deployment, enrolled_image_row(alert.agreement, cast.camden, subject="KX-SUBJ-0043"))
    rows = selectors.review_queue(user=people.reviewer_a)
    assert [r["id"] for r in rows] == [alert.pk, newer.pk]
    assert rows[1]["waiting_text"] == "waiting under a minute — service level 5 min"
    client.force_login(people.reviewer_a)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        page = client.get(reverse("review-queue")).content.decode()
    assert f'<tr data-alert="{alert.pk}" class="overdue">' in page
    assert f'<tr data-alert="{newer.pk}">' in page
    assert "waiting 5 min — service level 5 min (overdue)" in page


def test_only_the_operator_dpo_sets_the_service_level_within_bounds(client, live_deployment, cast, people):
    with pytest.raises(PermissionRefused):
        review_desk.deployment_review_service_level_set(actor=cast.met_dpo, deployment=live_deployment, minutes=3)
    for bad in ("0", "241", "five", "", None, "2.5"):
        with pytest.raises(ValidationFailed) as refused:
            review_desk.deployment_review_service_level_set(
                actor=cast.estate_dpo, deployment=live_deployment, minutes=bad
            )
        assert refused.value.code == "service_level_invalid"
    client.force_login(cast.estate_dpo)
    url = reverse("deployment-review-service-level", args=[live_deployment.pk])
    response = client.post(url, {"minutes": "abc"}, follow=True)
    assert "whole number of minutes from 1 to 240" in response.content.decode()
    response = client.post(url, {"minutes": "10"}, follow=True)
    assert "Review service level set: 10 minutes" in response.content.decode()
    assert Deployment.objects.get(pk=live_deployment.pk).review_service_level_minutes == 10
    client.force_login(people.reviewer_a)
    assert client.post(url, {"minutes": "3"}).status_code == 403


def test_the_deployment_form_sets_the_service_level(client, cast, active_agreement):
    client.force_login(cast.estate_dpo)
    fields = deployment_fields(cast, name="Desk op")
    form = {
        k: (v.strftime("%Y-%m-%dT%H:%M") if hasattr(v, "hour") else str(v)) for k, v in fields.items() if v is not None
    }
    form.update({"agreements": [active_agreement.pk], "review_service_level_minutes": "3"})
    page = client.get(reverse("deployment-create")).content.decode()
    assert 'name="review_service_level_minutes"' in page and 'value="5"' in page
    response = client.post(reverse("deployment-create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    deployment = Deployment.objects.get(name="Desk op")
    assert deployment.review_service_level_minutes == 3
    form.update({"name": "Desk op 2", "review_service_level_minutes": "0"})
    response = client.post(reverse("deployment-create"), form)
    assert response.status_code == 200 and not Deployment.objects.filter(name="Desk op 2").exists()


# --- the JSON the page polls ----------------------------------------------------------------------


def test_the_poll_holds_what_the_page_shows_and_is_scoped_like_it(client, alert, people, cast, active_agreement):
    _share_images_with_reviewers(active_agreement, False)
    client.force_login(people.reviewer_a)
    response = client.get(reverse("review-queue-json"))
    assert response["Cache-Control"] == "no-store"
    [row] = response.json()["alerts"]
    assert row["id"] == alert.pk and row["waiting_text"].startswith("waiting 3 min")
    assert row["reference_thumbnail"] is None  # as the page: no image the reviewer may not see
    body = response.content.decode()
    for private in ("probe_crop", "crop_jpeg", "notes", "base64", "reviewer_id", people.police_reviewer.username):
        assert private not in body
    client.force_login(cast.btp_dpo)
    assert client.get(reverse("review-queue-json")).status_code == 403


def test_thumbnails_the_queue_fetches_by_itself_do_not_keep_an_idle_session(client, alert, people, settings):
    """A new alert arriving on an unattended queue brings its thumbnails: that is not the reviewer being active."""
    from governance.signin.middleware import LAST_ACTIVITY_KEY

    settings.OVERSIGHT_SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(people.reviewer_a)
        assert client.get(reverse("review-queue")).status_code == 200
        active = client.session[LAST_ACTIVITY_KEY]
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert _thumbnail(client, "alert-queue-crop-thumbnail", alert).status_code == 200
        assert client.session[LAST_ACTIVITY_KEY] == active
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("review-queue"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_api_reads_the_service_level_for_the_deployments_parties_and_only_the_operator_dpo_sets_it(
    client, live_deployment, cast
):
    detail = reverse("api-deployment-detail", args=[live_deployment.pk])
    setting = reverse("api-deployment-review-service-level", args=[live_deployment.pk])
    client.force_login(cast.met_dpo)  # the supplying force's DPO: a party, reads it, may not set it
    read = client.get(detail)
    assert read.status_code == 200
    assert read.json()["review_service_level_minutes"] == 5 and read.json()["reference"] == live_deployment.reference
    refused = client.post(setting, {"review_service_level_minutes": 3}, content_type="application/json")
    assert refused.status_code == 403
    client.force_login(cast.btp_dpo)  # no agreement of this deployment: it does not exist for BTP
    assert client.get(detail).status_code == 404
    assert client.post(setting, {"review_service_level_minutes": 3}, content_type="application/json").status_code == 404
    client.force_login(cast.estate_dpo)
    for bad in ("abc", 0, 241, "²", None):
        response = client.post(setting, {"review_service_level_minutes": bad}, content_type="application/json")
        assert response.status_code == 400, bad
    response = client.post(setting, {"review_service_level_minutes": 241}, content_type="application/json")
    assert response.json()["error"]["code"] == "validation_failed"
    assert "review_service_level_minutes" in response.json()["error"]["details"]
    response = client.post(setting, {"review_service_level_minutes": 12}, content_type="application/json")
    assert response.status_code == 200 and response.json()["review_service_level_minutes"] == 12
    assert Deployment.objects.get(pk=live_deployment.pk).review_service_level_minutes == 12
    event = AuditEvent.objects.filter(event="deployment.review_service_level_set").latest("pk")
    assert event.action == AuditAction.ALTERATION and event.details["minutes"] == 12
    assert event.actor_id == cast.estate_dpo.pk
