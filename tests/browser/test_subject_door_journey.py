"""A data subject, in a real browser: submits an access request through the controller's public
page (a photo and proof of identity attached), the DPO answers it through the existing workflow
(checks identity, builds the response, sends it through the door), and the person downloads the
response with the e-mailed single-use link and the one-time code sent separately — once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail

from tests.browser.test_dpo_agreement_journey import sign_in
from tests.governance.subject_access.conftest import face_like_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_subject_submits_through_the_public_page_and_downloads_the_response(
    browser_page, live_server, cast, artifacts_dir
):
    page = browser_page
    page.goto(f"{live_server.url}/requests/")
    page.click(f"text={cast.estate.name}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "door-form-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts_dir / "door-form-1280.png"), full_page=True)
    page.check("input[name=right][value=access]")
    page.fill("#id_requester_name", "Alex Example")
    page.fill("#id_email", "alex@example.org")
    page.fill("#id_request_text", "Any footage of me at Granary Square on 3 March.")
    page.set_input_files("#id_photo", {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": face_like_jpeg(1)})
    page.set_input_files(
        "#id_identity", {"name": "passport.jpg", "mimeType": "image/jpeg", "buffer": face_like_jpeg(2)}
    )
    page.click("#door-form button[type=submit]")
    reference = page.inner_text("#door-reference").strip()
    assert re.fullmatch(r"SAR-\d{4}-\d{4}", reference)
    page.screenshot(path=str(artifacts_dir / "door-sent.png"), full_page=True)

    # The DPO answers through the existing workflow.
    sign_in(page, live_server, cast.estate_dpo.username, cast.password)
    page.goto(f"{live_server.url}/subject-requests/")
    page.click(f"text={reference}")
    assert "Sent through the public page" in page.inner_text("main")
    page.fill("#restart-clock input[name=identity_verified_how]", "Passport sent through the public page")
    page.fill("#restart-clock input[name=identity_verified_by_name]", "Estate DPO")
    page.click("#restart-clock button[type=submit]")
    page.wait_for_selector("text=Received: the deadline is recalculated.")
    page.click("#export-form button[type=submit]")
    for _ in range(30):  # the export is built after commit; the page shows it once ready
        page.reload()
        if page.locator(".door-send button").count():
            break
        page.wait_for_timeout(1000)
    mail.outbox.clear()
    page.click(".door-send button")
    page.wait_for_selector("text=have been e-mailed to the requester")
    page.click("text=Sign out")

    link_mail, code_mail = mail.outbox
    link = re.search(r"http://\S+/requests/response/\S+/", link_mail.body).group(0)
    code = re.search(r"\b(\d{8})\b", code_mail.body).group(1)
    path = link.split("/requests/", 1)[1]
    page.goto(f"{live_server.url}/requests/{path}")
    page.fill("#id_code", code)
    with page.expect_download() as download:
        page.click("#door-download button[type=submit]")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and download.value.suggested_filename == f"{reference}-response.pdf"
    page.goto(f"{live_server.url}/requests/{path}")  # used: the link no longer works
    assert "can no longer be used" in page.inner_text("main")
    page.screenshot(path=str(artifacts_dir / "door-link-used.png"), full_page=True)
