"""One way to write dates (with the zone), scores and counts (issue 16), and audit events in words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from governance.presentation import count_text, day_text, score_text, when_text


def test_dates_are_written_in_london_time_with_the_zone_named():
    assert when_text(datetime(2026, 12, 1, 18, 32, tzinfo=UTC)) == "1 Dec 2026, 18:32 GMT"
    assert when_text(datetime(2026, 7, 1, 18, 32, 5, tzinfo=UTC), seconds=True) == "1 Jul 2026, 19:32:05 BST"
    assert day_text(date(2026, 12, 1)) == "1 Dec 2026"
    assert day_text(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 Jul 2026"  # the local day
    assert when_text(None) == ""


def test_dates_inside_audit_details_are_written_like_every_other_date():
    from governance.templatetags.oversight import details_text

    text = details_text(
        {
            "notified_on": "2026-11-28",
            "seen_at": "2026-07-01T18:32:05.123456+00:00",
            "dates": {"ends_on": ["2026-12-31", "2027-06-30"]},
            "reference": "2026-13-45",  # date-shaped, not a date: kept as stored
            "count": 3,
        }
    )
    assert text == (
        "notified on: 28 Nov 2026; seen at: 1 Jul 2026, 19:32 BST; dates: ends_on 31 Dec 2026 → 30 Jun 2027; "
        "reference: 2026-13-45; count: 3"
    )


def test_scores_have_one_precision_and_counts_their_plural():
    assert score_text(0.6) == "0.600" and score_text(0.81234) == "0.812"
    assert count_text(1, "day") == "1 day" and count_text(0, "day") == "0 days"
    assert count_text(2, "breach", "breaches") == "2 breaches"


@pytest.mark.django_db
def test_an_agreements_life_reads_as_sentences_with_the_code_kept(client, cast, active_agreement):
    cast.met_dpo.first_name, cast.met_dpo.last_name = "Priya", "Shah"
    cast.met_dpo.save()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[active_agreement.pk])).content.decode()
    assert "<strong>Approved</strong> by Priya Shah (Metropolitan Police Service) — DPA 2018 s.62: alteration" in page
    assert "agreement.approved" in page  # the code, in small print
    assert 'class="timeline" id="history"' in page


@pytest.mark.django_db
def test_the_audit_log_names_its_records_as_links(client, cast, active_agreement):
    client.force_login(cast.estate_dpo)
    page = client.post(reverse("audit-log"), {"justification": "Quarterly check"}).content.decode()
    url = reverse("agreement-detail", args=[active_agreement.pk])
    assert f'<a href="{url}">' in page
    assert "Submitted for force-level approval by" in page
    csv = client.post(reverse("audit-log"), {"justification": "Export", "format": "csv"})
    body = b"".join(csv.streaming_content).decode()
    assert "agreement.approved" in body  # the export keeps the codes
