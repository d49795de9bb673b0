"""The Authorising Officer (College of Policing APP on LFR): a police officer with an account, of
each supplying force, authorises what the operator proposes; a change voids it; go-live needs every
force's; the public is told before the start; the AO reviews the deployment afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.organisations.models import PoliceRank, User
from governance.organisations.roles import Role
from governance.organisations.services import user_create
from recognition.deployments import authorisation
from recognition.deployments.models import (
    AuthorisationDecision,
    DeploymentAuthorisation,
    DeploymentStatus,
    PostDeploymentReview,
)
from recognition.deployments.services.cameras import camera_add
from recognition.deployments.services.golive import deployment_end, deployment_go_live
from recognition.deployments.services.planning import deployment_plan, deployment_set_threshold
from tests.recognition.deployments.conftest import (
    AUTHORISATION_REASONS,
    authorise,
    authorising_officer,
    deployment_fields,
    go_live,
)
from tests.recognition.deployments.test_supply_scope import btp_agreement  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(cast, active_agreement):
    """A deployment the estate proposed, with its camera, not yet authorised."""
    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    camera_add(actor=cast.estate_dpo, deployment=deployment, name="GS-1", location="North steps", direction="South")
    return deployment


def _try_go_live(cast, deployment):
    """Every other prerequisite met (a DPIA, a fresh watchlist review): only the police's decision decides."""
    from governance.dpia.rules import dpias_covering_deployment
    from tests.conftest import approved_dpia

    if not dpias_covering_deployment(deployment.pk).exists():
        approved_dpia(cast, deployments=[deployment])
    from tests.factories import ensure_watchlist

    ensure_watchlist(deployment)  # the supplying forces compose and review it
    return deployment_go_live(actor=cast.estate_dpo, deployment=deployment)


def _audit(event: str, deployment) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=event, target_id=str(deployment.pk)))


# --- the role and the rank -----------------------------------------------------------------------


def test_the_authorising_officer_role_belongs_to_a_police_force_and_the_rank_is_recorded(cast):
    assert cast.met_ao.rank == PoliceRank.SUPERINTENDENT
    assert cast.met_ao.has_role(Role.AUTHORISING_OFFICER)
    assert not cast.met_ao.rank_below_superintendent
    for organisation in (cast.estate, cast.camden, cast.regulator_org):
        with pytest.raises(ValidationFailed) as refused:
            user_create(
                actor=None,
                username=f"ao.{organisation.short_name}",
                organisation=organisation,
                roles=[Role.AUTHORISING_OFFICER],
            )
        assert refused.value.code == "authorising_officer_not_force"
    assert not User.objects.filter(username__in=["ao.kx-estate", "ao.met-camden", "ao.bscc"]).exists()
    with pytest.raises(ValidationFailed) as refused:
        user_create(actor=None, username="ranked.estate", organisation=cast.estate, roles=[Role.DPO], rank="inspector")
    assert refused.value.code == "rank_not_police"
    inspector = user_create(
        actor=None, username="insp.met", organisation=cast.met, roles=[Role.AUTHORISING_OFFICER], rank="inspector"
    )
    assert inspector.rank_below_superintendent  # a warning, not a refusal


def test_the_operator_proposes_without_naming_any_officer(cast, active_agreement):
    with pytest.raises(ValidationFailed) as refused:
        deployment_plan(
            actor=cast.estate_dpo,
            agreements=[active_agreement],
            fields=deployment_fields(cast, authorising_officer_name="Police Constable Smith"),
        )
    assert refused.value.details == ["authorising_officer_name"]


# --- who decides ---------------------------------------------------------------------------------


def test_the_operator_cannot_authorise(cast, proposal):
    for actor in (cast.estate_dpo, cast.met_dpo):
        with pytest.raises(PermissionRefused) as refused:
            authorisation.deployment_authorise(actor=actor, deployment=proposal, **AUTHORISATION_REASONS)
        assert refused.value.code == "not_authorising_officer"
    assert not DeploymentAuthorisation.objects.exists()
    assert not _audit("deployment.authorised", proposal)


def test_an_authorising_officer_of_a_force_that_does_not_supply_it_cannot_decide(cast, proposal, btp_agreement):
    btp_ao = authorising_officer(cast.btp)
    # BTP supplies nothing to this deployment: to its AO it does not exist (no access looks like not found).
    with pytest.raises(NotFound) as refused:
        authorisation.deployment_authorise(actor=btp_ao, deployment=proposal, **AUTHORISATION_REASONS)
    assert refused.value.code == "not_found"
    # Once BTP supplies another deployment it sees that one; this one stays another force's decision.
    two_forces = deployment_plan(
        actor=cast.estate_dpo,
        agreements=[proposal.agreements.get(), btp_agreement],
        fields=deployment_fields(cast),
    )
    assert [f.short_name for f in authorisation.deployment_supplying_forces(two_forces)] == ["btp", "met"]
    with pytest.raises(NotFound):
        authorisation.deployment_authorisation_refuse(actor=btp_ao, deployment=proposal, reasons="Not ours to decide.")
    assert not DeploymentAuthorisation.objects.exists()


