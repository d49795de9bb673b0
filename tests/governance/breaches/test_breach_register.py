"""The breach register: the 72-hour clock, what is recorded, who sees it, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.breaches import services
from governance.breaches.access import breach_for, breaches_visible_to
from governance.breaches.rules import breach_commissioner_clock, breach_party_clock, breach_subjects_state
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed

pytestmark = pytest.mark.django_db


def record(cast, *, risk="high", found_hours_ago=10, **overrides):
    fields = {
        "title": "Review-queue export emailed to the wrong address",
        "what_happened": "A reviewer emailed an alert export to an outside address.",
        "discovered_at": timezone.now() - timedelta(hours=found_hours_ago),
        "data_affected": "Camera crops and pseudonymous references of 4 alerts.",
        "records_affected": 8,
        "people_affected": 4,
        "people_affected_description": "People on the watchlist who raised alerts.",
        "risk": risk,
        "risk_assessment": "Crops identify people; the recipient is unknown.",
        "measures_taken": "Recall requested; the address blocked; reviewers retrained.",
        "dpo_contact": "Dana Okafor, DPO, King's Cross Estate, dpo@estate.example",
    }
    fields.update(overrides)
    return services.breach_record(actor=cast.estate_dpo, fields=fields)


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


def test_the_commissioner_notification_needs_every_art33_content(cast):
    """UK GDPR Art. 33(3) / DPA 2018 s.67(4): the notification must at least describe the nature,
    categories and approximate numbers of people and records, give "the name and contact details of
    the data protection officer", the likely consequences and the measures taken or proposed."""
    breach = record(cast, dpo_contact="", records_affected=None, measures_taken="")
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        services.breach_commissioner_notified(
            actor=cast.estate_dpo, breach=breach, notified_at=timezone.now(), reference="ICO-9"
        )
    assert refused.value.code == "art33_incomplete"
    assert set(refused.value.details["missing"]) == {
        "the DPO's name and contact details",
        "the approximate number of records concerned",
        "the measures taken or proposed",
    }
    breach.refresh_from_db()
    assert breach.commissioner_notified_at is None and AuditEvent.objects.count() == events
    breach = services.breach_contents_complete(
        actor=cast.estate_dpo,
        breach=breach,
        fields={
            "dpo_contact": "Dana Okafor, DPO, dpo@estate.example, 020 7946 0000",
            "records_affected": 8,
            "measures_taken": "Recall requested.",
        },
    )
    breach = services.breach_commissioner_notified(
        actor=cast.estate_dpo, breach=breach, notified_at=timezone.now(), reference="ICO-9"
    )
    assert breach.commissioner_notified_at is not None
    assert AuditEvent.objects.filter(event="breach.contents_completed", target_id=str(breach.pk)).exists()


