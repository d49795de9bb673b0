"""Every link a police user is shown resolves for them (issue 25: "a police user's alert links 404").

A world with an alert on a Camden image, confirmed by two reviewers and disclosed to Camden, with its
outcome reported, a second alert disclosed and waiting for its outcome, and a third waiting for review. Each police role — the
force's DPO (the Met), the unit's DPO (Camden), the unit's submitter, the unit's police reviewer — starts at
the home page and follows every same-site link it is shown (GET only, signing out excluded), two
levels deep; no link answers 404 (nor a 500).
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest

from recognition.deployments.services.outcomes import disclosure_record_outcome
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import disclosed_alert

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]+)"')
SKIP = ("/sign-out/", "/static/", "/api/", "mailto:", "http://", "https://")


@pytest.fixture
def world(cast, people, live_deployment, active_agreement):
    first = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0001")
    second = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0002")
    alert, disclosure = disclosed_alert(live_deployment, first, cast, people)
    disclosure_record_outcome(
        actor=people.camden_submitter, disclosure=disclosure, outcome="arrested", notes="Arrested at 14:20."
    )
    waiting, _ = disclosed_alert(live_deployment, second, cast, people)
    third = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0003")
    pending = raise_alert(live_deployment, third)  # on the police reviewer's queue
    return {"alerts": [alert, waiting, pending]}


def links(html: str) -> set[str]:
    found = set()
    for raw in HREF.findall(html):
        href = urldefrag(unescape(raw))[0]
        if not href.startswith("/") or href.startswith(SKIP):
            continue
        found.add(href)
    return found


def crawl(client, start: str = "/", depth: int = 2) -> dict[str, int]:
    seen: dict[str, int] = {}
    frontier = {start}
    for _level in range(depth + 1):
        following = set()
        for url in sorted(frontier - seen.keys()):
            response = client.get(url)
            seen[url] = response.status_code
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                following |= links(response.content.decode())
        frontier = following
    return seen


@pytest.mark.parametrize("who", ["met_dpo", "camden_dpo", "camden_submitter", "police_reviewer"])
def test_every_link_a_police_user_is_shown_resolves(client, cast, people, world, who):
    user = getattr(people, who, None) or getattr(cast, who)
    client.force_login(user)
    seen = crawl(client)
    broken = {url: code for url, code in seen.items() if code in (404, 500)}
    assert not broken, f"{who} is shown links that answer 404/500: {broken}"
    alert_pages = [url for url in seen if re.fullmatch(r"/deployments/alerts/\d+/", urlsplit(url).path)]
    # The force, its unit and the submitter act on the disclosed alerts: each is shown them.
    assert alert_pages, f"{who} is shown no alert at all"
