"""Schema-driven fuzzing of the watchlist API (schemathesis 3.x, bounded): no input may cause a 500.

Runs against the OpenAPI schema the app itself generates, with a real force token, over every
watchlist operation. Bounded to a few hundred generated requests so it stays in the normal suite.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from tests.governance.watchlist.support import upload

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 50


@contextmanager
def _keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose handler closes the database
    connection (and with it the test's transaction on PostgreSQL). Django's test client disconnects it
    around each of its own requests (and reconnects it after), so do the same around the fuzz run."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_input_causes_a_server_error(camden_api, active_agreement, settings):
    settings.OVERSIGHT_API_RATE_LIMIT = "100000/minute"
    assert upload(camden_api, active_agreement, seed=99).status_code == 201  # something to read and withdraw
    raw = camden_api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert raw.status_code == 200
    document = json.loads(raw.content)
    document["paths"] = {
        path: item for path, item in document["paths"].items() if path.startswith("/api/v1/watchlist-images")
    }
    assert len(document["paths"]) == 4
    schema = schemathesis.from_dict(document, app=get_wsgi_application())
    token = camden_api._credentials["HTTP_AUTHORIZATION"]
    counts = {"requests": 0, "by_status": {}}
    failures = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            response = case.call_wsgi(headers={"Authorization": token})
            counts["requests"] += 1
            counts["by_status"][response.status_code] = counts["by_status"].get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code, response.get_data()[:300]))

        with _keep_test_connection():
            exercise()

    print(f"fuzz: {counts['requests']} requests, statuses {sorted(counts['by_status'].items())}")
    assert counts["requests"] >= 200
    assert not failures, failures[:5]
