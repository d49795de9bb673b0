"""The audit log page answers a search with no hits by saying so (it asked for a justification that
had been given)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Monthly self-monitoring of consultations."


def test_a_justified_search_without_hits_says_no_events_match(client, cast):
    client.force_login(cast.estate_dpo)
    future = (timezone.localdate() + timedelta(days=400)).isoformat()
    response = client.post("/audit/", {"date_from": future, "justification": JUSTIFICATION})
    assert response.status_code == 200
    body = response.content.decode()
    assert "No events match" in body
    assert "Give a justification" not in body


def test_a_search_without_justification_still_asks_for_one(client, cast):
    client.force_login(cast.estate_dpo)
    body = client.post("/audit/", {"text": "agreement"}).content.decode()
    assert "Say why you are consulting the audit log" in body
    assert "No events match" not in body


def test_a_justified_search_with_hits_lists_them(client, cast, active_agreement):
    client.force_login(cast.estate_dpo)
    body = client.post("/audit/", {"justification": JUSTIFICATION}).content.decode()
    assert "agreement.approved" in body and "No events match" not in body
