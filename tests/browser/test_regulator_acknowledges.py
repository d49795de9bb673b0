"""Issue 25: a regulator acknowledges a breach notified to it from its home and asks a question on the breach's
page; the estate's DPO sees the question in the inbox and answers. On a phone the navigation folds behind the
"Menu" disclosure button and opens from the keyboard."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.breaches import services as breaches
from governance.notifications.services import notifications_raise
from tests.browser.test_authorisation_journey import sign_in, sign_out
from tests.governance.notifications.test_notifications import breach

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_regulator_acknowledges_a_notification_and_the_dpo_answers_its_query(browser_page, live_server, cast):
    page = browser_page
    found = breaches.breach_commissioner_notified(
        actor=cast.estate_dpo, breach=breach(cast), notified_at=timezone.now(), reference="ICO-77"
    )
    notifications_raise()

    sign_in(page, live_server, cast.regulator.username, cast.password)
    assert "1 thing waiting for you" in page.inner_text("#home-summary")
    assert page.inner_text("#notification-count").split()[0] == "1"
    # One line of navigation at 1280 px.
    page.set_viewport_size({"width": 1280, "height": 900})
    heights = page.eval_on_selector_all("#site-nav a", "links => links.map(a => a.getBoundingClientRect().top)")
    assert len(set(round(h) for h in heights)) == 1
    page.click(f"form.received-ack button[aria-label='Acknowledge {found.reference}']")
    page.wait_for_selector("text=Acknowledged.")
    assert "Nothing is waiting for you" in page.inner_text("#home-summary")
    assert page.locator("#notification-count").count() == 0

    page.goto(f"{live_server.url}/breaches/{found.pk}/")
    assert "Acknowledged by" in page.inner_text("#regulator")
    page.fill("#question", "When were the people affected told, and how?")
    page.click("#regulator button:has-text('Send the question')")
    page.wait_for_selector("text=Your question was sent")
    sign_out(page)

    sign_in(page, live_server, cast.estate_dpo.username, cast.password)
    page.goto(f"{live_server.url}/notifications/")
    page.click("#notifications a:has-text('The regulator asked a question')")
    page.wait_for_selector("#regulator")
    page.fill("#regulator textarea[name=answer]", "By letter through the supplying force on the day of discovery.")
    page.click("#regulator button:has-text('Send the answer')")
    page.wait_for_selector("text=Your answer was sent")
    assert "By letter through the supplying force" in page.inner_text("#regulator")

    # At 390 px the navigation is behind the Menu button, which opens and closes from the keyboard.
    page.set_viewport_size({"width": 390, "height": 844})
    assert not page.is_visible("#site-nav")
    page.focus("#nav-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute("#nav-toggle", "aria-expanded") == "true" and page.is_visible("#nav-notifications")
    page.keyboard.press("Escape")
    assert page.get_attribute("#nav-toggle", "aria-expanded") == "false" and not page.is_visible("#site-nav")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
