"""Notifications: each clock raises its notice once, at the moment the record's own rule says, to the people
who answer for the record and nobody else; emails carry a link only; the regulator acknowledges and queries
what is notified to it and the DPO answers."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.breaches import services as breaches
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.notifications import services
from governance.notifications.models import Notification
from governance.subject_access.services import subject_request_receive

pytestmark = pytest.mark.django_db

REQUESTER = "Quentin Featherstonehaugh"


def notices(clock: str, user=None):
    found = Notification.objects.filter(clock=clock)
    return found.filter(recipient=user) if user is not None else found


def dpos(organisation) -> set:
    from governance.organisations.roles import Role

    return {u for u in organisation.members.all() if u.has_role(Role.DPO)}


def at(day, hour=9):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def sar(cast, received_on):
    return subject_request_receive(
        actor=cast.estate_dpo,
        fields={
            "regime": "uk_gdpr",
            "right": "access",
            "requester_name": REQUESTER,
            "requester_contact": "quentin@example.org",
            "request_text": "Everything you hold about me.",
            "subject_references": ["MET-U-0001"],
            "received_on": received_on,
            "identity_verified_how": "Passport seen.",
            "identity_verified_by_name": "Dana Okafor",
        },
    )


def breach(cast, *, hours_ago=10, risk="high"):
    return breaches.breach_record(
        actor=cast.estate_dpo,
        fields={
            "title": "Review-queue export emailed to the wrong address",
            "what_happened": "A reviewer emailed an alert export to an outside address.",
            "discovered_at": timezone.now() - timedelta(hours=hours_ago),
            "data_affected": "Camera crops of 4 alerts.",
            "records_affected": 8,
            "people_affected": 4,
            "people_affected_description": "People on the watchlist who raised alerts.",
            "risk": risk,
            "risk_assessment": "Crops identify people; the recipient is unknown.",
            "measures_taken": "Recall requested.",
            "dpo_contact": "Dana Okafor, DPO, dpo@estate.example",
        },
    )


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def test_a_subject_request_deadline_is_reminded_a_week_before_and_once_overdue_once_each(cast):
    """Received Thursday 30 January 2025: due Friday 28 February (one calendar month, DPA 2018 s.54; the
    deadline rule in governance.subject_access.deadlines, read through ``subject_request_deadline``)."""
    with time_machine.travel(at(timezone.datetime(2025, 1, 30).date()), tick=False):
        request = sar(cast, timezone.localdate())
        assert str(request.due_on) == "2025-02-28"
        services.notifications_raise()
        assert not notices("subject-request-deadline").exists()  # four weeks left: nothing yet
    with time_machine.travel(at(request.due_on - timedelta(days=8)), tick=False):
        services.notifications_raise()
        assert not notices("subject-request-deadline").exists()
    with time_machine.travel(at(request.due_on - timedelta(days=7)), tick=False):
        assert services.notifications_raise() >= 2
        due_soon = notices("subject-request-deadline")
        assert {n.recipient for n in due_soon} == {cast.estate_dpo, cast.estate_dpo2}  # the receiving DPOs only
        assert all(n.stage == "due_soon:2025-02-28" and "7 days left" in n.title for n in due_soon)
        assert due_soon.first().url == f"/subject-requests/{request.pk}/"
        services.notifications_raise()  # idempotent: running it twice raises nothing new
        assert notices("subject-request-deadline").count() == 2
    with time_machine.travel(at(request.due_on - timedelta(days=3)), tick=False):
        services.notifications_raise()
        assert notices("subject-request-deadline").count() == 2  # same stage: not again
    with time_machine.travel(at(request.due_on + timedelta(days=1)), tick=False):
        services.notifications_raise()
        overdue = notices("subject-request-deadline").filter(stage__startswith="overdue")
        assert overdue.count() == 2 and "Overdue by 1 day" in overdue.first().title
    for outsider in (cast.met_dpo, cast.camden_dpo, cast.other_dpo, cast.regulator, cast.estate_reviewer):
        assert not Notification.objects.filter(recipient=outsider, key=f"subject-request:{request.pk}").exists()


def test_the_breach_clocks_72_hours_and_the_agreements_24_raise_running_then_overdue(cast, active_agreement):
    found = breach(cast, hours_ago=2)
    party = breaches.breach_share(actor=cast.estate_dpo, breach=found, agreement=active_agreement)
    services.notifications_raise()
    assert {(n.recipient, n.stage) for n in notices("breach-commissioner")} == {
        (u, "running") for u in dpos(cast.estate)
    }
    assert set(notices("breach-party").values_list("stage", flat=True)) == {"running"}
    # The party to tell (Camden, the Met) reads the breach but does not answer for its clocks.
    assert not Notification.objects.filter(recipient__in=[cast.camden_dpo, cast.met_dpo], key__startswith="breach")
    with time_machine.travel(party.due_at + timedelta(minutes=1), tick=False):
        services.notifications_raise()
        assert notices("breach-party").filter(stage="overdue").count() == len(dpos(cast.estate))
        assert not notices("breach-commissioner").filter(stage="overdue").exists()  # 72 hours still running
    with time_machine.travel(found.commissioner_due_at + timedelta(minutes=1), tick=False):
        services.notifications_raise()
        services.notifications_raise()
        assert notices("breach-commissioner").filter(stage="overdue").count() == len(dpos(cast.estate))
        assert "Overdue" in notices("breach-commissioner").filter(stage="overdue").first().title


def test_email_carries_only_a_link_and_follows_each_users_choice(cast, client, settings):
    settings.OVERSIGHT_SITE_URL = "http://testserver"
    with_email(cast.estate_dpo, cast.estate_dpo2)
    client.force_login(cast.estate_dpo2)
    assert client.post("/account/", {}).status_code == 302  # email off
    assert AuditEvent.objects.filter(event="notifications.preference_changed", actor=cast.estate_dpo2).exists()
    found = breach(cast)
    with time_machine.travel(timezone.now(), tick=False):
        request = sar(cast, timezone.localdate() - timedelta(days=40))
    mail.outbox.clear()
    services.notifications_raise()
    assert mail.outbox and {m.to[0] for m in mail.outbox} == {"dpo.estate@example.org"}
    for message in mail.outbox:  # every email the service sent: a link, nothing of the record or the person
        text = message.subject + message.body
        for secret in (REQUESTER, request.reference, found.reference, found.title, "Breach", "Subject request"):
            assert secret not in text
        links = re.findall(r"https?://\S+", message.body)
        assert links and all(re.fullmatch(r"http://testserver/(notifications/\d+/|account/)", link) for link in links)
        assert re.sub(r"https?://\S+", "", message.body).strip().splitlines()[0] == (
            "Something in Oversight needs your attention."
        )
    sent = len(mail.outbox)
    services.notifications_raise()
    assert len(mail.outbox) == sent  # each notice emailed once
    # The link opens the notice (marked read) and goes where the work is done; another user's is a 404.
    notice = Notification.objects.filter(recipient=cast.estate_dpo, clock="breach-commissioner").get()
    client.force_login(cast.estate_dpo)
    assert client.get("/").content.decode().count('id="notification-count"') == 1
    response = client.get(f"/notifications/{notice.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/breaches/{found.pk}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    client.force_login(cast.met_dpo)
    assert client.get(f"/notifications/{notice.pk}/").status_code == 404


def test_the_regulator_acknowledges_and_queries_and_the_dpo_answers_on_the_records_page(cast, client):
    found = breach(cast)
    found = breaches.breach_commissioner_notified(
        actor=cast.estate_dpo, breach=found, notified_at=timezone.now(), reference="ICO-77"
    )
    services.notifications_raise()
    assert notices("regulator-received", cast.regulator).get().url == f"/breaches/{found.pk}/"
    client.force_login(cast.regulator)
    home = client.get("/").content.decode()
    assert "Nothing is waiting for you" not in home and "1 thing waiting for you" in home
    assert "Acknowledge" in home
    # Only the regulator acknowledges; another organisation's DPO is refused, a record not notified is a 404.
    with pytest.raises(PermissionRefused):
        services.regulator_notification_acknowledge(actor=cast.met_dpo, kind="breach", pk=found.pk)
    with pytest.raises(NotFound):
        services.regulator_notification_acknowledge(actor=cast.regulator, kind="breach", pk=breach(cast).pk)
    assert client.post(f"/notifications/received/breach/{found.pk}/acknowledge/", {"next": "home"}).status_code == 302
    home = client.get("/").content.decode()
    assert "Nothing is waiting for you" in home and "Acknowledged" in home
    assert notices("regulator-received", cast.regulator).get().read_at is not None
    with pytest.raises(StateConflict):
        services.regulator_notification_acknowledge(actor=cast.regulator, kind="breach", pk=found.pk)
    services.notifications_raise()
    assert notices("regulator-received").count() == 1  # acknowledged: never raised again
    # A query: too short is a coded refusal; a real one reaches the estate's DPOs (inbox and the page).
    with pytest.raises(ValidationFailed) as refused:
        services.regulator_query_ask(actor=cast.regulator, kind="breach", pk=found.pk, question="Why?")
    assert refused.value.code == "question_required"
    response = client.post(
        f"/notifications/received/breach/{found.pk}/query/",
        {"question": "When were the people affected told, and how?"},
    )
    assert response.status_code == 302 and response["Location"] == f"/breaches/{found.pk}/#regulator"
    asked = notices("regulator-query").filter(stage="asked")
    assert {n.recipient for n in asked} == {cast.estate_dpo, cast.estate_dpo2}
    client.force_login(cast.estate_dpo)
    page = client.get(f"/breaches/{found.pk}/").content.decode()
    assert "When were the people affected told, and how?" in page and "Send the answer" in page
    query_id = re.search(r"/notifications/queries/(\d+)/answer/", page).group(1)
    client.force_login(cast.met_dpo)  # not the recorder: the query does not exist for it
    assert client.post(f"/notifications/queries/{query_id}/answer/", {"answer": "x" * 20}).status_code == 404
    client.force_login(cast.estate_dpo)
    assert client.post(f"/notifications/queries/{query_id}/answer/", {"answer": "Short"}).status_code == 400
    answer = "By letter through the supplying force on the day of discovery."
    assert client.post(f"/notifications/queries/{query_id}/answer/", {"answer": answer}).status_code == 302
    assert client.post(f"/notifications/queries/{query_id}/answer/", {"answer": answer}).status_code == 409
    assert notices("regulator-query", cast.regulator).get().stage == "answered"
    client.force_login(cast.regulator)
    assert answer in client.get(f"/breaches/{found.pk}/").content.decode()
    events = AuditEvent.objects.filter(target_id=str(found.pk), event__startswith="regulator.")
    assert sorted(events.values_list("event", flat=True)) == [
        "regulator.acknowledged",
        "regulator.query_answered",
        "regulator.query_asked",
    ]


def test_the_inbox_and_account_pages(cast, client):
    breach(cast)
    services.notifications_raise()
    client.force_login(cast.estate_dpo)
    page = client.get("/notifications/").content.decode()
    assert "72 hours" not in page or "Breach BR-" in page
    assert "Unread: " in page and "Mark all read" in page
    assert client.post("/notifications/read-all/").status_code == 302
    assert "Unread: " not in client.get("/notifications/").content.decode()
    assert 'id="notification-count"' not in client.get("/").content.decode()
    account = client.get("/account/").content.decode()
    assert "Also email me a link" in account
