"""An administrator, in a real browser: invites someone (who sets a password through the link and
signs in), and issues and revokes an API token (the revoked token then gets 401 from the API)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from governance.organisations.roles import Role
from governance.organisations.services import user_create
from tests.browser.test_dpo_agreement_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "granary-square-lanterns-42"


def api_status(live_server, secret: str) -> int:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/agreements/", headers={"Authorization": f"Token {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_administrator_invites_someone_who_sets_a_password_and_signs_in(
    browser_page, live_server, cast, artifacts_dir
):
    page = browser_page
    user_create(
        actor=None, username="admin.estate", organisation=cast.estate, roles=[Role.ADMIN], password=cast.password
    )
    sign_in(page, live_server, "admin.estate", cast.password)
    page.goto(f"{live_server.url}/administration/")
    assert "You administer King's Cross Estate Operator only." in page.inner_text("#administration-scope")
    page.click("text=Invite someone")
    page.fill("#id_username", "priya.shah")
    page.fill("#id_first_name", "Priya")
    page.fill("#id_last_name", "Shah")
    page.fill("#id_email", "priya.shah@example.org")
    page.check("input[name=roles][value=reviewer]")
    page.click("main button[type=submit]")
    page.wait_for_selector("#secret-value")
    link = page.inner_text("#secret-value").strip()
    assert "/invitation/inv_" in link
    assert "Invited" in page.inner_text("#account-state")
    page.screenshot(path=str(artifacts_dir / "administration-invited.png"), full_page=True)
    page.click("text=Sign out")

    # The invitee opens the link, is told a short password is not enough, then sets one.
    page.goto(link)
    assert page.url.endswith("/invitation/set-password/")  # the secret is not left in the address bar
    page.fill("#id_password", "short")
    page.fill("#id_password_again", "short")
    page.click("main button[type=submit]")
    assert "too short" in page.inner_text("main")
    page.fill("#id_password", NEW_PASSWORD)
    page.fill("#id_password_again", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Your password is set, priya.shah.")
    sign_in(page, live_server, "priya.shah", NEW_PASSWORD)
    assert "Priya Shah" in page.inner_text("header.top")
    page.click("text=Sign out")
    # The link worked once.
    page.goto(link)
    assert "This invitation link does not work" in page.inner_text("main")


def test_an_administrator_issues_and_revokes_an_api_token(browser_page, live_server, cast, artifacts_dir):
    page = browser_page
    user_create(actor=None, username="admin.met", organisation=cast.met, roles=[Role.ADMIN], password=cast.password)
    sign_in(page, live_server, "admin.met", cast.password)
    page.goto(f"{live_server.url}/administration/")
    assert "and its units (Met Camden BCU)" in page.inner_text("#administration-scope")
    page.click("text=Issue a token")
    page.fill("#id_new_account", "api.met-camden")
    page.select_option("#id_organisation", label="Met Camden BCU")
    page.fill("#id_days", "30")
    page.fill("#id_label", "Camden custody system")
    page.click("main button[type=submit]")
    page.wait_for_selector("#secret-value")
    secret = page.inner_text("#secret-value").strip()
    assert api_status(live_server, secret) == 200
    page.screenshot(path=str(artifacts_dir / "administration-token.png"), full_page=True)

    # Shown once: a reload no longer has it.
    page.reload()
    assert page.locator("#secret-value").count() == 0
    page.click("#api-tokens summary:has-text('Revoke')")
    page.fill("#api-tokens textarea[name=reason]", "Custody system replaced")
    page.click("#api-tokens button:has-text('Revoke token')")
    page.wait_for_selector("text=revoked; it stops working at once")
    assert "Revoked" in page.inner_text("#api-tokens")
    assert api_status(live_server, secret) == 401
