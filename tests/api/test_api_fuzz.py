"""Schema-driven fuzzing of the whole API (schemathesis 3.x), bounded so it fits in CI.

Every operation of the OpenAPI document the app itself serves is fed generated requests, sent as a
real force token (the camden submitter, whose organisation supplied an uploaded image and received a
disclosure) or, for the frame endpoint, the live camera's key — and some as nobody, as the wrong kind
of credential, or with a forged session cookie. Half of the generated requests name the real object
(the image, the disclosure, the camera) instead of a random id, so the handlers behind the 404 run too.

Each response must be no 500 and must conform to the document: a documented status, content type and
body — for a refusal, one of the error codes the document lists for that operation and status (read
from the code, see governance.api.error_catalogue), so an undocumented code fails here.

Bounded: EXAMPLES_PER_OPERATION generated requests per operation, generation phase only, no shrinking.
Under CI it runs on PostgreSQL (DATABASE_URL), which is stricter than SQLite about what a text
parameter may hold.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.exceptions import CheckFailed
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from recognition.deployments.services.cameras import camera_issue_ingest_key
from recognition.deployments.services.disclosure import alert_disclose
from tests.governance.watchlist.support import token_client, upload
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    enrolled_image_row,
    live_deployment,
    people,
    planned_deployment,
    raise_alert,
)
from tests.recognition.deployments.test_review_and_disclosure import confirmed

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 40
# Schemathesis's own "ignored_auth" check replays a request with one scheme's credential spoiled
# and the others left in place (a valid token beside a forged cookie is rightly served): the test
# checks authentication itself, from the credentials it chose.
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
CREDENTIALS = ["right", "right", "right", "right", "none", "wrong", "cookie"]


@contextmanager
def _keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose handler closes the database
    connection (and with it the test's transaction on PostgreSQL). Django's test client disconnects it
    around each of its own requests, so do the same around the fuzz run."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(cast, people, live_deployment, active_agreement, settings):  # noqa: F811
    settings.OVERSIGHT_API_RATE_LIMIT = "100000/minute"
    settings.OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = 100000
    force = token_client(people.camden_submitter)
    uploaded = upload(force, active_agreement, seed=99)
    assert uploaded.status_code == 202, uploaded.content[:300]
    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden))
    confirmed(alert, people)
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    camera = live_deployment.camera
    camera_key = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    raw = force.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert raw.status_code == 200
    return {
        "document": json.loads(raw.content),
        "token": force._credentials["HTTP_AUTHORIZATION"],
        "camera_key": f"Camera {camera_key}",
        "ids": {
            "/api/v1/agreements/{id}/": active_agreement.pk,
            "/api/v1/watchlist-images/{id}/": uploaded.json()["id"],
            "/api/v1/watchlist-images/{id}/image/": uploaded.json()["id"],
            "/api/v1/disclosures/{id}/": disclosure.pk,
            "/api/v1/disclosures/{id}/outcome/": disclosure.pk,
            "/api/v1/cameras/{id}/frames/": camera.pk,
            "/api/v1/deployments/{id}/": live_deployment.pk,
            "/api/v1/deployments/{id}/review-service-level/": live_deployment.pk,
        },
    }


# A deployment's routes answer its parties' people, signed in; the force's token here is its submitter's, who is no
# party, so every id is "not found" to it. Their handlers are fuzzed with every role's session by
# tests/hostile/test_route_fuzz.py (the route matrix's ``api-deployment`` rows).
PARTIES_SIGNED_IN_ONLY = {"/api/v1/deployments/{id}/", "/api/v1/deployments/{id}/review-service-level/"}


def _refused_before_authentication(response) -> bool:
    """The edge answers some requests before any view authenticates: a justification in the query
    string, a malformed Content-Length, a path whose id is not a route's (e.g. negative)."""
    code = json.loads(response.get_data())["error"]["code"]
    # invalid_filter here: a control character (such as NUL) in the query string (governance.inputs).
    return code in {"reason_in_query_string", "invalid_content_length", "not_found", "invalid_filter"}


def _headers(world, operation, who: str, cookie: str) -> dict[str, str]:
    camera = any("cameraKey" in r for r in operation.definition.raw.get("security", []))
    right, wrong = (world["camera_key"], world["token"]) if camera else (world["token"], world["camera_key"])
    if who == "right":
        return {"Authorization": right}
    if who == "wrong":
        return {"Authorization": wrong}
    if who == "cookie":
        return {"Authorization": "", "Cookie": f"sessionid={cookie}"}
    return {"Authorization": ""}


def _fuzz(world, operation, counts: dict, failures: list) -> None:
    real_id = world["ids"].get(operation.path)

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(
        case=operation.as_strategy(),
        who=st.sampled_from(CREDENTIALS),
        use_real_id=st.booleans(),
        cookie=st.text(max_size=60),
    )
    def exercise(case, who, use_real_id, cookie):
        if real_id is not None and use_real_id:
            case.path_parameters = {**(case.path_parameters or {}), "id": real_id}
        headers = _headers(world, operation, who, cookie)
        try:
            response = case.call_wsgi(headers=headers)
        except (UnicodeEncodeError, ValueError):
            return  # a header value (non-Latin-1, a newline) that an HTTP server could never have received
        counts["requests"] += 1
        counts["by_status"][response.status_code] = counts["by_status"].get(response.status_code, 0) + 1
        counts["by_operation"].setdefault(f"{case.method} {operation.path}", set()).add(response.status_code)
        if who != "right" and not (
            response.status_code == 401
            or (response.status_code in (400, 404) and _refused_before_authentication(response))
        ):
            failures.append((f"{case.method} {case.formatted_path}", who, response.status_code, "not 401"))
        try:
            case.validate_response(response, checks=CHECKS)
        except CheckFailed as failed:
            failures.append(
                (
                    f"{case.method} {case.formatted_path}",
                    who,
                    response.status_code,
                    str(failed).splitlines()[:14],
                    response.get_data()[:300],
                )
            )

    with _keep_test_connection():
        exercise()


def test_no_request_to_any_operation_causes_a_server_error_or_breaks_the_schema(world):
    document = world["document"]
    schema = schemathesis.from_dict(document, app=get_wsgi_application())
    counts = {"requests": 0, "by_status": {}, "operations": 0, "by_operation": {}}
    failures: list[tuple] = []
    started = time.monotonic()

    for result in schema.get_all_operations():
        counts["operations"] += 1
        _fuzz(world, result.ok(), counts, failures)

    elapsed = time.monotonic() - started
    print(
        f"fuzz: {counts['operations']} operations, {counts['requests']} requests in {elapsed:.0f} s, "
        f"statuses {sorted(counts['by_status'].items())}"
    )
    assert counts["operations"] == len([m for item in document["paths"].values() for m in item]) >= 12
    assert counts["requests"] >= EXAMPLES_PER_OPERATION * counts["operations"] * 0.8
    assert 500 not in counts["by_status"], [f for f in failures if f[2] >= 500][:5]
    for failure in failures[:12]:
        print(failure)
    assert not failures, failures[:8]
    # The fuzz reached past authentication into every handler (not only 401s and 404s).
    assert {200, 400, 401, 404} <= set(counts["by_status"]), counts["by_status"]
    for operation, statuses in counts["by_operation"].items():
        if operation.split(" ", 1)[1] in PARTIES_SIGNED_IN_ONLY:
            continue
        assert statuses - {401, 404}, (operation, statuses)
