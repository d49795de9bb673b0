"""The demo is the product: no debug pages, no key written in the code, friendly error pages."""

from __future__ import annotations

import stat

import pytest
from django.test import Client, override_settings

from config.settings import development_secret_key


def test_debug_is_off_unless_a_developer_turns_it_on():
    import importlib
    import os

    import config.settings as settings_module

    previous = os.environ.pop("DJANGO_DEBUG", None)
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.DEBUG is False
    finally:
        if previous is not None:
            os.environ["DJANGO_DEBUG"] = previous
        importlib.reload(settings_module)


def test_development_key_is_made_once_per_machine_and_kept_private(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = development_secret_key(path)
    assert len(first) >= 50
    assert "development-only" not in first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert development_secret_key(path) == first  # kept: sessions survive a restart
    other = development_secret_key(tmp_path / "elsewhere" / "secret_key")
    assert other != first  # never the same key on two machines


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404_without_the_url_list(client: Client, cast):
    client.force_login(cast.estate_dpo)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body
    assert "URLconf" not in body and "urlpatterns" not in body
    assert "Go to your home page" in body


@pytest.mark.django_db
def test_server_error_page_names_no_internals():
    from django.template.loader import render_to_string

    with override_settings(DEBUG=False):
        body = render_to_string("500.html")
    assert "Something went wrong on our side" in body
    assert "Traceback" not in body
