"""The Authorising Officer's pages: the proposals awaiting the force on the AO's home, the
authorise/refuse form on the deployment page, the post-deployment review chased until done, and the
historical free-text Authorising Officers shown as unverified."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from recognition.deployments.models import Deployment, DeploymentAuthorisation, PostDeploymentReview
from recognition.deployments.services.cameras import camera_add
from recognition.deployments.services.golive import deployment_end
from recognition.deployments.services.planning import deployment_plan
from tests.recognition.deployments.conftest import AUTHORISATION_REASONS, deployment_fields

pytestmark = pytest.mark.django_db


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def proposal(cast, active_agreement):
    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    camera_add(actor=cast.estate_dpo, deployment=deployment, name="GS-1", location="North steps", direction="South")
    return deployment


def test_the_ao_finds_the_proposal_on_their_home_and_authorises_it_on_the_deployment_page(client, cast, proposal):
    home = page(client, cast.met_ao, reverse("dashboard"))
    assert 'id="panel-deployments-to-authorise"' in home and proposal.reference in home
    assert 'id="panel-deployments-to-authorise"' not in page(client, cast.estate_dpo, reverse("dashboard"))
    detail = page(client, cast.met_ao, reverse("deployment-detail", args=[proposal.pk]))
    assert 'id="authorise-form"' in detail and "Awaiting the Authorising Officer" in detail
    assert "APP expects the Authorising Officer" not in detail  # a superintendent: no warning

    client.force_login(cast.met_ao)
    response = client.post(
        reverse("deployment-authorisation", args=[proposal.pk]), {"decision": "authorise", **AUTHORISATION_REASONS}
    )
    assert response.status_code == 302
    decision = DeploymentAuthorisation.objects.get()
    assert decision.officer == cast.met_ao and decision.force == cast.met
    detail = page(client, cast.estate_dpo, reverse("deployment-detail", args=[proposal.pk]))
    assert "Authorised</span> by Superintendent R. Baines" in detail
    assert proposal.reference not in page(client, cast.met_ao, reverse("dashboard"))


def test_the_operator_cannot_post_an_authorisation_and_nothing_is_stored(client, cast, proposal):
    detail = page(client, cast.estate_dpo, reverse("deployment-detail", args=[proposal.pk]))
    assert 'id="authorise-form"' not in detail
    client.force_login(cast.estate_dpo)
    response = client.post(
        reverse("deployment-authorisation", args=[proposal.pk]), {"decision": "authorise", **AUTHORISATION_REASONS}
    )
    assert response.status_code == 403
    assert not DeploymentAuthorisation.objects.exists()


def test_an_ao_below_superintendent_is_warned_not_refused(client, cast, proposal):
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create

    inspector = user_create(
        actor=None,
        username="insp.met",
        organisation=cast.met,
        roles=[Role.AUTHORISING_OFFICER],
        password=cast.password,
        rank="chief_inspector",
    )
    detail = page(client, inspector, reverse("deployment-detail", args=[proposal.pk]))
    assert "APP expects the Authorising Officer to be a superintendent or above" in detail
    assert "Chief Inspector" in detail
    client.force_login(inspector)
    client.post(
        reverse("deployment-authorisation", args=[proposal.pk]), {"decision": "authorise", **AUTHORISATION_REASONS}
    )
    assert DeploymentAuthorisation.objects.get().officer_rank == "Chief Inspector"


def test_the_post_deployment_review_is_chased_on_the_ao_home_until_recorded(client, cast, live_deployment):
    deployment_end(actor=cast.estate_dpo, deployment=live_deployment, reason="Operation complete.")
    home = page(client, cast.met_ao, reverse("dashboard"))
    assert 'id="panel-post-deployment-reviews-due"' in home and live_deployment.reference in home
    detail = page(client, cast.met_ao, reverse("deployment-detail", args=[live_deployment.pk]))
    assert 'id="post-review-form"' in detail and "Not reviewed yet: due by" in detail
    client.force_login(cast.met_ao)
    response = client.post(
        reverse("deployment-post-review", args=[live_deployment.pk]),
        {
            "outcomes": "One arrest of a person wanted on warrant.",
            "false_alerts": "None: no false alert was raised.",
            "issues": "Signage was in place throughout; no complaints.",
            "continue_decision": "continue",
        },
    )
    assert response.status_code == 302
    assert PostDeploymentReview.objects.get().reviewed_by == cast.met_ao
    assert live_deployment.reference not in page(client, cast.met_ao, reverse("dashboard"))
    detail = page(client, cast.estate_dpo, reverse("deployment-detail", args=[live_deployment.pk]))
    assert "reviewed by Superintendent R. Baines" in detail


def test_free_text_authorising_officers_migrate_as_unverified_records(client, cast, planned_deployment):
    """The data migration (0010): what the operator typed becomes a historical record, marked
    unverified, for the force (a unit typed: its force); it never counts as an authorisation."""
    legacy = Deployment.objects.filter(pk=planned_deployment.pk)
    legacy.update(
        authorising_officer_name="Police Constable Smith",
        authorising_officer_rank="Constable",
        authorising_officer_organisation=cast.camden,
        authorised_at=timezone.now() - timedelta(days=400),
    )
    DeploymentAuthorisation.objects.all().delete()  # as before authorisations were signed in Oversight
    migration = importlib.import_module("recognition.deployments.migrations.0010_authorisations_unverified_auth")
    migration.forwards(apps, None)
    record = DeploymentAuthorisation.objects.get()
    assert not record.verified and record.officer is None and record.force == cast.met
    assert record.officer_name == "Police Constable Smith" and not record.is_current
    detail = page(client, cast.estate_dpo, reverse("deployment-detail", args=[planned_deployment.pk]))
    assert "Unverified</span> typed by the operator, no account signed it" in detail
    assert "Police Constable Smith" in detail