def test_reasons_are_required(cast, proposal):
    with pytest.raises(ValidationFailed) as refused:
        authorisation.deployment_authorise(
            actor=cast.met_ao,
            deployment=proposal,
            **(AUTHORISATION_REASONS | {"proportionality": "", "location": "ok"}),
        )
    assert refused.value.code == "authorisation_reasons_required"
    assert set(refused.value.details) == {"proportionality", "location"}
    with pytest.raises(ValidationFailed):
        authorisation.deployment_authorisation_refuse(actor=cast.met_ao, deployment=proposal, reasons="no")
    assert not DeploymentAuthorisation.objects.exists()


# --- go-live -------------------------------------------------------------------------------------


def test_go_live_needs_the_authorisation_of_every_supplying_force(cast, people, proposal, btp_agreement):
    deployment = deployment_plan(
        actor=cast.estate_dpo, agreements=[proposal.agreements.get(), btp_agreement], fields=deployment_fields(cast)
    )
    camera_add(actor=cast.estate_dpo, deployment=deployment, name="GS-1", location="N", direction="S")
    with pytest.raises(StateConflict) as refused:
        _try_go_live(cast, deployment)
    assert refused.value.code == "authorisation_required"
    assert refused.value.details == {"missing_forces": ["btp", "met"]}
    assert "British Transport Police" in refused.value.message
    assert "Metropolitan Police Service" in refused.value.message

    authorisation.deployment_authorise(actor=cast.met_ao, deployment=deployment, **AUTHORISATION_REASONS)
    with pytest.raises(StateConflict) as refused:
        _try_go_live(cast, deployment)
    assert refused.value.details == {"missing_forces": ["btp"]}
    assert "Metropolitan" not in refused.value.message
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.PLANNED
    assert not _audit("deployment.went_live", deployment)

    live = go_live(cast, deployment)  # BTP's AO authorises too
    assert live.status == DeploymentStatus.LIVE


def test_an_authorisation_is_signed_by_the_officer_and_keeps_what_it_covers(cast, proposal):
    decision = authorisation.deployment_authorise(actor=cast.met_ao, deployment=proposal, **AUTHORISATION_REASONS)
    assert decision.force == cast.met and decision.officer == cast.met_ao and decision.verified
    assert decision.officer_name == "R. Baines" and decision.officer_rank == "Superintendent"
    assert decision.terms["cameras"] == [["GS-1", "North steps", "South"]]
    assert decision.terms["threshold"] == pytest.approx(proposal.match_threshold)
    assert decision.terms["watchlist_criteria"] == proposal.watchlist_justification
    [event] = _audit("deployment.authorised", proposal)
    assert event.actor_id == cast.met_ao.pk and event.details["force"] == "met"
    with pytest.raises(StateConflict) as refused:
        authorisation.deployment_authorise(actor=cast.met_ao, deployment=proposal, **AUTHORISATION_REASONS)
    assert refused.value.code == "already_authorised"
    assert DeploymentAuthorisation.objects.count() == 1


def test_a_change_after_authorisation_voids_it_and_go_live_is_refused(cast, proposal):
    authorise(proposal)
    camera_add(actor=cast.estate_dpo, deployment=proposal, name="GS-2", location="South", direction="N")
    decision = DeploymentAuthorisation.objects.get()
    assert decision.voided_at is not None and "camera GS-2 added" in decision.void_reason
    [voided] = _audit("deployment.authorisation_voided", proposal)
    assert voided.details["force"] == "met"
    with pytest.raises(StateConflict) as refused:
        _try_go_live(cast, proposal)
    assert refused.value.code == "authorisation_required"

    # Authorised again as it now stands; then the threshold changes: void again.
    authorise(proposal)
    deployment_set_threshold(actor=cast.estate_dpo, deployment=proposal, threshold=0.9)
    assert not DeploymentAuthorisation.objects.filter(voided_at__isnull=True).exists()
    assert len(_audit("deployment.authorisation_voided", proposal)) == 2
    assert go_live(cast, proposal).status == DeploymentStatus.LIVE  # authorised a third time, at 0.9


