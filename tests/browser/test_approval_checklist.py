"""The approval checklist, in a real browser: every missing prerequisite at once, not one refusal per click."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.agreements import services
from tests.browser.test_dpo_agreement_journey import sign_in
from tests.conftest import agreement_terms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_checklist_shows_all_missing_prerequisites_at_once(browser_page, live_server, cast, artifacts_dir):
    page = browser_page
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)

    sign_in(page, live_server, "dpo.met", cast.password)
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    checklist = page.locator("#approval-checklist")
    missing = checklist.locator("li.missing")
    assert missing.count() == 5
    text = checklist.inner_text()
    for item in (
        "Regulator notified",
        "Countersigned by the operator",
        "Signed document attached",
        "DPIA approved",
        "Supplying force's appropriate policy document",
    ):
        assert item in text
    page.screenshot(path=str(artifacts_dir / "approval-checklist.png"), full_page=True)

    # One click names them all.
    page.click("button[value=approve]")
    refusal = page.inner_text(".alert.error")
    assert refusal.startswith("Approval is refused until:")
    assert all(word in refusal for word in ("regulator notified", "countersigned", "signed document", "dpia"))

    # Recording the notification ticks its item; the other three stay missing.
    page.click("text=Record regulator notification")
    page.fill("#id_notified_on", (timezone.localdate() - timedelta(days=1)).isoformat())
    page.fill("#id_reference", "BSCC-2026-201")
    page.fill("#id_notified_by", "M. Hale")
    page.select_option("#id_regulator", label=str(cast.regulator_org))
    page.click("button[value=notify]")
    page.wait_for_selector("text=Regulator notification recorded.")
    assert checklist.locator("li.missing").count() == 4
    assert checklist.locator("li.met[data-code=regulator_not_notified]").count() == 1
