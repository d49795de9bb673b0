"""The top navigation is the same on every page a user opens (it disappeared on an agreement's page:
the view's own ``perms`` hid Django's permission wrapper the navigation reads)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _nav_links(response) -> list[str]:
    assert response.status_code == 200
    nav = re.search(r"<nav[^>]*>(.*?)</nav>", response.content.decode(), re.DOTALL)
    assert nav, "no navigation on the page"
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize("who", ["estate_dpo", "met_dpo", "regulator"])
def test_agreement_pages_show_the_full_navigation(client, cast, active_agreement, who):
    client.force_login(getattr(cast, who))
    expected = _nav_links(client.get("/"))
    assert len(expected) > 3  # beyond the links everyone has (dashboard, agreements, API): role-dependent ones
    pages = ["/agreements/", f"/agreements/{active_agreement.pk}/"]
    if who != "regulator":
        pages.append("/agreements/new/")
    for page in pages:
        assert _nav_links(client.get(page)) == expected, page


def test_a_drafts_page_keeps_its_actions(client, cast):
    """Renaming the page's own permission flags must not lose the buttons they decide."""
    from governance.agreements import services
    from tests.conftest import agreement_terms

    draft = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    client.force_login(cast.estate_dpo)
    body = client.get(f"/agreements/{draft.pk}/").content.decode()
    assert f"/agreements/{draft.pk}/edit/" in body
    assert "Attach signed document" in body and "Record regulator notification" in body
