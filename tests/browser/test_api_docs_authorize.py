"""The docs' "Authorize" works for both credentials: a force token entered in Swagger UI reads the
agreements (200), and a camera key entered there reaches the frame endpoint past authentication
(the frame is refused for its type, not 401), both from "Try it out"."""

from __future__ import annotations

import pytest

from recognition.deployments.services.cameras import camera_issue_ingest_key
from tests.governance.watchlist.support import token_client
from tests.recognition.deployments.conftest import live_deployment, people, planned_deployment  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _authorize(page, scheme: str, value: str) -> None:
    page.click(".swagger-ui .btn.authorize")
    container = page.locator(".swagger-ui .auth-container", has_text=scheme)
    container.locator("input[type=text], input[type=password]").fill(value)
    container.locator("button.authorize").click()
    page.click(".swagger-ui .modal-ux .close-modal")


def _try(page, operation_id: str) -> str:
    block = page.locator(f"[id$='-{operation_id}']")
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    return block


def test_authorize_sends_the_token_and_the_camera_key(
    browser_page, live_server, cast, people, live_deployment, tmp_path
):  # noqa: F811
    page = browser_page
    token = token_client(people.camden_submitter)._credentials["HTTP_AUTHORIZATION"]
    camera = live_deployment.camera
    camera_key = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock")

    page.click(".swagger-ui .btn.authorize")
    names = page.locator(".swagger-ui .auth-container h4").all_inner_texts()
    assert any("apiToken" in n for n in names) and any("cameraKey" in n for n in names), names
    page.click(".swagger-ui .modal-ux .close-modal")

    _authorize(page, "apiToken", token)
    block = _try(page, "agreements_list")
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200"), status.inner_text()
    assert "DSA-" in block.locator(".live-responses-table").first.inner_text()

    _authorize(page, "cameraKey", f"Camera {camera_key}")
    # Not an image: refused at the door, after authentication (a frame taken would run the engine here).
    frame = tmp_path / "not-a-frame.txt"
    frame.write_bytes(b"plain text, not a JPEG")
    block = _try(page, "camera_frame_upload")
    block.locator("input[placeholder='id'], tr[data-param-name='id'] input").first.fill(str(camera.pk))
    block.locator("input[type=file]").set_input_files(str(frame))
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    body = block.locator(".live-responses-table").first.inner_text()
    # Past authentication: refused for what the frame is (a wrong or missing key would be 401).
    assert status.inner_text().strip().startswith("415") and "unsupported_frame_type" in body, (
        status.inner_text(),
        body,
    )
