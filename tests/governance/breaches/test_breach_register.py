"""The breach register: the 72-hour clock, what is recorded, who sees it, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.breaches import services
from governance.breaches.access import breach_for, breaches_visible_to
from governance.breaches.rules import breach_commissioner_clock, breach_subjects_state
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed

pytestmark = pytest.mark.django_db


def record(cast, *, risk="high", found_hours_ago=10):
    return services.breach_record(
        actor=cast.estate_dpo,
        fields={
            "title": "Review-queue export emailed to the wrong address",
            "what_happened": "A reviewer emailed an alert export to an outside address.",
            "discovered_at": timezone.now() - timedelta(hours=found_hours_ago),
            "data_affected": "Camera crops and pseudonymous references of 4 alerts.",
            "people_affected": 4,
            "people_affected_description": "People on the watchlist who raised alerts.",
            "risk": risk,
            "risk_assessment": "Crops identify people; the recipient is unknown.",
        },
    )


def test_the_72_hour_clock_runs_is_chased_and_is_settled(cast):
    breach = record(cast)
    assert breach.reference.startswith("BR-") and breach.commissioner_due_at == breach.discovered_at + timedelta(
        hours=72
    )
    clock = breach_commissioner_clock(breach, at=breach.discovered_at + timedelta(hours=10))
    assert clock.code == "running" and clock.chase and "2 days 14 hours left" in clock.text
    with time_machine.travel(breach.discovered_at + timedelta(hours=75), tick=False):
        clock = breach_commissioner_clock(breach)
        assert clock.code == "overdue" and "Overdue by 3 hours" in clock.text
        with pytest.raises(ValidationFailed) as refused:  # late: the reasons for the delay are required
            services.breach_commissioner_notified(
                actor=cast.estate_dpo, breach=breach, notified_at=timezone.now(), reference="ICO-1"
            )
        assert refused.value.code == "delay_reason_required"
        breach = services.breach_commissioner_notified(
            actor=cast.estate_dpo,
            breach=breach,
            notified_at=timezone.now(),
            reference="ICO-1",
            delay_reason="The extent was only established after the recipient replied.",
        )
        assert breach_commissioner_clock(breach).code == "notified_late"
        assert "3 hours after the 72 hours" in breach_commissioner_clock(breach).text
    assert breach_subjects_state(breach).startswith("High risk")
    breach = services.breach_subjects_informed(
        actor=cast.estate_dpo, breach=breach, notified_at=timezone.now(), how="Letter through the supplying force"
    )
    assert breach_subjects_state(breach).startswith("Told")
    events = list(AuditEvent.objects.filter(event__startswith="breach.").values_list("event", flat=True))
    assert events == ["breach.recorded", "breach.commissioner_notified", "breach.subjects_informed"]


def test_a_breach_unlikely_to_cause_risk_records_why_it_was_not_notified(cast):
    risky = record(cast, risk="risk")
    with pytest.raises(StateConflict):
        services.breach_commissioner_not_notified(actor=cast.estate_dpo, breach=risky, reason="Minor.")
    minor = record(cast, risk="unlikely")
    minor = services.breach_commissioner_not_notified(
        actor=cast.estate_dpo, breach=minor, reason="Encrypted laptop; key not compromised."
    )
    assert breach_commissioner_clock(minor).code == "not_notified" and not breach_commissioner_clock(minor).chase


def test_scope_other_organisations_get_not_found_and_the_regulator_reads_all(cast, client):
    breach = record(cast)
    with pytest.raises(NotFound):
        breach_for(cast.other_dpo, breach.pk)
    with pytest.raises(NotFound):
        breach_for(cast.met_dpo, breach.pk)
    assert list(breaches_visible_to(cast.regulator)) == [breach]
    with pytest.raises(PermissionRefused):
        breach_for(cast.regulator, breach.pk, to="change")
    assert list(breaches_visible_to(cast.estate_reviewer)) == []
    client.force_login(cast.other_dpo)
    assert client.get(f"/breaches/{breach.pk}/").status_code == 404
    client.force_login(cast.estate_reviewer)
    assert client.get("/breaches/").status_code == 403
    client.force_login(cast.regulator)
    assert client.get(f"/breaches/{breach.pk}/").status_code == 200
    assert "BR-" in client.get("/breaches/?format=csv").content.decode()


def test_the_dashboard_chases_the_clock(cast, client):
    breach = record(cast, found_hours_ago=80)
    client.force_login(cast.estate_dpo)
    page = client.get("/").content.decode()
    assert breach.reference in page and 'data-clock="overdue"' in page
    client.force_login(cast.other_dpo)
    assert breach.reference not in client.get("/").content.decode()


def test_recording_through_the_page(cast, client):
    client.force_login(cast.estate_dpo)
    response = client.post(
        "/breaches/",
        {
            "title": "Lost notebook",
            "what_happened": "Notebook with reviewer notes lost on the Tube.",
            "discovered_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "data_affected": "Handwritten notes on 2 alerts.",
            "risk": "risk",
            "risk_assessment": "Notes name places.",
        },
    )
    assert response.status_code == 302
    breach = breaches_visible_to(cast.estate_dpo).get()
    assert breach.organisation == cast.estate and breach.recorded_by == cast.estate_dpo
