"""The appropriate policy document (DPA 2018 s.42): states and versions, scoping, its s.42(3)
retention rule, and its pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.agreements.models import Schedule8Condition
from governance.audit.models import AuditEvent
from governance.dpia import policy_services as policies
from governance.dpia.models import PolicyDocument, PolicyStatus
from governance.dpia.policy_access import policies_visible_to, policy_for
from governance.dpia.rules import policy_kept_until
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.retention.registry import retention_rule
from governance.retention.services import retention_sweep
from governance.watchlist.models import DeletionCertificate

pytestmark = pytest.mark.django_db


def policy_fields(**overrides) -> dict:
    fields = {
        "title": "Sensitive processing for live facial recognition",
        "schedule8_conditions": [Schedule8Condition.STATUTORY_PURPOSES, Schedule8Condition.SAFEGUARDING],
        "compliance_procedures": "Lawfulness: each deployment under an approved DPIA and a sharing agreement.",
        "retention_policy": "Non-match templates deleted at once; alerts after 30 days; watchlists within 24 hours.",
        "processing_description": "Matching faces at Granary Square against police watchlists.",
        "review_on": timezone.localdate() + timedelta(days=365),
    }
    return fields | overrides


def approved_policy(cast, **overrides) -> PolicyDocument:
    policy = policies.policy_draft(actor=cast.estate_dpo, fields=policy_fields(**overrides))
    return policies.policy_approve(actor=cast.estate_dpo2, policy=policy)


def events(policy: PolicyDocument) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="governance.policydocument", target_id=str(policy.pk))
        .order_by("sequence")
        .values_list("event", flat=True)
    )


# --- states and versions -----------------------------------------------------------------------------


def test_draft_is_edited_in_place_and_approved_by_the_controllers_dpo(cast):
    policy = policies.policy_draft(actor=cast.estate_dpo, fields=policy_fields(compliance_procedures=""))
    assert (policy.reference, policy.version, policy.status) == (policy.reference, 1, PolicyStatus.DRAFT)
    with pytest.raises(ValidationFailed) as refused:
        policies.policy_approve(actor=cast.estate_dpo2, policy=policy)
    assert refused.value.code == "policy_incomplete"

    edited = policies.policy_edit(
        actor=cast.estate_dpo, policy=policy, fields={"compliance_procedures": "Principle by principle."}
    )
    assert edited.pk == policy.pk and edited.version == 1
    approved = policies.policy_approve(actor=cast.estate_dpo2, policy=edited)
    assert approved.status == PolicyStatus.APPROVED and approved.approved_by == cast.estate_dpo2
    assert events(policy) == ["policy_document.drafted", "policy_document.edited", "policy_document.approved"]
    with pytest.raises(StateConflict):
        policies.policy_approve(actor=cast.estate_dpo2, policy=approved)


def test_unknown_schedule8_condition_is_refused(cast):
    with pytest.raises(ValidationFailed) as refused:
        policies.policy_draft(actor=cast.estate_dpo, fields=policy_fields(schedule8_conditions=["sch8_99"]))
    assert refused.value.code == "unknown_condition"


def test_editing_an_approved_policy_makes_a_new_version_that_supersedes_it_when_approved(cast):
    v1 = approved_policy(cast)
    with pytest.raises(ValidationFailed):  # a new version says what it changes
        policies.policy_edit(actor=cast.estate_dpo, policy=v1, fields={"title": "Renamed"})
    v2 = policies.policy_edit(
        actor=cast.estate_dpo, policy=v1, fields={"retention_policy": "Alerts after 14 days."}, change_summary="Shorter"
    )
    assert (v2.reference, v2.version, v2.status, v2.previous_version) == (v1.reference, 2, PolicyStatus.DRAFT, v1)
    v1.refresh_from_db()
    assert v1.status == PolicyStatus.APPROVED and v1.retention_policy.startswith("Non-match")  # still in force
    with pytest.raises(StateConflict):  # one next version at a time
        policies.policy_edit(actor=cast.estate_dpo, policy=v1, fields={"title": "Again"}, change_summary="again")

    policies.policy_approve(actor=cast.estate_dpo2, policy=v2)
    v1.refresh_from_db()
    assert v1.status == PolicyStatus.SUPERSEDED
    assert events(v1)[-1] == "policy_document.superseded"
    assert events(v2) == ["policy_document.revised", "policy_document.approved"]


# --- access ----------------------------------------------------------------------------------------


def test_another_organisation_gets_not_found_and_the_regulator_reads_but_changes_nothing(cast):
    policy = approved_policy(cast)
    for outsider in (cast.other_dpo, cast.met_dpo, cast.btp_dpo):
        with pytest.raises(NotFound):
            policy_for(outsider, policy.pk)
        assert not policies_visible_to(outsider).exists()
    assert policy_for(cast.regulator, policy.pk) == policy
    for to in ("change", "approve", "end"):
        with pytest.raises(PermissionRefused):
            policy_for(cast.regulator, policy.pk, to=to)
    with pytest.raises(PermissionRefused):
        policies.policy_edit(actor=cast.regulator, policy=policy, fields={"title": "x"}, change_summary="x")
    with pytest.raises(PermissionRefused):
        policies.policy_draft(actor=cast.regulator, fields=policy_fields())
    with pytest.raises(NotFound):  # the estate's reviewer has no role that reads them (as for DPIAs)
        policy_for(cast.estate_reviewer, policy.pk, to="change")


def test_a_force_and_its_units_read_each_others_policies(cast):
    policy = policies.policy_draft(actor=cast.met_dpo, fields=policy_fields())
    assert policy_for(cast.camden_dpo, policy.pk) == policy
    with pytest.raises(PermissionRefused):  # but only the controller's DPO acts
        policy_for(cast.camden_dpo, policy.pk, to="approve")
    with pytest.raises(NotFound):
        policy_for(cast.estate_dpo, policy.pk)


# --- s.42(3) retention ----------------------------------------------------------------------------------


def test_kept_six_months_after_the_processing_ends_then_erased_with_certificate_and_audit_event(cast):
    v1 = approved_policy(cast)
    v2 = policies.policy_edit(actor=cast.estate_dpo, policy=v1, fields={"title": "v2"}, change_summary="Review")
    policies.policy_approve(actor=cast.estate_dpo2, policy=v2)
    ended_on = timezone.localdate() - timedelta(days=1)
    policies.policy_record_processing_end(actor=cast.estate_dpo, policy=v2, ended_on=ended_on)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.processing_ended_on == ended_on  # every version is kept from the same end
    assert v1.kept_until == v2.kept_until == policy_kept_until(ended_on)

    rule = retention_rule("policy_document.processing_ended")
    last_kept_day = v2.kept_until  # s.42(3): kept until six months after the end

    def noon(day):
        return timezone.make_aware(datetime.combine(day, time(12)))

    assert not rule.due(noon(last_kept_day)).exists()
    retention_sweep(at=noon(last_kept_day), triggered_by="test")
    v2.refresh_from_db()
    assert v2.erased_at is None and v2.compliance_procedures

    run = retention_sweep(at=noon(last_kept_day + timedelta(days=1)), triggered_by="test")
    assert run.erased_counts.get("policy_document.processing_ended") == 2
    again = retention_sweep(at=noon(last_kept_day + timedelta(days=2)), triggered_by="test")
    assert again.erased_counts.get("policy_document.processing_ended") == 0  # idempotent
    for version in (v1, v2):
        version.refresh_from_db()
        assert version.erased_at is not None
        assert (version.compliance_procedures, version.retention_policy, version.processing_description) == ("", "", "")
        assert version.reference and version.schedule8_conditions  # the record of its existence stays
        certificate = DeletionCertificate.objects.get(
            subject_type="governance.policydocument", subject_id=str(version.pk)
        )
        assert certificate.supplier_organisation == cast.estate and certificate.operator_organisation == cast.estate
        assert certificate.run_id == str(run.run_id)
        erasure = AuditEvent.objects.get(
            target_type="governance.policydocument", target_id=str(version.pk), event="policy_document.erased"
        )
        assert erasure.action == "erasure"
    with pytest.raises(StateConflict):
        policies.policy_edit(actor=cast.estate_dpo, policy=v2, fields={"title": "x"}, change_summary="x")


def test_ongoing_processing_is_never_due_and_the_rule_is_scoped(cast):
    approved_policy(cast)
    rule = retention_rule("policy_document.processing_ended")
    future = timezone.now() + timedelta(days=5000)
    assert not rule.due(future).exists()

    ended = approved_policy(cast)
    policies.policy_record_processing_end(
        actor=cast.estate_dpo, policy=ended, ended_on=timezone.localdate() - timedelta(days=10)
    )
    due = rule.due(future)
    assert list(due) == [ended]
    assert list(rule.visible(cast.estate_dpo, due)) == [ended]
    assert list(rule.visible(cast.regulator, due)) == [ended]
    assert not rule.visible(cast.other_dpo, due).exists()
    with pytest.raises(ValidationFailed):
        policies.policy_record_processing_end(
            actor=cast.estate_dpo, policy=ended, ended_on=timezone.localdate() + timedelta(days=1)
        )


def test_six_months_is_counted_in_calendar_months():
    assert policy_kept_until(date(2026, 1, 15)) == date(2026, 7, 15)
    assert policy_kept_until(date(2026, 8, 31)) == date(2027, 2, 28)
    assert policy_kept_until(date(2026, 11, 30)) == date(2027, 5, 30)
    assert policy_kept_until(None) is None


# --- pages -------------------------------------------------------------------------------------------------


def test_pages_write_edit_and_approve(cast, client):
    client.force_login(cast.estate_dpo)
    assert b"policy-link" in client.get(reverse("dpia-list")).content
    data = policy_fields()
    data["review_on"] = data["review_on"].isoformat()
    response = client.post(reverse("policy-create"), data)
    policy = PolicyDocument.objects.get()
    assert response.status_code == 302 and response.url == reverse("policy-detail", args=[policy.pk])
    refused = client.post(reverse("policy-action", args=[policy.pk]), {"action": "approve"})
    policy.refresh_from_db()
    assert refused.status_code == 403 and policy.status == PolicyStatus.DRAFT  # its writer cannot approve it
    client.force_login(cast.estate_dpo2)
    client.post(reverse("policy-action", args=[policy.pk]), {"action": "approve"})
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.APPROVED

    data["title"] = "Second version"
    data["change_summary"] = "Yearly review."
    response = client.post(reverse("policy-edit", args=[policy.pk]), data)
    v2 = PolicyDocument.objects.get(version=2)
    assert response.url == reverse("policy-detail", args=[v2.pk])
    page = client.get(reverse("policy-detail", args=[v2.pk])).content.decode()
    assert "Second version" in page and "approve-policy" not in page  # the writer of v2: no approve button
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("policy-detail", args=[v2.pk])).content.decode()
    assert "approve-policy" in page

    client.force_login(cast.other_dpo)
    assert client.get(reverse("policy-detail", args=[v2.pk])).status_code == 404
    client.force_login(cast.regulator)
    page = client.get(reverse("policy-detail", args=[v2.pk])).content.decode()
    assert "Second version" in page and "approve-policy" not in page


def test_review_date_warns_on_the_list(cast, client):
    policy = approved_policy(cast, review_on=timezone.localdate() + timedelta(days=10))
    client.force_login(cast.estate_dpo)
    assert "due soon" in client.get(reverse("policy-list")).content.decode()
    assert "is due for review" in client.get(reverse("policy-detail", args=[policy.pk])).content.decode()
