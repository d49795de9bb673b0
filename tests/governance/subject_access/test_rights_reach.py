"""Rights that reach everyone holding the data: recipients told of a rectification or erasure
(UK GDPR Art. 19; DPA 2018 s.48), an objection upheld with its effect (Art. 21), the supplying
force deciding any s.45(4) restriction before a response releases its data, restriction notices
with the s.45(5)/s.51 rights, and a response in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.subject_access import services as sars
from governance.subject_access.compile import compile_response
from governance.subject_access.consultation import consultation_decide, consultation_for, subject_request_consult
from governance.subject_access.models import ItemDecision, RecipientNotification
from governance.subject_access.recipients import (
    notification_chase,
    recipient_notification_acknowledge,
    recipient_notification_exception,
    recipient_notification_for,
)
from governance.watchlist.models import WatchlistImage
from governance.watchlist.selectors import watchlist_images_matchable
from tests.governance.subject_access.conftest import intake

pytestmark = pytest.mark.django_db


def _confirmed(cast, actor, ref: str, **fields):
    request = sars.subject_request_receive(actor=actor, fields=intake(**fields))
    sars.subject_request_decide(actor=actor, request=request, decisions=[(ref, ItemDecision.CONFIRMED, "reference")])
    return request


def test_erasure_is_told_to_the_recipient_chased_until_acknowledged(cast, held, client):
    """UK GDPR Art. 19: "The controller shall communicate any rectification or erasure ... to each
    recipient to whom the personal data have been disclosed"; DPA 2018 s.48. The Met erases the
    image its Camden unit supplied; the estate, which received it, gets a task on its home page."""
    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.met_dpo, ref, regime="dpa_part3", right="erasure")
    done = sars.subject_request_erase(actor=cast.met_dpo, request=request, ref=ref, reason="No longer wanted.")
    assert done.outcome == "done"
    notification = RecipientNotification.objects.get()
    assert notification.recipient == cast.estate and notification.action == done
    assert f"Watchlist image #{held.image.pk}" in notification.what and "Erase your copy" in notification.what
    assert "Robin" not in notification.what  # the requester's details stay with the controller
    event = AuditEvent.objects.get(event="subject_request.recipient_notified")
    assert event.action == "disclosure" and "King" in event.recipient
    # The recipient's DPO sees the task on its home page; the other operator does not.
    client.force_login(cast.estate_dpo)
    home = client.get("/").content.decode()
    assert 'id="rights-notifications"' in home and f"Watchlist image #{held.image.pk} erased" in home
    client.force_login(cast.other_dpo)
    assert 'id="rights-notifications"' not in client.get("/").content.decode()
    with pytest.raises(NotFound):
        recipient_notification_for(cast.other_dpo, notification.pk)
    # Chased after a week without acknowledgement, on both sides' home pages.
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert notification_chase(notification).code == "chased"
        client.force_login(cast.met_dpo)
        assert 'data-chase="chased"' in client.get("/").content.decode()
    # Only the recipient acknowledges; then the chase ends.
    with pytest.raises(PermissionRefused):
        recipient_notification_acknowledge(actor=cast.met_dpo, notification=notification)
    client.force_login(cast.estate_dpo)
    response = client.post(
        f"/subject-requests/notifications/{notification.pk}/acknowledge/", {"note": "Our copy erased."}
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.acknowledged_at and notification_chase(notification).code == "acknowledged"
    assert 'id="rights-notifications"' not in client.get("/").content.decode().split("rights-notifications-sent")[0]
    with pytest.raises(StateConflict):
        recipient_notification_acknowledge(actor=cast.estate_dpo, notification=notification)


def test_rectification_is_told_with_the_corrected_value_and_exceptions_need_a_ground(cast, held):
    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.met_dpo, ref, regime="dpa_part3", right="rectification")
    sars.subject_request_rectify(
        actor=cast.met_dpo, request=request, ref=ref, field="custody_reference", value="CUST/77/1A", reason="Typo."
    )
    notification = RecipientNotification.objects.get()
    assert "“CUST/77/1” to “CUST/77/1A”" in notification.what
    events = AuditEvent.objects.count()
    for exception, reason, code in (
        ("too busy", "We have no time for this.", "notice_exception_invalid"),
        ("disproportionate", "", "notice_exception_reason_required"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            recipient_notification_exception(
                actor=cast.met_dpo, notification=notification, exception=exception, reason=reason
            )
        assert refused.value.code == code
    notification.refresh_from_db()
    assert notification.is_open and AuditEvent.objects.count() == events
    with pytest.raises(PermissionRefused):  # the recipient cannot excuse the sender
        recipient_notification_exception(
            actor=cast.estate_dpo, notification=notification, exception="impossible", reason="Not for us to say."
        )
    notification = recipient_notification_exception(
        actor=cast.met_dpo,
        notification=notification,
        exception="impossible",
        reason="The operator's deployment ended and the organisation was dissolved.",
    )
    assert notification_chase(notification).code == "excepted"


def test_the_supplying_force_decides_a_restriction_the_operator_sees_the_decision_only(cast, held, client):
    """DPA 2018 s.45(4): whether access is restricted to avoid prejudicing the investigation of
    offences is the supplying force's decision. The estate's export waits for it; the Met decides
    in the product; the estate sees "restrict — s.45(4)(b)", never the Met's reasons."""
    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.estate_dpo, ref)
    with pytest.raises(StateConflict) as refused:
        sars.subject_request_export_start(actor=cast.estate_dpo, request=request)
    assert refused.value.code == "supplier_not_consulted"
    assert not request.exports.exists()
    (consultation,) = subject_request_consult(actor=cast.estate_dpo, request=request)
    assert consultation.force == cast.met and consultation.refs == [ref]
    with pytest.raises(StateConflict) as refused:
        sars.subject_request_export_start(actor=cast.estate_dpo, request=request)
    assert refused.value.code == "supplier_decision_pending"
    # The force's DPO has the task at home; the estate cannot decide; Camden's unit does not see it.
    client.force_login(cast.met_dpo)
    assert f"/subject-requests/consultations/{consultation.pk}/" in client.get("/").content.decode()
    with pytest.raises(PermissionRefused):
        consultation_for(cast.estate_dpo, consultation.pk, to="decide")
    with pytest.raises(NotFound):
        consultation_for(cast.btp_dpo, consultation.pk)
    with pytest.raises(ValidationFailed) as refused:  # a restriction needs an s.45(4) ground
        consultation_decide(
            actor=cast.met_dpo, consultation=consultation, decision="restrict", basis="sch2_para2", reasoning="x" * 20
        )
    assert refused.value.code == "restriction_basis_required"
    reasoning = "Operation Larkspur is live: disclosure would alert the suspect."
    response = client.post(
        f"/subject-requests/consultations/{consultation.pk}/",
        {"decision": "restrict", "basis": "s45_4_b", "reasoning": reasoning},
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.decision == "restrict" and consultation.basis == "s45_4_b"
    item = request.items.get(ref=ref)
    assert item.restricted and item.restriction_basis == "s45_4_b" and "Larkspur" not in item.restriction_reason
    # The force sees its reasons; the estate sees the decision and the provision, not the reasons.
    assert reasoning in client.get(f"/subject-requests/consultations/{consultation.pk}/").content.decode()
    client.force_login(cast.estate_dpo)
    for url in (f"/subject-requests/consultations/{consultation.pk}/", f"/subject-requests/{request.pk}/"):
        page = client.get(url).content.decode()
        assert "s.45(4)(b)" in page and "Larkspur" not in page
    assert not any("Larkspur" in str(e.details) + e.justification for e in AuditEvent.objects.all())
    # Now the response may be built: the item is withheld, with the rights the person has.
    compiled = compile_response(actor=cast.estate_dpo, request=request)
    assert not compiled.sections.get("Watchlist entries")
    (withheld,) = compiled.withheld
    assert "s.45(4)(b)" in withheld and "Information Commissioner" in withheld and "court" in withheld
    sars.subject_request_export_start(actor=cast.estate_dpo, request=request)


def test_a_part3_restriction_notice_names_the_s51_check_and_the_court(cast, held):
    """DPA 2018 s.45(5): the person is told "(c) of the data subject's right to make a request to
    the Commissioner under section 51, (d) ... to lodge a complaint with the Commissioner, and
    (e) ... to apply to a court under section 167"."""
    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.met_dpo, ref, regime="dpa_part3")
    item = request.items.get(ref=ref)
    sars.subject_request_item_restrict(
        actor=cast.met_dpo, request=request, item_id=item.pk, basis="s45_4_a", reason="An inquiry is under way."
    )
    (withheld,) = compile_response(actor=cast.met_dpo, request=request).withheld
    assert "(DPA 2018 s.51)" in withheld and "s.167" in withheld and "An inquiry is under way." in withheld


