"""Two reviewers have the review queue open; a new alert appears in both without a reload, announced
(a status line, an outline on its row) with its thumbnails and its time waiting against the deployment's
service level (issue 25), and each confirms it independently from the keyboard (the second is a police
reviewer, as the agreement requires, on a phone where the two faces stand side by side), after the alert
page has shown them the camera crop beside the enrolled watchlist image (issue 21)."""

from __future__ import annotations

import os
import shutil

import pytest

from recognition.deployments.models import AlertImageShown
from tests.browser.conftest import CHROMIUM
from tests.conftest import require
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    enrolled_image_row,
    live_deployment,
    people,
    planned_deployment,
    raise_alert,
)
from tests.recognition.deployments.review_helpers import reference_picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_reviewers_browser():
    require(shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        contexts = [browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB") for _ in range(2)]
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(15000)
        yield pages
        for context in contexts:
            context.close()
        browser.close()


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")


def see_both_images(page):
    """The camera crop and the enrolled watchlist image side by side: wait until the browser has received
    both from their endpoints (the server records each showing as it sends it)."""
    assert page.locator("#compare #probe-crop").count() == 1
    assert page.locator("#compare #watchlist-thumbnail").count() == 1
    page.wait_for_function(
        "() => ['probe-crop', 'watchlist-thumbnail'].every(id => document.getElementById(id).complete)"
    )
    page.wait_for_function("() => document.getElementById('watchlist-thumbnail').naturalWidth > 0")


def test_new_alert_appears_without_reload_and_two_reviewers_confirm(
    two_reviewers_browser, live_server, cast, people, live_deployment, active_agreement, artifacts_dir
):
    operator_page, police_page = two_reviewers_browser
    sign_in(operator_page, live_server, people.reviewer_a.username, cast.password)
    sign_in(police_page, live_server, people.police_reviewer.username, cast.password)
    for page in (operator_page, police_page):
        page.click("text=Review queue")
        page.wait_for_selector("#review-queue tr.empty")
        # Mark the document: a reload would lose this property.
        page.evaluate("window.__noReload = true")

    image = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0042")
    reference_picture(image)  # the enrolled image the alert page shows beside the crop
    alert = raise_alert(live_deployment, image, score=0.81)

    row_selector = f"#review-queue tr[data-alert='{alert.pk}']"
    for page in (operator_page, police_page):
        row = page.wait_for_selector(row_selector, timeout=10000)
        assert "KX-SUBJ-0042" in row.inner_text() and "awaiting you" in row.inner_text()
        # The queue thumbnails are not the comparison: the row still says neither image was shown to them.
        assert "nothing yet" in row.inner_text()
        assert "waiting under a minute — service level 5 min" in row.inner_text()
        assert page.inner_text("#queue-news").startswith(f"New alert #{alert.pk} waiting for review")
        assert "arrived" in row.get_attribute("class")
        # Both thumbnails arrive (this agreement lets the operator's reviewers see the watchlist image).
        page.wait_for_function(
            "(selector) => { const imgs = document.querySelectorAll(selector + ' .queue-faces img');"
            " return imgs.length === 2 && Array.from(imgs).every(img => img.complete && img.naturalWidth > 0); }",
            arg=row_selector,
        )
        assert page.evaluate("window.__noReload") is True
    operator_page.screenshot(path=str(artifacts_dir / "review-queue-new-alert.png"), full_page=True)
    # Each thumbnail was fetched once, and kept across the refreshes that followed.
    police_page.wait_for_timeout(4500)
    shown = AlertImageShown.objects.filter(alert=alert, reviewer=people.police_reviewer)
    assert sorted(shown.values_list("image", flat=True)) == ["crop_thumb", "ref_thumb"]

    # First reviewer confirms from the keyboard (c moves focus to "Confirm", Enter presses it); the police
    # reviewer's queue still says nothing about that decision.
    operator_page.focus(f"{row_selector} a")
    operator_page.keyboard.press("Enter")
    operator_page.wait_for_url(f"**/deployments/alerts/{alert.pk}/")
    operator_page.wait_for_selector("#compare #probe-crop")
    see_both_images(operator_page)
    operator_page.focus("#confirm-form textarea")
    operator_page.keyboard.type("c")  # typing in a field: no shortcut
    assert operator_page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    operator_page.evaluate("document.activeElement.blur()")
    operator_page.keyboard.press("c")
    assert operator_page.evaluate("document.activeElement.id") == "confirm"
    operator_page.keyboard.press("Enter")
    operator_page.wait_for_selector("text=Waiting for a second, independent reviewer")
    police_page.wait_for_timeout(2500)  # at least one poll after the first decision
    police_row = police_page.inner_text(f"#review-queue tr[data-alert='{alert.pk}']")
    assert "awaiting you" in police_row and "confirm" not in police_row.lower()

    police_page.set_viewport_size({"width": 390, "height": 844})  # the police reviewer is on a phone
    police_page.click(f"#review-queue tr[data-alert='{alert.pk}'] a")
    assert police_page.locator("#decisions").count() == 0  # the first decision is hidden until they decide
    see_both_images(police_page)
    crop, reference = (police_page.locator(f"#{i}").bounding_box() for i in ("probe-crop", "watchlist-thumbnail"))
    assert crop["x"] + crop["width"] <= reference["x"] and abs(crop["y"] - reference["y"]) < 2  # side by side
    assert police_page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    police_page.screenshot(path=str(artifacts_dir / "review-alert-390.png"), full_page=True)
    police_page.keyboard.press("r")
    assert police_page.evaluate("document.activeElement.name") == "reason"
    police_page.evaluate("document.activeElement.blur()")
    police_page.keyboard.press("c")
    assert police_page.evaluate("document.activeElement.id") == "confirm"
    police_page.keyboard.press("Enter")
    police_page.wait_for_selector("#alert-status:has-text('Confirmed')")
    assert police_page.locator("#decisions tbody tr").count() == 2
    police_page.screenshot(path=str(artifacts_dir / "review-alert-confirmed.png"), full_page=True)

    # The operator's queue empties by itself.
    operator_page.click("text=Review queue")
    operator_page.wait_for_selector("#review-queue tr.empty")
    alert.refresh_from_db()
    assert alert.status == "confirmed"
