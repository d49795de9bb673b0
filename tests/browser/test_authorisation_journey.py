"""The estate's DPO proposes a deployment, the Met's Authorising Officer authorises it, the DPO takes
it live — in a real browser (College of Policing APP: the authorisation is a police decision)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recognition.deployments.models import Deployment, DeploymentStatus
from tests.conftest import approved_dpia
from tests.recognition.deployments.conftest import AUTHORISATION_REASONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")


def sign_out(page):
    page.context.clear_cookies()


def test_the_estate_proposes_the_met_ao_authorises_and_the_estate_goes_live(
    browser_page, live_server, cast, active_agreement, artifacts_dir
):
    page = browser_page
    now = timezone.localtime()

    # The estate's DPO proposes: no officer is named on the form.
    sign_in(page, live_server, "dpo.estate", cast.password)
    page.goto(f"{live_server.url}/deployments/new/")
    assert page.locator("#id_authorising_officer_name").count() == 0
    page.fill("#id_name", "Browser-proposed Granary Square LFR")
    page.fill("#id_site", "King's Cross estate, Granary Square")
    page.fill("#id_purpose", "Locate people wanted by the courts for violent offences.")
    page.fill("#id_starts_at", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_ends_at", (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"))
    page.check(f"input[name=agreements][value='{active_agreement.pk}']")
    page.fill("#id_watchlist_justification", "People wanted on warrant for violent offences, most recent images.")
    page.fill("#id_location_justification", "Repeated robberies in the square; intelligence places them there.")
    page.fill("#id_public_notice", "Signs at every entrance; notice on the estate website 48 hours ahead.")
    page.fill("#id_public_notice_given_on", (now.date() - timedelta(days=2)).isoformat())
    page.click("text=Plan the deployment")
    page.wait_for_selector("#authorisation")
    deployment = Deployment.objects.get()
    page.fill("input[name=name]", "GS-1")
    page.fill("input[name=location]", "Granary Square, north steps")
    page.fill("input[name=direction]", "South towards the canal")
    page.click("text=Add camera")
    page.wait_for_selector("text=Camera added.")
    assert "Awaiting the Authorising Officer" in page.inner_text("#authorisation")
    # Not yet authorised: going live is refused, naming the force.
    approved_dpia(cast, deployments=[deployment])
    page.fill("textarea[name=notes]", "All images current, wanted category only.")
    page.click("text=Record watchlist review")
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=authorisation from the Authorising Officer of Metropolitan Police Service")
    sign_out(page)

    # The Met's Authorising Officer finds it on their home page and authorises it.
    sign_in(page, live_server, "ao.met", cast.password)
    page.goto(f"{live_server.url}/")
    page.click(f"#panel-deployments-to-authorise >> text={deployment.reference}")
    page.wait_for_selector("#authorise-form")
    for field, text in AUTHORISATION_REASONS.items():
        page.fill(f"#authorise-form textarea[name={field}]", text)
    page.click("#authorise-form button[type=submit]")
    page.wait_for_selector(f"text=You authorised {deployment.reference}")
    assert "Authorised by Superintendent R. Baines" in page.inner_text("#authorisation")
    page.screenshot(path=str(artifacts_dir / "authorisation-by-the-met-ao.png"), full_page=True)
    sign_out(page)

    # The estate's DPO takes it live.
    sign_in(page, live_server, "dpo.estate", cast.password)
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/")
    page.fill("textarea[name=notes]", "Reviewed again before going live: all current.")
    page.click("text=Record watchlist review")
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=The deployment is live.")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.LIVE