def test_a_refusal_withdraws_the_force_authorisation(cast, proposal):
    authorise(proposal)
    refusal = authorisation.deployment_authorisation_refuse(
        actor=cast.met_ao, deployment=proposal, reasons="Intelligence no longer supports the location."
    )
    assert refusal.decision == AuthorisationDecision.REFUSED
    assert DeploymentAuthorisation.objects.filter(decision="authorised").get().voided_at is not None
    with pytest.raises(StateConflict) as refused:
        _try_go_live(cast, proposal)
    assert refused.value.code == "authorisation_required"
    assert _audit("deployment.authorisation_refused", proposal)


# --- public notice -------------------------------------------------------------------------------


def test_a_public_notice_after_the_start_is_refused_at_planning(cast, active_agreement):
    late = timezone.localdate() + timedelta(days=10)
    with pytest.raises(ValidationFailed) as refused:
        deployment_plan(
            actor=cast.estate_dpo,
            agreements=[active_agreement],
            fields=deployment_fields(cast, public_notice_given_on=late),
        )
    assert refused.value.code == "notice_after_start"
    assert "public_notice_given_on" in refused.value.details
    assert not _audit_any("deployment.planned")
    # Given on the day it starts: accepted.
    deployment_plan(
        actor=cast.estate_dpo,
        agreements=[active_agreement],
        fields=deployment_fields(cast, public_notice_given_on=timezone.localdate(timezone.now() - timedelta(hours=1))),
    )


def _audit_any(event: str) -> bool:
    return AuditEvent.objects.filter(event=event).exists()


def test_a_public_notice_after_the_start_is_refused_at_go_live(cast, planned_deployment):
    from recognition.deployments.models import Deployment

    # A record written before the rule (e.g. migrated): the gate at go-live still holds.
    Deployment.objects.filter(pk=planned_deployment.pk).update(
        public_notice_given_on=timezone.localdate() + timedelta(days=3)
    )
    planned_deployment.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        go_live(cast, planned_deployment)
    assert refused.value.code == "notice_after_start"
    planned_deployment.refresh_from_db()
    assert planned_deployment.status == DeploymentStatus.PLANNED


# --- after the deployment -------------------------------------------------------------------------

REVIEW = {
    "outcomes": "Two people wanted on warrant located; one arrest, one spoken to.",
    "false_alerts": "One false alert, closed by the reviewers within two minutes.",
    "issues": "A sign at the east entrance was missing for the first hour.",
    "continue_decision": "continue_with_changes",
}


def test_the_authorising_officer_reviews_the_deployment_afterwards_and_is_chased_until_done(cast, live_deployment):
    with pytest.raises(StateConflict) as refused:
        authorisation.post_deployment_review_record(actor=cast.met_ao, deployment=live_deployment, **REVIEW)
    assert refused.value.code == "deployment_not_ended"
    deployment_end(actor=cast.estate_dpo, deployment=live_deployment, reason="Operation complete.")
    live_deployment.refresh_from_db()
    [row] = authorisation.post_deployment_reviews_awaited(cast.met_ao)
    assert row["deployment"] == live_deployment and not row["overdue"]
    assert row["due_on"] == timezone.localdate() + timedelta(days=settings.OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS)
    assert authorisation.post_deployment_reviews_awaited(cast.met_dpo) == []
    with time_machine.travel(timezone.now() + timedelta(days=settings.OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS + 1)):
        [row] = authorisation.post_deployment_reviews_awaited(cast.met_ao)
        assert row["overdue"]
    with pytest.raises(PermissionRefused) as refused:
        authorisation.post_deployment_review_record(actor=cast.estate_dpo, deployment=live_deployment, **REVIEW)
    assert refused.value.code == "not_authorising_officer"
    with pytest.raises(ValidationFailed) as refused:
        authorisation.post_deployment_review_record(
            actor=cast.met_ao, deployment=live_deployment, **(REVIEW | {"continue_decision": "maybe"})
        )
    assert refused.value.code == "review_incomplete"
    assert not PostDeploymentReview.objects.exists()

    review = authorisation.post_deployment_review_record(actor=cast.met_ao, deployment=live_deployment, **REVIEW)
    assert review.force == cast.met and review.reviewed_by_rank == "Superintendent"
    assert review.figures["alerts"] == 0
    assert authorisation.post_deployment_reviews_awaited(cast.met_ao) == []
    assert _audit("deployment.post_reviewed", live_deployment)
    with pytest.raises(StateConflict) as refused:
        authorisation.post_deployment_review_record(actor=cast.met_ao, deployment=live_deployment, **REVIEW)
    assert refused.value.code == "already_reviewed"
