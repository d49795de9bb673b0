"""A DPO writes a DPIA in a real browser, sends it for review, approves it, and takes the deployment it
covers live — which the same page refused while no approved DPIA covered it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_dpo_agreement_journey import sign_in
from tests.factories import ensure_watchlist
from tests.recognition.deployments.conftest import people, planned_deployment  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dpo_writes_reviews_approves_a_dpia_and_takes_the_deployment_live(
    browser_page, live_server, cast, planned_deployment, artifacts_dir
):  # noqa: F811
    page = browser_page
    deployment_url = f"{live_server.url}/deployments/{planned_deployment.pk}/"
    ensure_watchlist(planned_deployment)  # the supplying force composes and reviews the watchlist, not the estate
    sign_in(page, live_server, "dpo.estate", cast.password)

    # Without a DPIA the deployment says so, and go-live is refused.
    page.goto(deployment_url)
    assert "No approved DPIA covers this deployment" in page.inner_text("main")
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=No approved DPIA covers this deployment; it cannot go live")

    # Write the DPIA.
    page.click("header.top >> text=DPIAs")
    page.click("#new-dpia")
    sections = {
        "title": "Granary Square live facial recognition",
        "nature": "Faces seen by the GS-1 camera are compared with a police watchlist; non-matches discarded at once.",
        "scope": "Everyone crossing Granary Square during the window: about 20,000 people a day.",
        "context": "A public square on a private estate; people do not expect to be identified.",
        "purposes": "Locate people wanted on warrant for violent offences.",
        "necessity": "Patrols have not found the wanted people in crowds of this size.",
        "proportionality": "Overt, eight hours, default threshold, two-person review.",
        "safeguards": "Non-matches deleted at once; alerts kept 31 days at most; every access logged (s.64(3)(d)).",
        "dpo_advice": "Proceed with the default threshold and monthly bias monitoring.",
        "dpo_advice_by_name": "Dana Okafor",
        "subject_views": "Residents' association consulted; asked for clearer signs, now in place.",
    }
    for field, text in sections.items():
        page.fill(f"#id_{field}", text)
    page.select_option("#id_dpo_advice_followed", value="yes")
    page.fill("#id_review_on", (timezone.localdate() + timedelta(days=120)).isoformat())
    page.click("#dpia-form button[type=submit]")
    page.wait_for_selector("#dpia-status")
    assert page.inner_text("#dpia-status") == "Draft"

    page.click("text=Cover a deployment (equality and accuracy evidence)")
    page.select_option("#id_deployment", value=str(planned_deployment.pk))
    page.fill("#id_demographic_evidence", "NPL 2023: no significant demographic difference at 0.6.")
    page.fill("#id_monitoring_plan", "Monthly review of false alerts by apparent sex and ethnicity, published.")
    page.click("button[value=deployment]")
    page.wait_for_selector("text=Deployment covered, with the engine's measured figures.")
    assert "639/8,276,346" in page.inner_text("#coverage")  # the live engine's (SFace) own figures at 0.42

    page.click("text=Add a risk")
    page.fill("#risk-form #id_title", "Misidentification")
    page.fill("#risk-form #id_description", "A passer-by is wrongly stopped.")
    page.select_option("#risk-form #id_likelihood", value="2")
    page.select_option("#risk-form #id_severity", value="3")
    page.fill("#risk-form #id_measures", "Two-person review before any disclosure.")
    page.select_option("#risk-form #id_residual_risk", value="medium")
    page.click("button[value=risk_add]")
    page.wait_for_selector("text=Risk added.")
    assert page.locator('.rm-cell[data-likelihood="2"][data-severity="3"] .rm-risk').inner_text() == "R1"

    page.click("button[value=submit]")
    page.wait_for_selector("text=Sent for review.")
    # The writer (who also recorded the DPO's advice) is not offered the sign-off: another person of the
    # controller gives it (UK GDPR Art. 35(2)).
    assert page.locator("button[value=approve]").count() == 0
    dpia_url = page.url
    page.click("text=Sign out")
    sign_in(page, live_server, "dpo2.estate", cast.password)
    page.goto(dpia_url)
    page.click("button[value=approve]")
    page.wait_for_selector("text=Approved and signed off for the controller.")
    assert page.inner_text("#dpia-status") == "Approved"
    page.screenshot(path=str(artifacts_dir / "dpia-approved.png"), full_page=True)

    # Now the deployment goes live.
    page.goto(deployment_url)
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=The deployment is live.")
    planned_deployment.refresh_from_db()
    assert planned_deployment.status == "live"
