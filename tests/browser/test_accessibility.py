"""Every page each role can reach, scanned by axe-core (WCAG 2.1 A and AA) at 1280 px and at 390 px,
with no horizontal scroll on a phone; each role's home shows what that role must act on, and is
photographed at both widths (test-artifacts/homes/); the review queue works from the keyboard.

The world is the King's Cross scenario (``load_scenario``, through the services) plus what a live
day adds: three alerts at Granary Square, one confirmed by two reviewers and disclosed to Camden
(so Camden owes an outcome), one confirmed and not yet disclosed (the estate's DPO must act), one
still waiting for the reviewers. Pages are found the way a user finds them: by following the links
of the navigation and of each page, from the home, one page per route.
"""

from __future__ import annotations

import io
import json
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.browser.conftest import CHROMIUM_ARGS, chromium_or_skip
from tests.conftest import require
from tests.recognition.deployments.review_helpers import confirm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "oversight-demo-2026"
ROLES = [
    "dpo.estate",
    "dpo.met",
    "dpo.camden",
    "submitter.camden",
    "reviewer.estate",
    "police.reviewer",
    "regulator",
    "admin",
]
# Not pages: files (PDF, CSV, JSON), the API itself, the JSON the review queue polls.
NOT_PAGES = {
    "agreement-document",
    "deletion-certificate",
    "retention-run-certificates",
    "dpia-pdf",
    "review-queue-json",
    "api-schema",
}
MAX_PAGES_PER_ROLE = 60


def NOT_LINKED(world) -> dict[str, list[str]]:  # noqa: N802 - a table, like the names above
    """Pages a role reaches through a form's button rather than a link: scanned by name."""
    from django.urls import reverse

    camera = world["camera"]
    return {"dpo.estate": [reverse("camera-key-confirm", args=[camera.pk]) + "?back=deployment"]}


# Rules a page is let off, each for a stated reason outside this project's markup. Nothing else.
THIRD_PARTY = {
    # Swagger UI's operation header puts its copy button inside the expanding control (open
    # upstream: swagger-api/swagger-ui#9576, #7350). The page's own markup and colours are scanned.
    "api-docs": {"nested-interactive"},
}


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (112, 112), (150, 120, 100)).save(out, format="JPEG")
    return out.getvalue()


