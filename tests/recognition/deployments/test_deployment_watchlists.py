"""Each deployment's watchlist: composed and reviewed by the supplying force, never by the operator, and
erased at the operator within the agreement's watchlist hours after the deployment ends (time passing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict
from governance.retention.models import HoldScope
from governance.retention.services import legal_hold_place, retention_sweep
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent
from governance.watchlist.services import _grant_image_access
from recognition.deployments.models import DeploymentStatus
from recognition.deployments.services.golive import deployment_end, deployment_go_live, deployment_pause
from recognition.deployments.services.planning import deployment_plan, watchlist_review_record
from recognition.deployments.watchlist_models import DeploymentWatchlistEntry
from recognition.deployments.watchlists import (
    deployment_matched_image_ids,
    deployment_watchlist_compose,
    deployment_watchlist_images,
    deployment_watchlist_remove,
    deployment_watchlist_review,
)
from recognition.models import FaceTemplate
from tests.factories import WatchlistImageFactory
from tests.recognition.deployments.conftest import authorise, deployment_fields, go_live

pytestmark = pytest.mark.django_db
RULE = "watchlist_image.deployment_ended"
NOTES = "Checked: wanted on warrant, most recent custody images, all needed for this operation."


def held_image(agreement, *, subject="KX-SUBJ-0001", taken_days_ago=10, supplier=None):
    """An enrolled image as the operator holds it: its encrypted bytes and one face template (rows only:
    what erasure must remove; no engine needed)."""
    image = WatchlistImageFactory(
        agreement=agreement,
        subject_reference=subject,
        image_taken_on=timezone.localdate() - timedelta(days=taken_days_ago),
        stored_sha256="b" * 64,
        sha256=uuid.uuid4().hex * 2,
        **({"supplying_organisation": supplier} if supplier else {}),
    )
    _grant_image_access(image)  # as an upload does: supplier and operator see it (holds, pages)
    WatchlistImageContent.objects.create(
        image=image, ciphertext=encryption.encrypt(b"jpeg-bytes"), key_id="k1", content_type="image/jpeg"
    )
    FaceTemplate.objects.create(
        image=image,
        agreement=agreement,
        ciphertext=b"encrypted-template",
        key_id="k1",
        face_box=[0, 0, 10, 10],
        detection_probability=0.99,
        engine="test",
        backend="test-backend",
        created_at=timezone.now(),
    )
    return image


def plan(cast, agreement, **overrides):
    return deployment_plan(actor=cast.estate_dpo, agreements=[agreement], fields=deployment_fields(cast, **overrides))


# --- composition -------------------------------------------------------------------------------------


def test_the_force_composes_and_the_gallery_is_exactly_its_matchable_entries(cast, active_agreement):
    deployment = plan(cast, active_agreement)
    chosen, other = held_image(active_agreement, subject="KX-A"), held_image(active_agreement, subject="KX-B")
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[chosen])
    assert list(deployment_watchlist_images(deployment)) == [chosen]
    event = AuditEvent.objects.get(event="deployment.watchlist_composed")
    assert event.details["added"] == [chosen.pk] and event.actor_username == "dpo.met"
    # Camden's DPO composes its own unit's images too; an image restricted since drops out of the gallery.
    deployment_watchlist_compose(actor=cast.camden_dpo, deployment=deployment, images=[other])
    WatchlistImage.objects.filter(pk=other.pk).update(restricted_at=timezone.now())
    assert list(deployment_watchlist_images(deployment)) == [chosen]


def test_the_operator_and_strangers_cannot_compose_or_review(cast, active_agreement, people):
    deployment = plan(cast, active_agreement)
    image = held_image(active_agreement)
    with pytest.raises(PermissionRefused) as operator:
        deployment_watchlist_compose(actor=cast.estate_dpo, deployment=deployment, images=[image])
    assert operator.value.code == "watchlist_compose_not_permitted"
    with pytest.raises(PermissionRefused):
        deployment_watchlist_compose(actor=cast.regulator, deployment=deployment, images=[image])
    with pytest.raises(NotFound):
        deployment_watchlist_compose(actor=cast.btp_dpo, deployment=deployment, images=[image])
    assert not DeploymentWatchlistEntry.objects.exists()

    deployment_watchlist_compose(actor=people.camden_submitter, deployment=deployment, images=[image])
    with pytest.raises(PermissionRefused) as review:
        watchlist_review_record(actor=cast.estate_dpo, deployment=deployment, notes=NOTES)
    assert review.value.code == "watchlist_review_not_permitted"
    with pytest.raises(PermissionRefused):
        deployment_watchlist_review(actor=people.camden_submitter, deployment=deployment, notes=NOTES)
    assert not deployment.watchlist_reviews.exists()


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (
            lambda i: WatchlistImage.objects.filter(pk=i.pk).update(status=ImageStatus.WITHDRAWN),
            "watchlist_image_withdrawn",
        ),
        (lambda i: WatchlistImage.objects.filter(pk=i.pk).update(status=ImageStatus.ERASED), "watchlist_image_erased"),
        (
            lambda i: WatchlistImage.objects.filter(pk=i.pk).update(restricted_at=timezone.now()),
            "watchlist_image_restricted",
        ),
        (
            lambda i: WatchlistImage.objects.filter(pk=i.pk).update(status=ImageStatus.RECEIVED),
            "watchlist_image_not_enrolled",
        ),
    ],
)
def test_unsuitable_images_are_refused_and_nothing_is_stored(cast, active_agreement, spoil, code):
    deployment = plan(cast, active_agreement)
    good, bad = held_image(active_agreement, subject="KX-A"), held_image(active_agreement, subject="KX-B")
    spoil(bad)
    with pytest.raises(StateConflict) as refused:
        deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[good, bad])
    assert refused.value.code == code
    assert not DeploymentWatchlistEntry.objects.exists()
    assert not AuditEvent.objects.filter(event="deployment.watchlist_composed").exists()


def test_only_the_most_recent_suitable_image_and_only_the_force_s_own(cast, active_agreement, people):
    deployment = plan(cast, active_agreement)
    older = held_image(active_agreement, subject="KX-A", taken_days_ago=300)
    newer = held_image(active_agreement, subject="KX-A", taken_days_ago=5)
    with pytest.raises(StateConflict) as refused:
        deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[older])
    assert refused.value.code == "watchlist_image_not_most_recent"
    assert refused.value.details == {"newer_image": newer.pk}
    # A submitter composes the images their own organisation supplied, not the force's other images.
    met_image = held_image(active_agreement, subject="KX-M", supplier=cast.met)
    with pytest.raises(StateConflict) as not_yours:
        deployment_watchlist_compose(actor=people.camden_submitter, deployment=deployment, images=[met_image])
    assert not_yours.value.code == "watchlist_image_not_yours"
    assert deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[newer, met_image])


# --- review and go-live ------------------------------------------------------------------------------


def test_go_live_needs_the_force_s_current_review_and_a_change_voids_it(cast, active_agreement):
    from tests.conftest import approved_dpia

    deployment = plan(cast, active_agreement)
    approved_dpia(cast, deployments=[deployment])
    authorise(deployment)  # the Met's Authorising Officer (recognition.deployments.authorisation)
    first, second = held_image(active_agreement, subject="KX-A"), held_image(active_agreement, subject="KX-B")
    with pytest.raises(StateConflict) as empty:
        deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert empty.value.code == "watchlist_empty"
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[first])
    with pytest.raises(StateConflict) as unreviewed:
        deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert unreviewed.value.code == "watchlist_review_required"

    review = deployment_watchlist_review(actor=cast.camden_dpo, deployment=deployment, notes=NOTES)
    assert review.force == cast.met and review.image_ids == [first.pk]
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[second])
    review.refresh_from_db()
    assert review.voided_at is not None
    with pytest.raises(StateConflict) as changed:
        deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert changed.value.code == "watchlist_changed_since_review"

    deployment_watchlist_review(actor=cast.met_dpo, deployment=deployment, notes=NOTES)
    live = deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert live.status == DeploymentStatus.LIVE
    assert deployment_matched_image_ids(live.pk) == [first.pk, second.pk]
    # While live: an image taken off stops matching at once; one added waits for a new review.
    third = held_image(active_agreement, subject="KX-C")
    deployment_watchlist_remove(actor=cast.met_dpo, deployment=live, images=[first], reason="Arrested yesterday.")
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=live, images=[third])
    assert deployment_matched_image_ids(live.pk) == [second.pk]
    deployment_watchlist_review(actor=cast.met_dpo, deployment=live, notes=NOTES)
    assert deployment_matched_image_ids(live.pk) == [second.pk, third.pk]
    # A review already in force does not take the deployment live again after a pause.
    deployment_pause(actor=cast.estate_dpo, deployment=live, reason="Rain, cameras blinded.")
    with pytest.raises(StateConflict) as again:
        deployment_go_live(actor=cast.estate_dpo, deployment=live)
    assert again.value.code == "watchlist_review_required"


# --- erasure after the deployment ends ----------------------------------------------------------------


def _erased(image) -> bool:
    image.refresh_from_db()
    return image.status == ImageStatus.ERASED


def test_watchlist_erased_within_the_hours_after_the_deployment_ends(cast, active_agreement):
    deployment = plan(cast, active_agreement)
    image = held_image(active_agreement)
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=deployment, images=[image])
    go_live(cast, deployment)
    # Still live past the grace period after upload: held, because a live deployment needs it.
    with time_machine.travel(timezone.now() + timedelta(hours=7), tick=False):
        assert retention_sweep().erased_counts[RULE] == 0
        deployment_end(actor=cast.estate_dpo, deployment=deployment, reason="Operation complete.")
        ended_at = timezone.now()
    assert not _erased(image)

    with time_machine.travel(ended_at + timedelta(hours=23), tick=False):
        assert retention_sweep().erased_counts[RULE] == 0
    assert WatchlistImageContent.objects.filter(image=image).exists()
    assert FaceTemplate.objects.filter(image=image).exists()

    with time_machine.travel(ended_at + timedelta(hours=25), tick=False):
        run = retention_sweep()
    assert run.erased_counts[RULE] == 2  # the bytes and the template
    assert not WatchlistImageContent.objects.filter(image=image).exists()
    assert not FaceTemplate.objects.filter(image=image).exists()
    certificates = DeletionCertificate.objects.filter(details__watchlist_image=image.pk, run_id=str(run.run_id))
    assert {c.subject_type for c in certificates} == {"governance.watchlistimagecontent", "recognition.facetemplate"}
    assert all(c.rule == RULE and deployment.reference in c.reason for c in certificates)
    event = AuditEvent.objects.get(event="watchlist_image.erased", target_id=str(image.pk))
    assert deployment.reference in event.justification
    # The force's provenance record stays, marked erased at the operator.
    image.refresh_from_db()
    assert image.status == ImageStatus.ERASED and image.subject_reference == "KX-SUBJ-0001" and image.sha256
    # The next deployment is supplied afresh: the erased image cannot be composed again.
    later = plan(cast, active_agreement, starts_at=ended_at + timedelta(days=2), ends_at=ended_at + timedelta(days=3))
    with pytest.raises(StateConflict) as refused:
        deployment_watchlist_compose(actor=cast.met_dpo, deployment=later, images=[image])
    assert refused.value.code == "watchlist_image_erased"


def test_an_image_on_two_watchlists_goes_only_after_the_last_deployment_ends(cast, active_agreement):
    first = plan(cast, active_agreement)
    second = plan(cast, active_agreement, ends_at=timezone.now() + timedelta(days=5))
    image = held_image(active_agreement)
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=first, images=[image])
    deployment_watchlist_compose(actor=cast.met_dpo, deployment=second, images=[image])
    deployment_end(actor=cast.estate_dpo, deployment=first, reason="Operation complete.")
    ended = timezone.now()
    with time_machine.travel(ended + timedelta(hours=30), tick=False):
        assert retention_sweep().erased_counts[RULE] == 0
        deployment_end(actor=cast.estate_dpo, deployment=second, reason="Operation complete.")
    assert not _erased(image)
    with time_machine.travel(ended + timedelta(hours=30 + 25), tick=False):
        retention_sweep()
    assert _erased(image)


def test_an_image_on_no_watchlist_is_erased_after_the_grace_hours_unless_held(cast, active_agreement):
    idle, held = held_image(active_agreement, subject="KX-A"), held_image(active_agreement, subject="KX-B")
    received = timezone.now()
    legal_hold_place(
        actor=cast.estate_dpo,
        target=f"{HoldScope.WATCHLIST_IMAGE.value}:{held.pk}",
        reason="Needed for a prosecution",
        until=received + timedelta(days=10),
    )
    with time_machine.travel(received + timedelta(hours=23), tick=False):
        assert retention_sweep().erased_counts[RULE] == 0
    with time_machine.travel(received + timedelta(hours=25), tick=False):
        run = retention_sweep()
    assert run.held_counts[RULE] == 1
    assert _erased(idle) and not _erased(held)
    certificate = DeletionCertificate.objects.filter(details__watchlist_image=idle.pk).first()
    assert "not on the watchlist of any planned or live deployment" in certificate.reason


# --- the pages ---------------------------------------------------------------------------------------


def test_the_force_composes_and_reviews_on_its_pages_and_the_operator_sees_counts(client, cast, active_agreement):
    from django.urls import reverse

    deployment = plan(cast, active_agreement)
    image = held_image(active_agreement, subject="KX-PAGE-1")
    compose_url = reverse("deployment-watchlist", args=[deployment.pk])
    review_url = reverse("deployment-watchlist-review", args=[deployment.pk])

    client.force_login(cast.estate_dpo)
    assert client.get(compose_url).status_code == 403
    assert client.post(review_url, {"notes": NOTES}).status_code == 403
    assert not deployment.watchlist_reviews.exists()

    client.force_login(cast.camden_dpo)
    page = client.get(compose_url).content.decode()
    assert "KX-PAGE-1" in page and "Your images that may be added (1)" in page
    client.post(compose_url, {"action": "add", "images": [image.pk]})
    assert list(deployment_watchlist_images(deployment)) == [image]
    client.post(review_url, {"notes": NOTES})
    assert deployment.watchlist_reviews.get().reviewed_by == cast.camden_dpo
    thumbnail = client.get(reverse("deployment-watchlist-thumbnail", args=[deployment.pk, image.pk]))
    assert thumbnail.status_code == 200 and thumbnail.content == b"jpeg-bytes"
    assert AuditEvent.objects.filter(event="watchlist_image.bytes_read", target_id=str(image.pk)).exists()
    client.post(compose_url, {"action": "remove", "images": [image.pk], "reason": "No longer wanted: arrested."})
    assert not deployment_watchlist_images(deployment).exists()

    client.force_login(cast.estate_dpo)
    page = client.get(reverse("deployment-detail", args=[deployment.pk])).content.decode()
    assert "Metropolitan Police Service" in page and "KX-PAGE-1" not in page
    client.force_login(cast.btp_dpo)
    assert client.get(compose_url).status_code == 404
