"""Intake, the clock, access, two controllers and the other rights, through the services against
governance's own providers (watchlist images, deletion certificates)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, ValidationFailed
from governance.subject_access import services as sars
from governance.subject_access.access import subject_request_for, subject_requests_visible_to
from governance.subject_access.deadlines import months_after, next_working_day, one_calendar_month_after, response_due
from governance.subject_access.models import ItemDecision, RequestStatus
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage
from governance.watchlist.selectors import watchlist_images_matchable
from tests.governance.subject_access.conftest import intake

pytestmark = pytest.mark.django_db


def test_intake_gives_a_reference_a_deadline_and_an_audit_event(cast):
    received = timezone.localdate() - timedelta(days=3)
    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(received_on=received))
    assert request.reference == f"SAR-{received.year}-0001"
    assert request.due_on == response_due(received)
    assert request.provision == "UK GDPR Art. 15"
    second = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake())
    assert second.reference == f"SAR-{received.year}-0002"
    event = AuditEvent.objects.get(event="subject_request.received", target_id=str(request.pk))
    assert event.action == "collection" and "Robin" not in str(event.details)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"regime": "dpa_part3"}, "regime"),  # an operator is not a competent authority
        ({"requester_name": ""}, "requester_name"),
        ({"received_on": date.today() + timedelta(days=2)}, "received_on"),
        ({"identity_verified_how": ""}, "identity_verified_how"),
    ],
)
def test_intake_refuses_an_incomplete_or_wrong_request(cast, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(**overrides))
    assert refused.value.code == "request_incomplete" and field in refused.value.details


def test_objection_is_not_a_part3_right(cast):
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_receive(actor=cast.met_dpo, fields=intake(regime="dpa_part3", right="objection"))
    assert "right" in refused.value.details


def test_awaiting_identity_restarts_the_month_from_the_day_it_arrives(cast):
    """DPA 2018 s.54(3)(b): the relevant time is the latest of receipt of the request and receipt of
    the identity information asked for: the month runs again from the day ID arrives."""
    received = timezone.localdate() - timedelta(days=10)
    request = sars.subject_request_receive(
        actor=cast.estate_dpo,
        fields=intake(received_on=received, identity_verified_how="", identity_verified_by_name=""),
        awaiting_identity=True,
    )
    assert request.status == RequestStatus.AWAITING_IDENTITY and request.due_on is None
    arrived = received + timedelta(days=4)
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_clock_restart(actor=cast.estate_dpo, request=request, on=arrived)
    assert refused.value.code == "identity_verification_required"
    request = sars.subject_request_clock_restart(
        actor=cast.estate_dpo,
        request=request,
        on=arrived,
        identity_verified_how="Driving licence copy, certified.",
        identity_verified_by_name="Dana Okafor",
    )
    assert request.status == RequestStatus.OPEN
    assert request.due_on == next_working_day(one_calendar_month_after(arrived))
    assert request.identity_verified_on == arrived


def test_clarification_on_a_request_other_than_access_is_refused_and_nothing_is_stored(cast):
    """DPA 2018 s.54(3A): clarification stops the clock on an access request only."""
    received = timezone.localdate() - timedelta(days=5)
    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(right="erasure", received_on=received))
    due, events = request.due_on, AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_clock_stop(actor=cast.estate_dpo, request=request, reason="clarification", on=received)
    assert refused.value.code == "clarification_access_only"
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN and request.due_on == due and not request.pauses.exists()
    assert AuditEvent.objects.count() == events
    # Identity may still be asked for on an erasure request.
    request = sars.subject_request_clock_stop(actor=cast.estate_dpo, request=request, reason="identity", on=received)
    assert request.status == RequestStatus.AWAITING_IDENTITY and request.due_on is None


def test_a_fee_needs_a_ground_and_restarts_the_month_when_paid(cast):
    """UK GDPR Art. 12(5)/15(3): a fee only for a manifestly unfounded or excessive request or for
    further copies; DPA 2018 s.54(3)(c): the month runs from when the fee is paid."""
    received = timezone.localdate() - timedelta(days=12)
    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(received_on=received))
    events = AuditEvent.objects.count()
    for ground, code in (("", "fee_ground_required"), ("postage", "fee_ground_required")):
        with pytest.raises(ValidationFailed) as refused:
            sars.subject_request_clock_stop(
                actor=cast.estate_dpo, request=request, reason="fee", on=received, fee_ground=ground
            )
        assert refused.value.code == code
    assert not request.pauses.exists() and AuditEvent.objects.count() == events
    request = sars.subject_request_clock_stop(
        actor=cast.estate_dpo,
        request=request,
        reason="fee",
        on=received + timedelta(days=1),
        fee_ground="further_copies",
    )
    assert request.status == RequestStatus.AWAITING_FEE and request.due_on is None
    paid = received + timedelta(days=6)
    request = sars.subject_request_clock_restart(actor=cast.estate_dpo, request=request, on=paid)
    assert request.due_on == next_working_day(one_calendar_month_after(paid))
    assert request.pauses.get().fee_ground == "further_copies"


def test_clarification_pause_and_extension_rules(cast):
    received = timezone.localdate() - timedelta(days=20)
    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake(received_on=received))
    first_due = request.due_on
    request = sars.subject_request_clock_stop(
        actor=cast.estate_dpo, request=request, reason="clarification", on=received + timedelta(days=2)
    )
    assert request.status == RequestStatus.AWAITING_CLARIFICATION and request.due_on is None
    request = sars.subject_request_clock_restart(
        actor=cast.estate_dpo, request=request, on=received + timedelta(days=7)
    )
    # Asked on day 2, answered on day 7: six days do not count, both ends included (s.54(3C)); then
    # to a working day (computed from the unshifted month, so a weekend is not counted twice).
    assert request.due_on == next_working_day(one_calendar_month_after(received) + timedelta(days=6))
    assert request.due_on > first_due or first_due.weekday() == 0
    with pytest.raises(ValidationFailed) as refused:  # told after the first month ended
        sars.subject_request_extend(
            actor=cast.estate_dpo,
            request=request,
            months=2,
            reason="Many deployments.",
            requester_told_on=request.due_on + timedelta(days=1),
        )
    assert refused.value.code == "extension_not_notified_in_time"
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_extend(
            actor=cast.estate_dpo, request=request, months=2, reason=" ", requester_told_on=timezone.localdate()
        )
    assert refused.value.code == "extension_reason_required"
    request = sars.subject_request_extend(
        actor=cast.estate_dpo,
        request=request,
        months=2,
        reason="Many deployments.",
        requester_told_on=timezone.localdate(),
    )
    assert request.extension_months == 2
    assert request.due_on == next_working_day(months_after(received, 3) + timedelta(days=6))


def test_requests_are_scoped_to_their_organisation_and_regulators_see_metadata_only(cast):
    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake())
    assert list(subject_requests_visible_to(cast.estate_dpo)) == [request]
    assert list(subject_requests_visible_to(cast.other_dpo)) == []
    with pytest.raises(NotFound):
        subject_request_for(cast.other_dpo, request.pk)
    with pytest.raises(NotFound):
        subject_request_for(cast.estate_reviewer, request.pk)  # a role without subject requests
    assert subject_request_for(cast.regulator, request.pk) == request
    with pytest.raises(PermissionRefused) as refused:
        subject_request_for(cast.regulator, request.pk, to="contents")
    assert refused.value.code == "metadata_only"


def _confirmed(cast, held, actor=None, **fields):
    actor = actor or cast.estate_dpo
    request = sars.subject_request_receive(actor=actor, fields=intake(**fields))
    outcome = sars.subject_request_search(
        actor=actor,
        request=request,
        justification="Subject access request received.",
        subject_references=request.subject_references,
    )
    sars.subject_request_decide(
        actor=actor,
        request=request,
        decisions=[(str(c.ref), ItemDecision.CONFIRMED, c.found_by) for c in outcome.candidates],
    )
    return request, outcome


def test_the_operator_refers_to_the_force_that_controls_the_image(cast, held):
    request, _ = _confirmed(cast, held)
    controllers = sars.subject_request_controllers(actor=cast.estate_dpo, request=request)
    assert controllers == [cast.met]  # the supplying force of Camden's image
    linked = sars.subject_request_refer(actor=cast.estate_dpo, request=request, controller_id=cast.met.pk, note="")
    assert linked.organisation == cast.met and linked.referred_from == request
    assert linked.regime == "dpa_part3" and linked.received_on == timezone.localdate()
    assert linked.due_on == response_due(timezone.localdate())  # its own deadline
    assert subject_request_for(cast.met_dpo, linked.pk) == linked
    with pytest.raises(NotFound):  # the operator's own request stays the operator's
        subject_request_for(cast.met_dpo, request.pk)
    with pytest.raises(NotFound):
        subject_request_for(cast.estate_dpo, linked.pk)
    event = AuditEvent.objects.get(event="subject_request.referred")
    assert event.action == "disclosure" and "Metropolitan" in event.recipient


def test_erasure_by_the_operator_is_refused_with_a_reason_and_done_by_the_force(cast, held):
    request, _ = _confirmed(cast, held)
    ref = f"watchlist-image:{held.image.pk}"
    refused = sars.subject_request_erase(actor=cast.estate_dpo, request=request, ref=ref, reason="Requester asks.")
    assert refused.outcome == "refused" and "refer the request" in refused.reason
    assert WatchlistImage.objects.get(pk=held.image.pk).status != ImageStatus.ERASED
    linked = sars.subject_request_refer(actor=cast.estate_dpo, request=request, controller_id=cast.met.pk, note="")
    search = sars.subject_request_search(
        actor=cast.met_dpo,
        request=linked,
        justification="Referred request from the estate.",
        subject_references=["MET-S-0001"],
    )
    assert ref in {str(c.ref) for c in search.candidates}
    sars.subject_request_decide(actor=cast.met_dpo, request=linked, decisions=[(ref, "confirmed", "subject reference")])
    done = sars.subject_request_erase(actor=cast.met_dpo, request=linked, ref=ref, reason="No longer wanted.")
    assert done.outcome == "done" and done.certificate_ids
    from governance.watchlist.models import WatchlistImageContent

    assert WatchlistImage.objects.get(pk=held.image.pk).status == ImageStatus.ERASED
    assert not WatchlistImageContent.objects.filter(image_id=held.image.pk).exists()
    certificates = DeletionCertificate.objects.filter(pk__in=done.certificate_ids)
    assert {c.rule for c in certificates} == {"subject_request"}
    assert any(c.subject_type == "governance.watchlistimagecontent" for c in certificates)


def test_restriction_stops_matching_while_it_stands(cast, held, active_agreement):
    from governance.agreements.models import Agreement

    request, _ = _confirmed(cast, held, actor=cast.met_dpo, regime="dpa_part3", right="restriction")
    ref = f"watchlist-image:{held.image.pk}"
    agreements = Agreement.objects.filter(pk=active_agreement.pk)
    WatchlistImage.objects.filter(pk__in=[held.image.pk, held.other.pk]).update(status=ImageStatus.ENROLLED)
    assert set(watchlist_images_matchable(agreements)) == {held.image, held.other}
    done = sars.subject_request_restrict_processing(
        actor=cast.met_dpo, request=request, ref=ref, restricted=True, reason="Accuracy contested."
    )
    assert done.outcome == "done"
    assert set(watchlist_images_matchable(agreements)) == {held.other}
    assert AuditEvent.objects.filter(event="watchlist_image.restricted", target_id=str(held.image.pk)).exists()
    sars.subject_request_restrict_processing(
        actor=cast.met_dpo, request=request, ref=ref, restricted=False, reason="Accuracy confirmed."
    )
    assert set(watchlist_images_matchable(agreements)) == {held.image, held.other}


def test_rectification_is_audited_before_and_after(cast, held):
    request, _ = _confirmed(cast, held, actor=cast.met_dpo, regime="dpa_part3", right="rectification")
    ref = f"watchlist-image:{held.image.pk}"
    done = sars.subject_request_rectify(
        actor=cast.met_dpo,
        request=request,
        ref=ref,
        field="custody_reference",
        value="CUST/77/1A",
        reason="Wrong custody record.",
    )
    assert (done.outcome, done.before, done.after) == ("done", "CUST/77/1", "CUST/77/1A")
    assert WatchlistImage.objects.get(pk=held.image.pk).custody_reference == "CUST/77/1A"
    event = AuditEvent.objects.get(event="watchlist_image.rectified")
    assert event.details["before"] == "CUST/77/1" and event.details["after"] == "CUST/77/1A"
    with pytest.raises(ValidationFailed):
        sars.subject_request_rectify(
            actor=cast.met_dpo, request=request, ref=ref, field="subject_reference", value="X", reason="No."
        )
