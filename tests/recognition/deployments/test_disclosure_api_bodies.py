"""Every JSON endpoint of the API reads its body with the bounded parser: a deeply nested body to the
outcome endpoint is a coded 400 (it was a RecursionError, a 500), and the outcome can still be reported."""

from __future__ import annotations

import pytest

from recognition.deployments.services.disclosure import alert_disclose
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert
from tests.recognition.deployments.test_review_and_disclosure import (
    confirmed,
    token_client,
)

pytestmark = pytest.mark.django_db


def test_a_deeply_nested_outcome_body_is_a_coded_400(cast, people, live_deployment, active_agreement):
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
    camden = token_client(people.camden_submitter)
    url = f"/api/v1/disclosures/{disclosure.pk}/outcome/"
    depth = 100_000
    response = camden.generic(
        "POST", url, b'{"outcome": ' + b"[" * depth + b"]" * depth + b"}", content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "json_too_deep"
    disclosure.refresh_from_db()
    assert disclosure.outcome == ""
    done = camden.post(url, {"outcome": "arrested", "notes": "Arrested on warrant."}, format="json")
    assert done.status_code == 200 and done.json()["outcome"] == "arrested"
