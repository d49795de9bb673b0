"""The agreement lifecycle rules: who may move an agreement forward, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.agreements import services
from governance.agreements.models import AgreementStatus
from governance.agreements.rules import agreement_rule_breaches
from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from tests.conftest import agreement_terms, approved_dpia, approved_policy, signed_pdf

pytestmark = pytest.mark.django_db


def test_draft_is_created_by_a_party_dpo_and_audited(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.reference.startswith("DSA-")
    event = AuditEvent.objects.get(event="agreement.drafted", target_id=str(agreement.pk))
    assert event.actor_username == "dpo.estate" and event.action == "collection"


def test_non_party_cannot_draft_for_others(cast):
    with pytest.raises(PermissionRefused) as refusal:
        services.agreement_draft(actor=cast.other_dpo, fields=agreement_terms(cast))
    assert refusal.value.code == "not_a_party"


def test_reviewer_role_cannot_draft(cast):
    with pytest.raises(PermissionRefused):
        services.agreement_draft(actor=cast.estate_reviewer, fields=agreement_terms(cast))


def test_submit_refuses_incomplete_ico_contents(cast):
    agreement = services.agreement_draft(
        actor=cast.estate_dpo, fields=agreement_terms(cast, sanctions="", breach_handling="")
    )
    with pytest.raises(ValidationFailed) as refusal:
        services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    assert refusal.value.code == "ico_contents_missing"
    assert "sanctions" in refusal.value.message and "breach handling" in refusal.value.message
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT


def test_end_before_start_is_refused(cast):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed):
        services.agreement_draft(
            actor=cast.estate_dpo, fields=agreement_terms(cast, starts_on=today, ends_on=today - timedelta(days=1))
        )


def test_unit_level_approval_is_refused(cast, submitted_agreement):
    """The 'no local agreements' rule: Camden (a unit) cannot approve its own agreement."""
    with pytest.raises(PermissionRefused) as refusal:
        services.agreement_approve(actor=cast.camden_dpo, agreement=submitted_agreement)
    assert refusal.value.code == "local_level_approval"
    submitted_agreement.refresh_from_db()
    assert submitted_agreement.status == AgreementStatus.SUBMITTED


def test_another_force_cannot_approve(cast, submitted_agreement):
    with pytest.raises(NotFound):
        services.agreement_approve(actor=cast.btp_dpo, agreement=submitted_agreement)


def test_approval_refused_without_regulator_notification(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    with pytest.raises(StateConflict) as refusal:
        services.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refusal.value.code == "regulator_not_notified"


def test_approval_refused_without_countersignature(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_record_regulator_notification(
        actor=cast.met_dpo,
        agreement=agreement,
        notified_on=timezone.localdate(),
        reference="R-1",
        notified_by="M. Hale",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    with pytest.raises(StateConflict) as refusal:
        services.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refusal.value.code == "not_countersigned"


def test_only_the_operator_countersigns(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    with pytest.raises(PermissionRefused):
        services.agreement_countersign(actor=cast.met_dpo, agreement=agreement)


def test_force_approval_activates_agreement_in_its_window(cast, submitted_agreement):
    agreement = services.agreement_approve(actor=cast.met_dpo, agreement=submitted_agreement)
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.approving_organisation == cast.met
    events = list(AuditEvent.objects.filter(target_id=str(agreement.pk)).values_list("event", flat=True))
    assert events[-2:] == ["agreement.approved", "agreement.activated"]
    assert agreement_rule_breaches(agreement) == []


def test_approved_agreement_activates_and_expires_by_date_without_a_click(cast):
    today = timezone.localdate()
    agreement = services.agreement_draft(
        actor=cast.estate_dpo,
        fields=agreement_terms(
            cast,
            starts_on=today + timedelta(days=10),
            ends_on=today + timedelta(days=40),
            review_on=today + timedelta(days=30),
        ),
    )
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=today,
        reference="R-2",
        notified_by="D. Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.met_dpo)
    agreement = services.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert agreement.status == AgreementStatus.APPROVED

    assert services.agreements_apply_dates() == {"activated": 0, "expired": 0}
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        assert services.agreements_apply_dates() == {"activated": 1, "expired": 0}
        agreement.refresh_from_db()
        assert agreement.status == AgreementStatus.ACTIVE
    with time_machine.travel(timezone.now() + timedelta(days=41), tick=False):
        assert services.agreements_apply_dates() == {"activated": 0, "expired": 1}
        agreement.refresh_from_db()
        assert agreement.status == AgreementStatus.EXPIRED
        # Idempotent: a second run changes nothing.
        assert services.agreements_apply_dates() == {"activated": 0, "expired": 0}


def test_scheduled_task_applies_dates(cast, submitted_agreement):
    """The beat entry runs the same service (here through Celery's task machinery, in-process)."""
    from governance.tasks import agreements_apply_dates_task

    agreement = services.agreement_approve(actor=cast.met_dpo, agreement=submitted_agreement)
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        result = agreements_apply_dates_task.delay()
        assert result.get() == {"activated": 0, "expired": 1}
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED


def test_review_date_passing_raises_a_warning(cast, active_agreement):
    with time_machine.travel(timezone.now() + timedelta(days=200), tick=False):
        breaches = agreement_rule_breaches(active_agreement)
    assert [b.code for b in breaches] == ["review_overdue"]
    assert breaches[0].severity == "warning"


def test_terminate_needs_reason_and_is_audited_with_it(cast, active_agreement):
    with pytest.raises(ValidationFailed):
        services.agreement_terminate(actor=cast.met_dpo, agreement=active_agreement, reason=" ")
    agreement = services.agreement_terminate(
        actor=cast.met_dpo, agreement=active_agreement, reason="Operator breached security terms"
    )
    assert agreement.status == AgreementStatus.TERMINATED
    event = AuditEvent.objects.get(event="agreement.terminated")
    assert event.justification == "Operator breached security terms"


def test_amendment_is_a_new_version_that_supersedes_on_approval(cast, active_agreement):
    amendment = services.agreement_amend(
        actor=cast.estate_dpo, agreement=active_agreement, summary="Raise the image cap"
    )
    assert (amendment.reference, amendment.version, amendment.status) == (
        active_agreement.reference,
        2,
        AgreementStatus.DRAFT,
    )
    services.agreement_update(actor=cast.estate_dpo, agreement=amendment, fields={"max_images": 40})
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=amendment,
        notified_on=timezone.localdate(),
        reference="R-3",
        notified_by="D. Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=amendment, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=amendment)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=amendment)
    active_agreement.refresh_from_db()
    assert active_agreement.status == AgreementStatus.ACTIVE  # still in force until the amendment is approved
    amendment = services.agreement_approve(actor=cast.met_dpo, agreement=amendment)
    active_agreement.refresh_from_db()
    assert amendment.status == AgreementStatus.ACTIVE and amendment.max_images == 40
    assert active_agreement.status == AgreementStatus.SUPERSEDED


def test_renewal_creates_a_successor(cast, active_agreement):
    start = active_agreement.ends_on + timedelta(days=1)
    successor = services.agreement_renew(
        actor=cast.estate_dpo,
        agreement=active_agreement,
        starts_on=start,
        ends_on=start + timedelta(days=365),
        review_on=start + timedelta(days=180),
    )
    assert successor.predecessor == active_agreement and successor.reference != active_agreement.reference
    assert successor.status == AgreementStatus.DRAFT


def test_submitted_agreement_cannot_be_edited(cast, submitted_agreement):
    with pytest.raises(StateConflict):
        services.agreement_update(actor=cast.estate_dpo, agreement=submitted_agreement, fields={"max_images": 99})


def test_signed_document_must_be_a_pdf(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    with pytest.raises(ValidationFailed) as refusal:
        services.agreement_attach_signed_document(
            actor=cast.estate_dpo, agreement=agreement, document=SimpleUploadedFile("x.pdf", b"\xff\xd8\xff not a pdf")
        )
    assert refusal.value.code == "not_a_pdf"


def test_historical_borough_agreement_shows_the_rules_it_broke(cast):
    agreement = services.agreement_record_historical(
        actor=None,
        fields=agreement_terms(
            cast,
            breach_handling="",
            sanctions="",
            termination_terms="",
            starts_on=timezone.localdate().replace(year=2016, month=5, day=1),
            ends_on=timezone.localdate().replace(year=2018, month=3, day=31),
            review_on=timezone.localdate().replace(year=2017, month=5, day=1),
        ),
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.camden,
        approved_by_name="Camden BCU",
        historical_notes="Local agreement.",
    )
    codes = {b.code for b in agreement_rule_breaches(agreement)}
    assert {"local_level_approval", "regulator_not_notified", "no_signed_document", "ico_contents_missing"} <= codes
