"""Recognition's step of the King's Cross scenario (registered with governance's scenario registry):
a deployment at Granary Square with one camera, proposed by the estate, authorised by the Met's
Authorising Officer (``ao.met``, Superintendent R. Baines), its watchlist composed and reviewed by Camden, then
live."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from governance.dpia.scenario import scenario_dpia_cover_deployment
from governance.scenario_registry import ScenarioContext, ScenarioStep, scenario_step_register


def scenario_watchlist_compose_and_review(scenario: ScenarioContext, deployment) -> bool:
    """Camden (the Met's borough unit that supplied the images) composes the Granary Square watchlist from
    its enrolled images under the Met agreement — the most recent of each person — and its DPO reviews it
    before go-live (recognition.deployments.watchlists). Returns whether there was anything to compose."""
    from recognition.deployments.watchlists import (
        deployment_watchlist_candidates,
        deployment_watchlist_compose,
        deployment_watchlist_review,
    )

    camden_dpo = scenario.users["dpo.camden"]
    newest = {}
    for image in deployment_watchlist_candidates(camden_dpo, deployment):
        newest.setdefault(image.subject_reference, image)  # ordered newest first per subject
    if not newest:
        return False
    deployment_watchlist_compose(actor=camden_dpo, deployment=deployment, images=list(newest.values()))
    deployment_watchlist_review(
        actor=camden_dpo,
        deployment=deployment,
        notes="Camden's review for Granary Square: charged and wanted on warrant only, the most recent custody "
        "image of each, all needed for this operation, none older than 12 months.",
    )
    return True


def scenario_live_deployment(scenario: ScenarioContext) -> None:
    from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
    from recognition.deployments.services.golive import deployment_go_live
    from recognition.deployments.services.planning import deployment_plan

    estate_dpo = scenario.users["dpo.estate"]
    now = timezone.now()
    deployment = deployment_plan(
        actor=estate_dpo,
        agreements=[scenario.current_agreement],
        fields={
            "name": "Granary Square overt LFR",
            "site": "King's Cross estate, Granary Square",
            "purpose": "Locate people charged with serious offences who are wanted on warrant.",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=14),
            "watchlist_justification": "Only people charged with violent offences and wanted on warrant, supplied "
            "under the force-level Met agreement; images under 12 months old.",
            "location_justification": "Repeated robberies around Granary Square; intelligence that wanted people "
            "use the square; overt, signed, limited to 14 days.",
            "public_notice": "Signs at every entrance to the square; estate website notice 48 hours ahead.",
            "public_notice_given_on": timezone.localdate() - timedelta(days=2),
        },
    )
    camera = camera_add(
        actor=estate_dpo,
        deployment=deployment,
        name="GS-1",
        location="Granary Square, north steps",
        direction="South towards the canal",
    )
    key = camera_issue_ingest_key(actor=estate_dpo, camera=camera)
    scenario_authorise(scenario, deployment)
    if scenario.dpia is not None:
        scenario_dpia_cover_deployment(actor=estate_dpo, dpia=scenario.dpia, deployment_id=deployment.pk)
    if not scenario.enrolment_finished():
        scenario.say(
            f"Deployment {deployment.reference} is planned with camera #{camera.pk} (GS-1), not live: the workers "
            "have not enrolled the watchlist yet. When they have, sign in as dpo.camden to compose and review "
            f"the deployment's watchlist, then as dpo.estate to take it live. Camera key: {key}"
        )
        return
    if not scenario_watchlist_compose_and_review(scenario, deployment):
        scenario.say(
            f"Deployment {deployment.reference} is planned with camera #{camera.pk} (GS-1), not live: Camden has no "
            f"enrolled images to put on its watchlist. Camera key: {key}"
        )
        return
    deployment_go_live(actor=estate_dpo, deployment=deployment)
    scenario.say(
        f"Deployment {deployment.reference} is live with camera #{camera.pk} (GS-1). Send it frames with\n"
        f"  python manage.py ingest_video VIDEO --camera {camera.pk}\n"
        f"or POST /api/v1/cameras/{camera.pk}/frames/ with the header 'Authorization: Camera {key}'."
    )


def scenario_authorise(scenario: ScenarioContext, deployment) -> None:
    """The Met's Authorising Officer authorises the estate's proposal before it goes live (APP on LFR)."""
    from recognition.deployments.authorisation import deployment_authorise

    officer = scenario.users.get("ao.met")
    if officer is None:
        return
    deployment_authorise(
        actor=officer,
        deployment=deployment,
        necessity="People wanted on warrant for violent offences are repeatedly reported in and around Granary "
        "Square; conventional patrols have not located them.",
        proportionality="Overt, signed, one camera, 14 days, a watchlist of a few recent images; non-matches are "
        "deleted at once and alerts are confirmed by two people, one of them police.",
        watchlist_criteria="Only people wanted by the police or the courts for violent offences, supplied under the "
        "force-level Met agreement; the most recent suitable image, none older than 12 months.",
        location="Granary Square: the robberies and the intelligence place the wanted people there; the camera "
        "covers the north steps only.",
    )


scenario_step_register(ScenarioStep(name="live-deployment", run=scenario_live_deployment))