def _king_cross_day():
    """load_scenario, then three alerts in the states each role must act on."""
    from django.core.management import call_command
    from django.utils import timezone

    from governance.organisations.models import Organisation, User
    from governance.watchlist.models import ImageStatus, WatchlistImage
    from recognition.deployments.models import Deployment
    from recognition.deployments.services.alerts import Sighting, alert_record_sighting
    from recognition.deployments.services.disclosure import alert_disclose

    call_command("load_scenario", stdout=io.StringIO())
    deployment = Deployment.objects.get(reference="LFR-2026-0001")
    require(deployment.status == "live", "the scenario's deployment did not go live (engine weights missing?)")
    images = list(WatchlistImage.objects.filter(status=ImageStatus.ENROLLED).order_by("pk"))
    require(len(images) >= 3, "the scenario's watchlist did not enrol")
    users = {u.username: u for u in User.objects.all()}
    camera = deployment.cameras.first()
    alerts = []
    for image, score in zip(images[:3], (0.71, 0.66, 0.62), strict=True):
        alert, _ = alert_record_sighting(
            sighting=Sighting(
                deployment_id=deployment.pk,
                camera_id=camera.pk,
                image_id=image.pk,
                score=score,
                threshold=deployment.match_threshold,
                crop_jpeg=_jpeg(),
                seen_at=timezone.now(),
            )
        )
        alerts.append(alert)
    for alert in alerts[:2]:
        for reviewer in ("reviewer.estate", "police.reviewer"):
            confirm(users[reviewer], alert, notes="Same person.")
    alert_disclose(
        actor=users["dpo.estate"],
        alert=alerts[0],
        recipient_organisation=Organisation.objects.get(short_name="met-camden"),
        recipient="Camden LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    # The scenario gave the camera its gateway key: rotating it on the live deployment asks for confirmation
    # first, a page reached through a button (a POST), not a link, so scanned by name (NOT_LINKED).
    require(bool(camera.ingest_key_prefix), "the scenario's camera has no gateway key")
    # A breach on the clock (the DPOs' and the regulator's breach pages have a record to show).
    from datetime import timedelta

    from governance.breaches.services import breach_record

    breach_record(
        actor=users["dpo.estate"],
        fields={
            "title": "Review-queue export emailed to the wrong address",
            "what_happened": "A reviewer emailed an alert export to an outside address.",
            "discovered_at": timezone.now() - timedelta(hours=30),
            "data_affected": "Camera crops and pseudonymous references of 4 alerts.",
            "people_affected": 4,
            "people_affected_description": "People on the watchlist who raised alerts.",
            "risk": "high",
            "risk_assessment": "Crops identify people; the recipient is unknown.",
        },
    )
    # A subject access request on the clock and an appropriate policy document, so that their pages (and the forms
    # reached from them) have a record to show and are scanned too.
    from governance.agreements.models import Schedule8Condition
    from governance.dpia import policy_services
    from governance.subject_access import services as subject_requests

    subject_requests.subject_request_receive(
        actor=users["dpo.estate"],
        fields={
            "regime": "uk_gdpr",
            "right": "access",
            "requester_name": "A. Requester",
            "requester_contact": "requester@example.org",
            "request_text": "Any images of me from the estate's cameras.",
            "subject_references": [],
            "received_on": timezone.localdate() - timedelta(days=3),
            "identity_verified_how": "Passport seen.",
            "identity_verified_by_name": "Estate DPO",
        },
    )
    policy_services.policy_draft(
        actor=users["dpo.estate"],
        fields={
            "title": "Sensitive processing for live facial recognition",
            "schedule8_conditions": [Schedule8Condition.STATUTORY_PURPOSES],
            "compliance_procedures": "Each deployment under an approved DPIA and a sharing agreement.",
            "retention_policy": "Non-match templates deleted at once; alerts after 30 days.",
            "processing_description": "Matching faces at Granary Square against police watchlists.",
            "review_on": timezone.localdate() + timedelta(days=365),
        },
    )
    # Every clock's notices (the breach's 72 hours, reviews and authorisations waiting): the inboxes have rows.
    from governance.notifications.services import notifications_raise

    notifications_raise()
    return {"disclosed": alerts[0], "to_disclose": alerts[1], "pending": alerts[2], "camera": camera}


def _door_pages() -> list[tuple[str, str]]:
    """The data subject's public pages (no sign-in), with a request waiting for an answer and a
    response link sent, so that the return and download pages have something to show."""
    from governance.subject_access.door import services as door
    from governance.subject_access.door.models import DoorCodePurpose

    controller = door.door_controllers().filter(kind="operator").first()
    request = door.door_submit(
        controller=controller,
        values={
            "right": "access",
            "requester_name": "A. Person",
            "email": "a.person@example.org",
            "request_text": "Mine.",
        },
        files=[],
        address="192.0.2.10",
    )
    _, _, token = door._code_issue(submission=request.door, purpose=DoorCodePurpose.DOWNLOAD, days=7)
    return [
        ("/requests/", "subject-door-index"),
        (f"/requests/to/{controller.short_name}/", "subject-door"),
        ("/requests/answer/", "subject-door-return"),
        (f"/requests/response/{token}/", "subject-door-download"),
    ]


def _scan_door_pages(browser, live_server, record) -> None:
    context = browser.new_context(viewport=WIDE, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    for path, route in _door_pages():
        record("anonymous", path, _scan(page, f"{live_server.url}{path}", route))
    # The request form as a person sees it after a refusal (the errors shown beside the fields).
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/requests/")
    page.click("#door-controllers a")
    page.click("#door-form button[type=submit]")
    findings = {"1280": _axe(page)}
    page.set_viewport_size(PHONE)
    findings["390"] = _axe(page)
    findings["overflow_390"] = _horizontal_overflow(page)
    record("anonymous", "door form with errors", findings)
    context.close()


@pytest.fixture
def browser():
    chromium_or_skip()
    require(AXE.is_file(), f"axe-core is not installed at {AXE} (run `make setup`: npm ci in tests/browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_ARGS[0], headless=True, args=CHROMIUM_ARGS[1])
        yield browser
        browser.close()


def _sign_in(browser, live_server, username):
    # bypass_csp: axe is injected as a script the page's CSP (no inline script) would refuse; the
    # pages' own CSP is tested elsewhere (test_api_docs_under_csp, the template check).
    context = browser.new_context(viewport=WIDE, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")
    return context, page


def _axe(page, route: str | None = None) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})); }",
        WCAG_TAGS,
    )
    excused = THIRD_PARTY.get(route or "", set())
    return [v for v in result if v["impact"] in {"serious", "critical"} and v["id"] not in excused]