def test_an_objection_upheld_withdraws_the_image_from_matching(cast, held, active_agreement):
    """UK GDPR Art. 21(1): after an objection "the controller shall no longer process the personal
    data" unless it shows compelling legitimate grounds: upheld, the estate stops matching the image
    (through the watchlist provider's objection effect)."""
    from governance.agreements.models import Agreement

    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.estate_dpo, ref, right="objection")
    agreements = Agreement.objects.filter(pk=active_agreement.pk)
    WatchlistImage.objects.filter(pk__in=[held.image.pk, held.other.pk]).update(status="enrolled")
    assert held.image in set(watchlist_images_matchable(agreements))
    done = sars.subject_request_object(
        actor=cast.estate_dpo, request=request, ref=ref, reason="No compelling grounds override the objection."
    )
    assert done.outcome == "done" and done.after == "The image no longer takes part in matching."
    assert set(watchlist_images_matchable(agreements)) == {held.other}
    event = AuditEvent.objects.get(event="watchlist_image.restricted", target_id=str(held.image.pk))
    assert event.justification.startswith("Objection upheld")


def test_the_response_shows_roles_and_plain_words_not_usernames_or_event_codes(cast, held):
    ref = f"watchlist-image:{held.image.pk}"
    request = _confirmed(cast, cast.met_dpo, ref, regime="dpa_part3")
    compiled = compile_response(actor=cast.met_dpo, request=request)
    assert compiled.events
    for event in compiled.events:
        assert "." not in event.what and "_" not in event.what  # "Watchlist image received", not a code
        assert event.actor != held.submitter.username and event.actor not in {u.username for u in (cast.met_dpo,)}
    assert any(e.what == "Watchlist image received" for e in compiled.events)
