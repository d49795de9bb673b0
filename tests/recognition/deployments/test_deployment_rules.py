"""Planning and going live: the Authorising Officer's record, the threshold, the watchlist review."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from recognition.deployments.models import DeploymentStatus
from recognition.deployments.services.golive import deployment_go_live, deployment_pause
from recognition.deployments.services.planning import deployment_plan, deployment_set_threshold, watchlist_review_record
from recognition.engine.config import load_config
from tests.factories import compose_watchlist, ensure_watchlist
from tests.recognition.deployments.conftest import deployment_fields, enrolled_image_row, go_live

pytestmark = pytest.mark.django_db


# Below the engine's default (SFace 0.42, FaceNet 0.59): what "lowered" means depends on the backend. From the
# settings (no switch happens in these tests), so nothing touches the database at import.
LOWER = round(load_config().match_threshold - 0.08, 2)


def test_lower_threshold_needs_a_justification_and_no_approver_typed_by_the_operator(cast, active_agreement):
    with pytest.raises(ValidationFailed) as refused:
        deployment_plan(
            actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast, match_threshold=LOWER)
        )
    assert refused.value.code == "threshold_justification_required"
    # The free-text approver is gone: the Authorising Officer's authorisation covers the threshold.
    with pytest.raises(ValidationFailed) as unknown:
        deployment_plan(
            actor=cast.estate_dpo,
            agreements=[active_agreement],
            fields=deployment_fields(
                cast,
                match_threshold=LOWER,
                threshold_justification="Poor lighting under the canopy lowers scores.",
                threshold_approved_by_name="Estate manager",
            ),
        )
    assert unknown.value.details == ["threshold_approved_by_name"]
    deployment = deployment_plan(
        actor=cast.estate_dpo,
        agreements=[active_agreement],
        fields=deployment_fields(
            cast, match_threshold=LOWER, threshold_justification="Poor lighting under the canopy lowers scores."
        ),
    )
    planned = AuditEvent.objects.get(event="deployment.planned", target_id=str(deployment.pk))
    assert planned.details["threshold"] == LOWER


def test_default_threshold_comes_from_the_engine_and_raising_it_needs_no_justification(cast, active_agreement):
    from recognition.engine.config import load_config

    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    assert deployment.match_threshold == pytest.approx(load_config().match_threshold)
    deployment_set_threshold(actor=cast.estate_dpo, deployment=deployment, threshold=0.7)
    with pytest.raises(ValidationFailed):
        deployment_set_threshold(actor=cast.estate_dpo, deployment=deployment, threshold=LOWER)


def test_written_justifications_are_required(cast, active_agreement):
    with pytest.raises(ValidationFailed) as refused:
        deployment_plan(
            actor=cast.estate_dpo,
            agreements=[active_agreement],
            fields=deployment_fields(cast, watchlist_justification="", location_justification="x"),
        )
    assert set(refused.value.details) == {"watchlist_justification", "location_justification"}


def test_only_active_agreements_with_the_operator_and_only_its_dpo(cast, submitted_agreement, active_agreement):
    with pytest.raises(PermissionRefused):
        deployment_plan(actor=cast.estate_reviewer, agreements=[active_agreement], fields=deployment_fields(cast))
    with pytest.raises(PermissionRefused):
        deployment_plan(actor=cast.met_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    with pytest.raises(ValidationFailed) as refused:
        deployment_plan(actor=cast.other_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    assert refused.value.code == "agreement_not_for_operator"


def test_go_live_without_a_watchlist_review_is_refused(cast, planned_deployment, active_agreement):
    with pytest.raises(StateConflict) as empty:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert empty.value.code == "watchlist_empty"
    compose_watchlist(planned_deployment, [enrolled_image_row(active_agreement, cast.camden)])
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert refused.value.code == "watchlist_review_required"
    deployment = go_live(cast, planned_deployment)
    assert deployment.status == DeploymentStatus.LIVE


def test_each_go_live_needs_its_own_review(cast, live_deployment):
    deployment_pause(actor=cast.estate_dpo, deployment=live_deployment, reason="Rain, cameras blinded.")
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=live_deployment)
    assert refused.value.code == "watchlist_review_required"
    assert go_live(cast, live_deployment).status == DeploymentStatus.LIVE


def test_a_review_goes_stale_and_a_changed_watchlist_needs_a_new_review(cast, active_agreement):
    planned_deployment = deployment_plan(
        actor=cast.estate_dpo,
        agreements=[active_agreement],
        fields=deployment_fields(cast, ends_at=timezone.now() + timedelta(days=3)),
    )
    compose_watchlist(planned_deployment, [enrolled_image_row(active_agreement, cast.camden)])
    watchlist_review_record(
        actor=cast.met_dpo, deployment=planned_deployment, notes="Reviewed: all wanted, all current."
    )
    compose_watchlist(planned_deployment, [enrolled_image_row(active_agreement, cast.camden, subject="KX-2")])
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert refused.value.code == "watchlist_changed_since_review"
    watchlist_review_record(
        actor=cast.met_dpo, deployment=planned_deployment, notes="Reviewed again after the new image."
    )
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        with pytest.raises(StateConflict) as stale:
            deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert stale.value.code == "watchlist_review_stale"


def test_go_live_outside_the_window_is_refused(cast, active_agreement):
    now = timezone.now()
    deployment = deployment_plan(
        actor=cast.estate_dpo,
        agreements=[active_agreement],
        fields=deployment_fields(cast, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=6)),
    )
    ensure_watchlist(deployment)
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert refused.value.code == "outside_window"


def test_go_live_needs_an_active_agreement(cast, planned_deployment, active_agreement):
    from governance.agreements.models import Agreement, AgreementStatus

    ensure_watchlist(planned_deployment)
    Agreement.objects.filter(pk=active_agreement.pk).update(status=AgreementStatus.TERMINATED)
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert refused.value.code == "no_active_agreement"


def test_deployment_ends_by_itself_at_ends_at(cast, live_deployment):
    from recognition.deployments.tasks import deployments_end_due

    assert deployments_end_due() == 0
    with time_machine.travel(live_deployment.ends_at + timedelta(minutes=1)):
        assert deployments_end_due() == 1
        assert deployments_end_due() == 0
    live_deployment.refresh_from_db()
    assert live_deployment.status == DeploymentStatus.ENDED
    event = AuditEvent.objects.get(event="deployment.ended", target_id=str(live_deployment.pk))
    assert event.actor_username == "system"


def test_other_organisations_cannot_see_and_regulators_cannot_operate(cast, planned_deployment):
    with pytest.raises(NotFound):
        watchlist_review_record(actor=cast.other_dpo, deployment=planned_deployment, notes="Not mine at all.")
    with pytest.raises(PermissionRefused):
        watchlist_review_record(actor=cast.regulator, deployment=planned_deployment, notes="Regulators read.")
    from recognition.deployments.access import deployments_visible_to

    assert list(deployments_visible_to(cast.regulator)) == [planned_deployment]
    assert list(deployments_visible_to(cast.other_dpo)) == []
    assert list(deployments_visible_to(cast.camden_dpo)) == [planned_deployment]  # supplying unit