def test_not_telling_the_people_affected_needs_a_ground_the_law_lists(cast):
    """Art. 34(3) / s.68(3): (a) protection such as encryption applied, (b) later measures remove
    the high risk, (c) disproportionate effort; s.68(7): restrictions for a competent authority only.
    Free text alone is refused."""
    breach = record(cast)
    events = AuditEvent.objects.count()
    for ground, reason, code in (
        ("", "We decided it was not worth it.", "not_told_ground_required"),
        ("because", "We decided it was not worth it.", "not_told_ground_required"),
        ("s68_7_b", "An investigation is running.", "not_told_ground_part3_only"),  # the estate is an operator
        ("protected", " ", "not_told_reason_required"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            services.breach_subjects_informed(
                actor=cast.estate_dpo, breach=breach, not_told_ground=ground, not_told_reason=reason
            )
        assert refused.value.code == code
    breach.refresh_from_db()
    assert not breach.subjects_not_notified_ground and not breach.subjects_not_notified_reason
    assert AuditEvent.objects.count() == events
    breach = services.breach_subjects_informed(
        actor=cast.estate_dpo,
        breach=breach,
        not_told_ground="protected",
        not_told_reason="The export was AES-256 encrypted and the key was not sent.",
    )
    state = breach_subjects_state(breach)
    assert state.startswith("Not told — Art. 34(3)(a)") and "AES-256" in state


def test_a_breach_involving_shared_data_is_seen_by_the_other_party_with_its_own_clock(cast, client, active_agreement):
    """A breach at the operator involving the force's images: linked to the agreement, the supplying
    unit (Camden) and its force (the Met) see it in their registers, read-only; the agreement's
    24 hours run beside the Commissioner's 72; another force and another operator see nothing."""
    breach = record(cast, found_hours_ago=30)
    with pytest.raises(NotFound):
        breach_for(cast.camden_dpo, breach.pk)
    party = services.breach_share(actor=cast.estate_dpo, breach=breach, agreement=active_agreement)
    assert party.organisation == cast.camden and party.hours == 24
    assert party.due_at == breach.discovered_at + timedelta(hours=24)
    for dpo in (cast.camden_dpo, cast.met_dpo):
        assert breach_for(dpo, breach.pk) == breach
        with pytest.raises(PermissionRefused):
            breach_for(dpo, breach.pk, to="change")
    for outsider in (cast.btp_dpo, cast.other_dpo):
        with pytest.raises(NotFound):
            breach_for(outsider, breach.pk)
    # Both clocks: the 72 hours still run; the agreement's 24 are 6 hours overdue.
    assert breach_commissioner_clock(breach).code == "running"
    clock = breach_party_clock(party)
    assert clock.code == "overdue" and "Overdue by 6 hours" in clock.text
    client.force_login(cast.met_dpo)
    page = client.get(f"/breaches/{breach.pk}/").content.decode()
    assert 'data-party-clock="overdue"' in page and active_agreement.reference in page and "dpo@estate.example" in page
    assert "Link and start" not in page  # the force reads; the operator records
    assert breach.reference in client.get("/breaches/").content.decode()
    client.force_login(cast.estate_dpo)
    assert 'data-clock="overdue"' in client.get("/").content.decode()  # the party clock is chased at home
    party = services.breach_party_told(
        actor=cast.estate_dpo, breach=breach, party=party, told_at=timezone.now(), how="Secure e-mail to Camden DPO"
    )
    assert breach_party_clock(party).code == "notified_late"
    # The force sees the events about the breach in its audit scope.
    shared = AuditEvent.objects.get(event="breach.shared", target_id=str(breach.pk))
    assert shared.details["hours"] == 24
    with pytest.raises(StateConflict):
        services.breach_share(actor=cast.estate_dpo, breach=breach, agreement=active_agreement)


def test_only_a_party_to_the_agreement_links_a_breach_to_it(cast, active_agreement):
    from governance.breaches.models import BreachParty

    other = services.breach_record(
        actor=cast.other_dpo,
        fields={
            "title": "Laptop lost",
            "what_happened": "A laptop was lost.",
            "discovered_at": timezone.now() - timedelta(hours=1),
            "data_affected": "Reviewer notes.",
            "risk": "risk",
            "risk_assessment": "Notes name places.",
        },
    )
    with pytest.raises(NotFound):  # the other operator cannot see the Camden agreement at all
        services.breach_share(actor=cast.other_dpo, breach=other, agreement=active_agreement)
    assert not BreachParty.objects.exists()


def test_linking_telling_and_completing_through_the_page(cast, client, active_agreement):
    breach = record(cast, dpo_contact="", found_hours_ago=2)
    client.force_login(cast.estate_dpo)
    page = client.get(f"/breaches/{breach.pk}/").content.decode()
    assert 'id="art33-missing"' in page and "the DPO&#x27;s name and contact details" in page
    assert active_agreement.reference in page  # offered to link: the estate is a party
    assert client.post(f"/breaches/{breach.pk}/share/", {"agreement": active_agreement.pk}).status_code == 302
    party = breach.parties.get()
    told = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/breaches/{breach.pk}/party-told/", {"party": party.pk, "told_at": told, "how": "Phone to DPO"})
    party.refresh_from_db()
    assert party.told_at is not None and breach_party_clock(party).code == "notified"
    contents = {
        "data_affected": breach.data_affected,
        "records_affected": 8,
        "people_affected": 4,
        "people_affected_description": breach.people_affected_description,
        "risk_assessment": breach.risk_assessment,
        "measures_taken": breach.measures_taken,
        "dpo_contact": "Dana Okafor, DPO, dpo@estate.example",
    }
    client.post(f"/breaches/{breach.pk}/contents/", contents)
    page = client.get(f"/breaches/{breach.pk}/").content.decode()
    assert 'id="art33-missing"' not in page and 'data-party-clock="notified"' in page
    # Camden's DPO reads it (shared with it) but has no forms.
    client.force_login(cast.camden_dpo)
    page = client.get(f"/breaches/{breach.pk}/").content.decode()
    assert "dpo@estate.example" in page and "/contents/" not in page
    assert client.post(f"/breaches/{breach.pk}/contents/", contents).status_code == 403
