"""Issue 21's journey in a real browser: the estate's DPO proposes a deployment, the Met's Authorising Officer
authorises it, Camden composes and reviews its watchlist, the estate takes it live, a sighting raises an alert, an
estate reviewer and Camden's police reviewer each confirm it having been shown both faces, and the deployment ends;
24 hours later the estate's copy of the image is erased with a certificate while Camden's provenance record stays
(College of Policing APP: the authorisation and the watchlist are police decisions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition.deployments.models import Deployment, DeploymentStatus
from tests.conftest import approved_dpia
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    AUTHORISATION_REASONS,
    enrolled_image_row,
    people,
    raise_alert,
)
from tests.recognition.deployments.review_helpers import reference_picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")


def sign_out(page):
    page.goto("about:blank")  # no navigation of the last page still in flight
    page.context.clear_cookies()


def see_both_images(page):
    """The alert page has received the camera crop and the enrolled image (the server records each showing)."""
    page.wait_for_function(
        "() => ['probe-crop', 'watchlist-thumbnail'].every(id => document.getElementById(id).complete)"
    )
    page.wait_for_function("() => document.getElementById('watchlist-thumbnail').naturalWidth > 0")


def test_propose_authorise_supply_review_go_live_alert_confirm_end(
    browser_page, live_server, cast, people, active_agreement, artifacts_dir
):
    page = browser_page
    now = timezone.localtime()
    image = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0021")
    reference_picture(image)

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
    # Nothing supplied or authorised yet: going live is refused, and nothing changes.
    approved_dpia(cast, deployments=[deployment])
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=The deployment's watchlist is empty")
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

    # Camden (the unit that supplied the image) composes the watchlist and its DPO reviews it.
    sign_in(page, live_server, "dpo.camden", cast.password)
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/watchlist/")
    page.check(f"#watchlist-candidates input[name=images][value='{image.pk}']")
    page.click("text=Add the ticked images")
    page.wait_for_selector(f"#watchlist-entries >> text={image.subject_reference}")
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/watchlist/review/")
    page.fill("textarea[name=notes]", "Wanted on warrant, the most recent image, needed for this operation only.")
    page.click("text=Record the watchlist review")
    page.wait_for_selector("#watchlist-by-force >> text=current")
    page.screenshot(path=str(artifacts_dir / "watchlist-composed-by-camden.png"), full_page=True)
    sign_out(page)

    # The estate's DPO takes it live.
    sign_in(page, live_server, "dpo.estate", cast.password)
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/")
    page.click("button:has-text('Go live')")
    page.wait_for_selector("text=The deployment is live.")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.LIVE
    sign_out(page)

    # A sighting of the person raises an alert; each reviewer opens it, is shown both faces, and confirms.
    alert = raise_alert(deployment, image, score=0.8)
    assert alert is not None
    for reviewer, after in (
        (people.reviewer_a, "text=Waiting for a second, independent reviewer"),
        (people.police_reviewer, "#alert-status:has-text('Confirmed')"),
    ):
        sign_in(page, live_server, reviewer.username, cast.password)
        page.goto(live_server.url + reverse("alert-detail", args=[alert.pk]))
        see_both_images(page)
        page.click("#confirm")
        page.wait_for_selector(after)
        sign_out(page)
    alert.refresh_from_db()
    assert alert.status == "confirmed"
    assert {(r.reviewer_id, r.as_police_reviewer) for r in alert.reviews.all()} == {
        (people.reviewer_a.pk, False),
        (people.police_reviewer.pk, True),
    }

    # The estate ends the deployment.
    sign_in(page, live_server, "dpo.estate", cast.password)
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/")
    page.click("button:has-text('End deployment')")
    page.wait_for_selector(".badge.ended")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ENDED
    sign_out(page)

    # Within the agreement's 24 hours the estate's copy goes, with a certificate; Camden's provenance stays.
    import time_machine

    from governance.retention.services import retention_sweep
    from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        retention_sweep()
    image = WatchlistImage.objects.get(pk=image.pk)
    assert image.status == ImageStatus.ERASED and image.subject_reference == "KX-SUBJ-0021"
    assert not WatchlistImageContent.objects.filter(image=image).exists()
    assert DeletionCertificate.objects.filter(
        subject_id=str(image.pk), rule="watchlist_image.deployment_ended"
    ).exists()