def _horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _route(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.url_name


def _links(page, origin: str) -> list[str]:
    hrefs = page.evaluate(
        "() => Array.from(document.querySelectorAll('header nav a[href], main a[href]')).map(a => a.href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or "format=" in parts.query:
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _is_page(page, url: str) -> bool:
    """Whether the URL answers HTML (files are found by what they answer, not by a list of names)."""
    response = page.request.get(url, max_redirects=5)
    return response.ok and response.headers.get("content-type", "").startswith("text/html")


def _scan(page, url: str, route: str) -> dict:
    """Both widths: axe at each, and the page's overflow at the phone's."""
    findings = {}
    page.set_viewport_size(WIDE)
    page.goto(url)
    if route == "api-docs":
        page.wait_for_selector(".opblock")  # Swagger UI draws the page after loading the schema
    findings["1280"] = _axe(page, route)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(50)
    findings["390"] = _axe(page, route)
    findings["overflow_390"] = _horizontal_overflow(page)
    return findings


def _publish_transparency_report():
    from django.utils import timezone

    from governance.organisations.models import User
    from governance.reports.selectors import quarter_of
    from governance.reports.services import transparency_report_publish

    dpo = User.objects.get(username="dpo.estate")
    start, end = quarter_of(timezone.now())
    return transparency_report_publish(actor=dpo, operator=dpo.organisation, start=start, end=end)


def test_every_page_each_role_reaches_passes_axe_at_both_widths_and_each_home_shows_its_work(
    browser, live_server, artifacts_dir
):
    world = _king_cross_day()
    shots = artifacts_dir / "homes"
    shots.mkdir(exist_ok=True)
    report: dict[str, dict] = {}
    problems: list[str] = []
    homes: dict[str, str] = {}
    reached: dict[str, set[str]] = {}

    def record(who: str, path: str, findings: dict) -> None:
        report[f"{who} {path}"] = findings
        for width in ("1280", "390"):
            for v in findings[width]:
                problems.append(f"{who} {path} @{width}: {v['impact']} {v['id']} ({v['help']}) {v['nodes']}")
        if findings["overflow_390"] > 0:
            problems.append(f"{who} {path} @390: scrolls sideways by {findings['overflow_390']} px")

    # Before signing in: the sign-in page.
    context = browser.new_context(viewport=WIDE, locale="en-GB", bypass_csp=True)
    record("anonymous", "/sign-in/", _scan(context.new_page(), f"{live_server.url}/sign-in/", "login"))
    # The public transparency report (no sign-in): its tables keep their column labels on a phone.
    published = _publish_transparency_report()
    record(
        "anonymous",
        f"/published/{published.slug}/",
        _scan(context.new_page(), f"{live_server.url}/published/{published.slug}/", "report-published"),
    )
    context.close()
    _scan_door_pages(browser, live_server, record)
    for username in ROLES:
        context, page = _sign_in(browser, live_server, username)
        home = "/administration/" if username == "admin" else "/"  # an administrator's home
        assert urlsplit(page.url).path == home, f"{username} did not land on the home page"
        homes[username] = page.inner_text("main")
        for width in (WIDE, PHONE):
            page.set_viewport_size(width)
            page.screenshot(path=str(shots / f"{username}-{width['width']}.png"), full_page=True)
        if username in {"reviewer.estate", "police.reviewer"}:
            assert page.inner_text("#review-count").split()[0] == "1", f"{username}: navigation count"
        # The purpose form (s.62: why, once per kind of task) is scanned, and answered so the crawl
        # reaches the pages behind it (an image of another party asks every time: its form is what shows).
        for kind in ("alerts", "disclosures", "watchlist"):
            page.goto(f"{live_server.url}/consultations/purpose/?kind={kind}&next=/")
            if kind == "alerts":
                record(username, "/consultations/purpose/", _scan(page, page.url, "consultation-purpose"))
            page.click("#purpose-form button[type=submit]")
        seen_routes: set[str] = set()
        queue = deque([home])
        visited = 0
        while queue and visited < MAX_PAGES_PER_ROLE:
            path = queue.popleft()
            route = _route(path.split("?")[0])
            if route is None or route in NOT_PAGES or route in seen_routes:
                continue
            seen_routes.add(route)
            if not _is_page(page, live_server.url + path):
                continue  # a file (PDF, CSV, JSON, image): not a page to scan
            findings = _scan(page, live_server.url + path, route)
            visited += 1
            record(username, path, findings)
            page.set_viewport_size(WIDE)
            queue.extend(p for p in _links(page, live_server.url) if not p.startswith("/api/v1/") or "docs" in p)
        if "audit-log" in seen_routes:  # the log's results come from a POST (a justified search)
            page.set_viewport_size(WIDE)
            page.goto(f"{live_server.url}/audit/")
            page.fill("#id_justification", "Accessibility check of the results page")
            page.click("#audit-search button[type=submit]:not([name])")
            page.wait_for_selector("#audit-events")
            findings = {"1280": _axe(page)}
            page.set_viewport_size(PHONE)
            findings["390"] = _axe(page)
            findings["overflow_390"] = _horizontal_overflow(page)
            record(username, "/audit/ (results)", findings)
        for path in NOT_LINKED(world).get(username, []):
            record(username, path, _scan(page, live_server.url + path, _route(path.split("?")[0])))
        assert visited >= 4, f"{username} reached only {visited} pages"
        # The inbox and the account page (the notification preference), reached from the header, at both widths.
        assert {"notification-inbox", "account"} <= seen_routes, f"{username} did not reach the inbox and account"
        reached[username] = seen_routes
        context.close()
    (artifacts_dir / "axe-report.json").write_text(json.dumps(report, indent=1))

    # Each home shows what that role must act on.
    disclosed, to_disclose, pending = world["disclosed"], world["to_disclose"], world["pending"]
    assert f"Alert #{to_disclose.pk}" in homes["dpo.estate"] and "Confirmed alerts to disclose" in homes["dpo.estate"]
    for reviewer in ("reviewer.estate", "police.reviewer"):
        assert "Alerts waiting for you" in homes[reviewer] and f"Alert #{pending.pk}" in homes[reviewer]
        assert f"Alert #{disclosed.pk}" not in homes[reviewer]  # decided: no longer waiting for them
    assert "Disclosures awaiting our outcome" in homes["submitter.camden"]
    assert f"Alert #{disclosed.pk}" in homes["submitter.camden"] and "Our watchlist images" in homes["submitter.camden"]
    assert "Registers" in homes["regulator"] and "Notifications received" in homes["regulator"]
    assert "Administration" in homes["admin"]
    for dpo in ("dpo.estate", "dpo.met", "dpo.camden"):
        assert "Retention due" in homes[dpo] and "Review dates" in homes[dpo] and "Legal holds in force" in homes[dpo]
    # The police's web work (issue 25) is scanned too: the submitter's upload forms, an image it may withdraw, and
    # the alert disclosed to it (whose outcome it reports or corrects).
    assert {"watchlist-upload", "watchlist-bulk-upload", "watchlist-image-detail", "alert-detail"} <= reached[
        "submitter.camden"
    ]
    assert not problems, "\n".join(problems)


def test_the_review_queue_works_from_the_keyboard(browser, live_server):
    world = _king_cross_day()
    pending = world["pending"]
    from recognition.deployments.models import Deployment
    from recognition.deployments.services.alerts import Sighting, alert_record_sighting
    from tests.factories import WatchlistImageFactory, on_watchlist

    deployment = Deployment.objects.get(reference="LFR-2026-0001")
    # A second image under the same agreement (a row, no engine needed), so the queue holds two alerts.
    image = WatchlistImageFactory(
        agreement=pending.agreement,
        supplying_organisation=pending.supplying_organisation,
        subject_reference="KX-SUBJ-0099",
    )
    on_watchlist(deployment, image)  # the Met puts it on the deployment's watchlist
    second, _ = alert_record_sighting(
        sighting=Sighting(
            deployment_id=deployment.pk,
            camera_id=deployment.cameras.first().pk,
            image_id=image.pk,
            score=0.64,
            threshold=deployment.match_threshold,
            crop_jpeg=_jpeg(),
            seen_at=pending.first_seen_at,
        )
    )
    context, page = _sign_in(browser, live_server, "reviewer.estate")
    page.goto(f"{live_server.url}/deployments/review/")
    focused = "() => document.activeElement && document.activeElement.textContent"
    page.keyboard.press("j")
    first = page.evaluate(focused)
    page.keyboard.press("j")
    assert page.evaluate(focused) != first and page.evaluate(focused).startswith("Alert #")
    page.keyboard.press("k")
    assert page.evaluate(focused) == first
    page.wait_for_timeout(4500)  # two refreshes of the queue: focus stays on the same alert
    assert page.evaluate(focused) == first
    page.keyboard.press("Enter")
    page.wait_for_url("**/deployments/alerts/*/")
    opened = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert opened in {pending.pk, second.pk}
    # The crop and the enrolled image arrive from their endpoints (which record the showing) before deciding.
    page.wait_for_function(
        "() => ['probe-crop', 'watchlist-thumbnail'].every(id => document.getElementById(id).complete)"
    )
    # Decide with the keyboard alone: Tab to the notes, type, Tab to "Confirm", Enter.
    page.focus("#confirm-form textarea")
    page.keyboard.type("Same person, checked against the watchlist image.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "confirm"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your decision (confirm) is recorded")
    page.goto(f"{live_server.url}/deployments/review/")
    row = page.inner_text(f"#review-queue tr[data-alert='{opened}']")
    assert "you confirmed" in row
    context.close()


def test_the_public_door_pages_pass_axe_at_both_widths(browser, live_server, cast):
    """The subject's pages alone (the crawl above scans them too, after the whole scenario loads)."""
    problems: list[str] = []

    def record(who: str, path: str, findings: dict) -> None:
        for width in ("1280", "390"):
            problems.extend(
                f"{path} @{width}: {v['impact']} {v['id']} ({v['help']}) {v['nodes']}" for v in findings[width]
            )
        if findings["overflow_390"] > 0:
            problems.append(f"{path} @390: scrolls sideways by {findings['overflow_390']} px")

    _scan_door_pages(browser, live_server, record)
    assert not problems, "\n".join(problems)
