"""The API docs (Swagger UI) work under the Content-Security-Policy: no inline script is needed and
the browser reports no violation."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_without_csp_violations(browser_page, live_server):
    messages = []
    browser_page.on("console", lambda message: messages.append(message.text))
    browser_page.goto(f"{live_server.url}/api/v1/docs/")
    browser_page.wait_for_selector(".swagger-ui .opblock")
    assert browser_page.locator(".swagger-ui .opblock").count() >= 10
    assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m] == []
