"""A DPO signs in, drafts, submits and — as the force — approves an agreement in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import signed_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")


def test_dpo_creates_submits_and_force_approves_an_agreement(browser_page, live_server, cast, artifacts_dir):
    page = browser_page
    today = timezone.localdate()

    # The operator's DPO drafts the agreement through the form.
    sign_in(page, live_server, "dpo.estate", cast.password)
    page.click("text=Agreements")
    page.click("text=Draft an agreement")
    page.fill("#id_title", "Browser-drafted estate agreement")
    page.select_option("#id_supplying_organisation", label=str(cast.met))
    page.select_option("#id_receiving_organisation", label=str(cast.estate))
    page.fill("#id_purpose", "Locate people wanted by the courts on the estate.")
    page.fill("#id_data_items", "Facial image; pseudonymous reference; custody category.")
    page.select_option("#id_schedule8_condition", value="sch8_1")
    page.check("input[name=permitted_custody_categories][value=wanted]")
    page.fill("#id_max_images", "15")
    page.fill("#id_starts_on", (today - timedelta(days=1)).isoformat())
    page.fill("#id_ends_on", (today + timedelta(days=300)).isoformat())
    page.fill("#id_review_on", (today + timedelta(days=120)).isoformat())
    for field, text in {
        "individual_rights": "Via the operator's DPO.",
        "security_measures": "Encrypted at rest.",
        "breach_handling": "Notify within 24 hours.",
        "termination_terms": "30 days' notice.",
        "sanctions": "Suspension of sharing.",
    }.items():
        page.fill(f"#id_{field}", text)
    page.click("text=Save draft")
    page.wait_for_selector("#agreement-status")
    assert page.inner_text("#agreement-status") == "Draft"
    agreement_url = page.url

    # Notification and the signed copy (the file chooser is a real upload).
    page.click("text=Record regulator notification")
    page.fill("#id_notified_on", today.isoformat())
    page.fill("#id_reference", "BSCC-2026-117")
    page.fill("#id_notified_by", "Dana Okafor")
    page.select_option("#id_regulator", label=str(cast.regulator_org))
    page.click("button[value=notify]")
    page.wait_for_selector("text=Regulator notification recorded.")
    pdf = artifacts_dir / "signed-agreement.pdf"
    pdf.write_bytes(signed_pdf().read())
    page.click("text=Attach signed document")
    page.set_input_files("#id_document", str(pdf))
    page.click("button[value=document]")
    page.wait_for_selector("text=Signed document attached.")
    page.click("button[value=submit]")
    page.wait_for_selector("text=Submitted for force-level approval.")
    page.click("button[value=countersign]")
    page.wait_for_selector("text=Countersigned for the operator.")
    page.click("text=Sign out")
    # Approval needs an approved DPIA covering the agreement (governance.dpia; its own browser journey is
    # tests/browser/test_dpia_journey.py).
    from governance.agreements.models import Agreement
    from tests.conftest import approved_dpia, approved_policy

    approved_dpia(cast, agreements=[Agreement.objects.get(title="Browser-drafted estate agreement")])
    approved_policy(cast.met_dpo)  # the force's s.42 appropriate policy document

    # The force-level DPO approves; the agreement goes live at once (its start date has come).
    sign_in(page, live_server, "dpo.met", cast.password)
    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)
    page.goto(agreement_url)
    page.click("button[value=approve]")
    page.wait_for_selector("text=Approved. The agreement is now active.")
    assert page.inner_text("#agreement-status") == "Active"
    history = page.inner_text("#history")
    for event in (
        "agreement.drafted",
        "agreement.regulator_notified",
        "agreement.submitted",
        "agreement.countersigned",
        "agreement.approved",
        "agreement.activated",
    ):
        assert event in history
    page.screenshot(path=str(artifacts_dir / "agreement.png"), full_page=True)


def test_unit_dpo_is_refused_approval_in_the_browser(browser_page, live_server, cast, submitted_agreement):
    page = browser_page
    sign_in(page, live_server, "dpo.camden", cast.password)
    page.goto(f"{live_server.url}/agreements/{submitted_agreement.pk}/")
    assert page.locator("button[value=approve]").count() == 0  # the button is not offered to a unit
    page.goto(f"{live_server.url}/")
    assert "Awaiting approval" in page.inner_text("main")
