"""A force submitter, in a real browser (issue 25): from the watchlist ledger, uploads an image with its
provenance through the web form (a GIF first, refused on the form with the service's sentence), sees the
image's page, then withdraws it — refused without a reason, done with one — and sees it erased."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.watchlist.models import ImageStatus, TransferChannel, WatchlistImage
from tests.browser.test_dpo_agreement_journey import sign_in
from tests.governance.watchlist.support import make_submitter, synthetic_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_submitter_uploads_and_withdraws_an_image_on_the_web(
    browser_page, live_server, cast, active_agreement, artifacts_dir, tmp_path
):
    page = browser_page
    # In tests the enrolment task runs in the server's process after the upload commits (the engine loads once).
    page.set_default_timeout(120000)
    make_submitter(cast, cast.camden, "submitter.camden")
    gif, jpeg = tmp_path / "not-accepted.gif", tmp_path / "face.jpg"
    gif.write_bytes(b"GIF89a" + b"\x00" * 64)
    jpeg.write_bytes(synthetic_jpeg(7))
    sign_in(page, live_server, "submitter.camden", cast.password)
    page.click("header nav >> text=Watchlist")
    page.click("#upload-link")

    def fill(image_path):
        page.select_option("#id_agreement", str(active_agreement.pk))
        page.set_input_files("#id_image", str(image_path))
        page.fill("#id_subject_reference", "KX-SUBJ-0042")
        page.select_option("#id_custody_category", "wanted")
        page.fill("#id_custody_reference", "CUST/01/4242")
        page.fill("#id_image_taken_on", (timezone.localdate() - timedelta(days=10)).isoformat())
        page.select_option("#id_legal_basis", "s35_5")
        page.click("#upload")

    fill(gif)
    assert "GIF images are not accepted" in page.inner_text("#upload-form")
    assert not WatchlistImage.objects.exists()
    fill(jpeg)
    page.wait_for_selector("#image-status")
    image = WatchlistImage.objects.get()
    assert image.transfer_channel == TransferChannel.WEB and "KX-SUBJ-0042" in page.inner_text("h1")
    page.screenshot(path=str(artifacts_dir / "submitter-uploaded.png"), full_page=True)

    # Withdrawal: the browser asks for the reason (required), the server refuses a blank one too.
    page.fill("#id_reason", "   ")
    page.click("#withdraw-button")
    page.wait_for_selector(".alert.error, .messages .error, [class*=error]")
    assert "Give a reason for the withdrawal" in page.inner_text("main")
    page.fill("#id_reason", "Warrant executed; no longer wanted.")
    page.click("#withdraw-button")
    page.wait_for_selector("#certificates")
    assert "Erased" in page.inner_text("#image-status") or "erased" in page.inner_text("#image-status").lower()
    assert page.locator("#withdraw-form").count() == 0
    image.refresh_from_db()
    assert image.status == ImageStatus.ERASED and image.withdrawal_reason == "Warrant executed; no longer wanted."
    page.screenshot(path=str(artifacts_dir / "submitter-withdrawn.png"), full_page=True)
